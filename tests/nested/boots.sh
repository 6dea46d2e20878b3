#!/bin/sh
# boots.sh - the sample appliance boots to APPLIANCE READY through the
# embedded runner on real hardware-assisted KVM (tests/nested/README.md):
# SeaBIOS from the disk read in place inside the OVA (the large option: 2
# CPUs, 512 MiB), from a raw and from a qcow2 copy; the bzImage and, through
# its PVH entry point, the vmlinux booted directly.  The guest's clock is
# kvmclock and agrees with ours within 2 s, and its kernel warns no more
# than under QEMU with KVM on the same disk.  A triple fault ends a run as
# a reset that says where the vCPU was.
. "${top_srcdir:-.}/tests/nested/lib.sh"

# run_vm NAME ENV-PROPS -- RUN-ARGS...: `ovfdeploy run` of a fresh raw copy
# of the sample (unless RUN-ARGS name their own disk) with an environment
# ISO; the console in NAME.log, the exit status in NAME.rc, the clock
# reading in NAME.clock.
run_vm() {
	name=$1 props=$2; shift 3
	env_iso "$name.iso" $props
	: >"$name.log"
	timeout -k 5 $((BOOT_TIMEOUT + 30)) "$O" run --memory 256M "$@" --disk "$name.iso,readonly" --console "file:$T_TMP/$name.log" \
		--timeout "$BOOT_TIMEOUT" >"$name.out" 2>&1 &
	pid=$!
	clock_watch "$name.log" $pid >"$name.clock"
	wait $pid
	echo $? >"$name.rc"
}
# ready NAME DESCRIPTION: the run ended at the guest's power-off, after READY
ready() {
	if [ "$(cat "$1.rc")" = 0 ] && grep -aq "APPLIANCE READY" "$1.log" && grep -aq "powering off" "$1.log"; then
		ok "$2: APPLIANCE READY, then power-off and exit 0"
	else
		fail "$2 (exit $(cat "$1.rc"))"; console "$1.log"; sed 's/^/  run| /' "$1.out"
	fi
}
diag="appliance.oneshot=true appliance.diagnostics=true"

# 1. The OVA in place: the stream VMDK under a qcow2 overlay; large option.
s=$(date +%s)
timeout "$BOOT_TIMEOUT" "$O" "$OVA" --accept-eula --backend embedded --name big --deployment-option large \
	--prop appliance.oneshot=true </dev/null >big.log 2>big.err
rc=$?
if reset_fault big.log big.err; then
	echo "# the deploy's boot reset in SYSLINUX (issue 14's known fault); its console, then one more start:"
	console big.log
	timeout "$BOOT_TIMEOUT" "$O" start -f big </dev/null >big.log 2>>big.err
	rc=$?
fi
echo "# deploy to power-off: $(($(date +%s) - s)) s"
[ $rc -eq 0 ] && grep -aq "APPLIANCE READY" big.log && ok "tiny.ova through the embedded runner: READY, power-off, exit 0" ||
	{ fail "tiny.ova through the embedded runner (exit $rc)"; console big.log; sed 's/^/  err| /' big.err; }
expect_grep "embedded" big.err "the embedded runner was used"
expect_grep "^cpus=2 memory_kib=[0-9]+ ram_mib=512" big.log "the large option: the guest sees 2 CPUs and 512 MiB"
check_line big.log "boot count 1" "the guest writes its disk (through the overlay)"
used=$(du -sk "$OVFDEPLOY_HOME/instances/big" | cut -f1)
[ "$used" -lt 4096 ] && ok "the instance holds no copy of the disk (${used} KiB)" || fail "the instance takes ${used} KiB"

# 2. A raw copy, with the guest's diagnostics: clock and kernel warnings.
cp "$DISK" raw.img
run_vm raw "$diag" -- --disk raw.img
ready raw "SeaBIOS boot of a raw copy"
check_line raw.log "tiny: clocksource kvm-clock" "the guest's clock source is kvmclock"
read -r g h <raw.clock
if [ -n "${h:-}" ] && [ "$h" != late ] && python3 -c "import sys; sys.exit(abs($g - $h) > 2)"; then
	ok "the guest's date is within 2 s of ours (guest $g, here $h)"
else fail "the guest's date ${g:-?} is not within 2 s of ours (${h:-?})"; fi
dmesg_of raw.log >raw.dmesg

# 3. The bzImage directly, the initramfs from the disk.
mcopy -i "$DISK@@1M" ::/initrd.gz initrd.gz || fail "cannot read the initramfs from the disk"
cp "$DISK" direct.img
run_vm direct "$diag" -- --kernel "$KERNEL" --initrd initrd.gz --append "console=ttyS0 quiet panic=5" --disk direct.img
ready direct "direct boot of the bzImage"

# A triple fault (which PVM cannot show: its emulator gives up instead)
# ends the run as a reset that says where the vCPU was.
if gcc -m32 -c -o triple.o "$top_srcdir/tests/runner/triple_guest.S" &&
	ld -m elf_i386 -T "$top_srcdir/tests/runner/guest.ld" -o triple.bin triple.o; then
	"$O" run -v --memory 16M --firmware triple.bin --console file:triple.out --timeout 20 2>triple.err
	echo "rc=$?" >>triple.err
	expect_grep "the machine ended: reset \(triple fault on vCPU 0( at 0008:[0-9a-f]+ \(cr0 [0-9a-f]+\))?\)$" triple.err \
		"a triple fault ends the run as a reset, saying so (and where the vCPU was, where KVM keeps it: not on AMD)"
	expect_grep "^rc=0$" triple.err "... with exit status 0"
else
	fail "cannot build triple_guest.S"
fi

if few; then
	echo "# sanitizer build: the qcow2, PVH and QEMU comparison boots are left to the plain pass"
	done_testing; exit
fi

# 4. A qcow2 copy.
"$O" -q convert -O qcow2 "$DISK" disk.qcow2 || fail "cannot convert the disk to qcow2"
run_vm qcow2 "appliance.oneshot=true" -- --disk disk.qcow2
# Known intermittent fault (issue 14's note): about one run in several, the
# guest resets right after SYSLINUX starts from the qcow2 copy and the run
# ends without APPLIANCE READY.  Until it is found, show the failed console
# and boot once more from a fresh copy: two failures in a row fail the test.
if ! { [ "$(cat qcow2.rc)" = 0 ] && grep -aq "APPLIANCE READY" qcow2.log; }; then
	echo "# the qcow2 boot failed once (exit $(cat qcow2.rc)); its console, then one more boot:"
	console qcow2.log
	"$O" -q convert -O qcow2 "$DISK" disk.qcow2 || fail "cannot convert the disk to qcow2"
	run_vm qcow2 "appliance.oneshot=true" -- --disk disk.qcow2
fi
ready qcow2 "SeaBIOS boot of a qcow2 copy"
"$O" -q check disk.qcow2 && ok "the qcow2 copy checks clean after the guest wrote it" || fail "the qcow2 copy does not check"

# 5. The vmlinux inside the bzImage, through its PVH entry point.
if python3 "$top_srcdir/tests/runner/extract-vmlinux.py" "$KERNEL" vmlinux 2>x.err; then
	cp "$DISK" pvh.img
	run_vm pvh "$diag" -- --kernel vmlinux --initrd initrd.gz --append "console=ttyS0 quiet panic=5" --disk pvh.img
	# Once in CI (session 9) this run exited 0 with an empty console and
	# no output, not reproduced in 3 runs since: show what it left, with
	# the runner's end line, and boot once more; two in a row fail.
	if ! { [ "$(cat pvh.rc)" = 0 ] && grep -aq "APPLIANCE READY" pvh.log && grep -aq "powering off" pvh.log; }; then
		echo "# the PVH boot failed once (exit $(cat pvh.rc), $(wc -c <pvh.log) bytes of console); its console and output, then one more boot:"
		console pvh.log
		sed 's/^/#  run| /' pvh.out
		cp "$DISK" pvh.img
		run_vm pvh "$diag" -- --kernel vmlinux --initrd initrd.gz --append "console=ttyS0 quiet panic=5" --disk pvh.img
	fi
	ready pvh "PVH boot of the vmlinux"
else
	fail "no vmlinux from $KERNEL: $(cat x.err)"
fi

# 6. QEMU with KVM, same disk and environment: the kernel's warnings and
# errors under the embedded runner are a subset of QEMU's.
cp "$DISK" q.img
env_iso q.iso $diag
timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel kvm -m 256 -display none -no-reboot -nodefaults -serial "file:$T_TMP/q.log" \
	-drive file=q.img,if=virtio,format=raw -drive file=q.iso,if=virtio,format=raw,readonly=on </dev/null >q.out 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -aq "tiny: dmesg end" q.log; then
	dmesg_of q.log >q.dmesg
	# timing noise of a loaded nested machine, not the runner's doing: the
	# APIC calibration, and the clocksource watchdog finding the TSC skewed
	# against kvm-clock (seen with other builds running beside the bed)
	comm -23 raw.dmesg q.dmesg | grep -v -e 'APIC calibration not consistent with PM-Timer' -e '^clocksource: ' >extra.dmesg
	if [ -s extra.dmesg ]; then
		fail "the embedded runner's boot warns where QEMU's does not:"; sed 's/^/  | /' extra.dmesg
	else ok "the kernel warns no more than under QEMU with KVM ($(wc -l <raw.dmesg) lines, QEMU $(wc -l <q.dmesg))"; fi
else
	fail "QEMU with KVM did not boot the sample (exit $rc)"; console q.log; cat q.out
fi
done_testing
