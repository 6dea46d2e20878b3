#!/bin/sh
# boot-oneshot.sh - the sample appliance boots from its raw disk under QEMU,
# reads its properties from the OVF environment on an IDE CD-ROM (as `-cdrom`
# attaches it), prints them and what hardware it sees, prints APPLIANCE READY
# and, with appliance.oneshot=true, powers itself off so that QEMU exits.
# Then the same disk boots without an environment: the descriptor's defaults
# apply, the boot count shows what the first boot wrote survived, and the ACPI
# power button (what a graceful stop presses) powers it off.
. "${top_srcdir:-.}/tests/sample/lib.sh"

# The defaults /init falls back to must be the descriptor's.
ovf=$top_srcdir/samples/tiny.ovf
init=$top_srcdir/samples/tiny/init
for p in greeting http_port oneshot; do
	want=$(tr '\n' ' ' <"$ovf" | sed -n "s/.*ovf:key=\"$p\"[^>]*ovf:value=\"\([^\"]*\)\".*/\1/p")
	got=$(sed -n "s/^DEFAULT_$p=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$init")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then ok "default $p matches tiny.ovf ($got)"
	else fail "default $p: tiny.ovf says '$want', /init says '$got'"; fi
done

greeting="oneshot test $$ <b>&amp;</b> \"quoted\" it's"
env_iso "$T_TMP/env.iso" "appliance.greeting=$greeting" appliance.http_port=80 appliance.oneshot=true
cp "$SAMPLE_DISK" "$T_TMP/disk.raw"
port=$(free_port)
start=$(date +%s)
c=$T_TMP/console1
qemu_start "$c" "$T_TMP/disk.raw" -cdrom "$T_TMP/env.iso" \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-pci,netdev=n0
if qemu_wait "$BOOT_TIMEOUT"; then ok "QEMU exits by itself, with status 0 (power-off)"
else fail "QEMU did not power off within $BOOT_TIMEOUT s"; fi
echo "# boot to power-off: $(($(date +%s) - start)) s"
check_line "$c" "OVF environment found on /dev/sr0" "the environment CD is found"
check_line "$c" "property appliance.greeting=$greeting" "the greeting is printed, entities decoded"
check_line "$c" "property appliance.oneshot=true" "the oneshot property is printed"
if grep -Eq "^cpus=1 memory_kib=[0-9]+ ram_mib=256" "$c"; then ok "the guest sees 1 CPU and 256 MiB"
else fail "the guest does not report 1 CPU and 256 MiB"; console "$c"; fi
check_line "$c" "boot count 1" "the first boot is counted"
check_line "$c" "tiny: network eth0 address 10.0.2.15" "eth0 gets an address by DHCP"
check_line "$c" "APPLIANCE READY" "the appliance is ready"
check_line "$c" "powering off (oneshot)" "oneshot powers off"
grep -a "ready .* s after the kernel started" "$c" | sed 's/^/# /'

# Second boot of the same disk, without an environment.
port=$(free_port)
c=$T_TMP/console2
qemu_start "$c" "$T_TMP/disk.raw" -monitor "unix:$T_TMP/mon,server=on,wait=off" \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-pci,netdev=n0
if wait_line "$c" "APPLIANCE READY" "$BOOT_TIMEOUT"; then ok "the second boot is ready"
else fail "no APPLIANCE READY within $BOOT_TIMEOUT s"; console "$c"; fi
check_line "$c" "no OVF environment found; using the descriptor defaults" "the missing environment is reported"
check_line "$c" "greeting=Hello from a tiny appliance http_port=80 oneshot=false" "the defaults are printed"
check_line "$c" "boot count 2" "the boot count survives a power-off"
if http_get "http://127.0.0.1:$port/" >"$T_TMP/page" 2>"$T_TMP/err"; then ok "GET / answers on port 80"
else fail "GET / failed: $(cat "$T_TMP/err")"; fi
expect_grep "<h1>Hello from a tiny appliance</h1>" "$T_TMP/page" "the page shows the default greeting"
if monitor "$T_TMP/mon" system_powerdown 2>"$T_TMP/err"; then ok "the power button is pressed"
else fail "cannot reach the QEMU monitor: $(cat "$T_TMP/err")"; fi
if qemu_wait 60; then ok "QEMU exits after the ACPI power button"
else fail "QEMU still runs 60 s after the power button"; console "$c"; fi
check_line "$c" "powering off (ACPI power button)" "the console tells why it powers off"
done_testing
