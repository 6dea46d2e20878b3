# deploylib.sh - helpers for the deploy tests (sourced after tests/cli/lib.sh).

# make_tiny_app SIZE: in the current directory, the sample descriptor around
# a SIZE disk (truncate's units) holding a marker: d.raw, the unpacked
# appliance in app/ and the package tiny.ova.  Exits the test on failure.
make_tiny_app() {
	mkdir app
	truncate -s "$1" d.raw
	printf 'ovfdeploy-marker' | dd of=d.raw conv=notrunc 2>/dev/null
	"$OVFDEPLOY" -q convert -O vmdk -o subformat=streamOptimized d.raw app/tiny-disk1.vmdk &&
		cp "$top_srcdir/samples/tiny.ovf" app/ &&
		"$OVFDEPLOY" -q pack app/tiny.ovf -o tiny.ova || { fail "making the test appliance"; done_testing; exit 1; }
}

# hold_pidfile PIDFILE ex|sh: in the background, hold the lock a running
# instance's backend holds on its pid file (ex: a write lock, with the pid
# written) or an export's (sh: a read lock); $holder is its pid.  Returns
# once the lock is held (10 s at most).
hold_pidfile() {
	rm -f "$T_TMP/locked"
	python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX if sys.argv[3] == "ex" else fcntl.LOCK_SH)
if sys.argv[3] == "ex":
    os.write(fd, b"%d\n" % os.getpid())
open(sys.argv[2], "w").close()
time.sleep(60)' "$1" "$T_TMP/locked" "$2" &
	holder=$!
	i=0; while [ ! -e "$T_TMP/locked" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# ovf_add_disk2 SRC DST: SRC's descriptor with an empty 8 MiB second disk
# (disk2, "Hard disk 2" on the first disk's controller) written to DST.
ovf_add_disk2() {
	python3 - "$1" "$2" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace('  </DiskSection>',
              '  <Disk ovf:diskId="disk2" ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^20" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>\n  </DiskSection>')
s = s.replace('    </VirtualHardwareSection>', """      <Item>
        <rasd:AddressOnParent>1</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk 2</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/disk2</rasd:HostResource>
        <rasd:InstanceID>8</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>""")
open(sys.argv[2], "w").write(s)
PY
}
