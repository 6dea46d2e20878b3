# lib.sh - helpers for the sample appliance boot tests (sourced, not run).
# Builds the sample disk (cached in $top_builddir/samples/out), makes OVF
# environment ISOs and boots copies of the disk under QEMU with TCG.  KVM is
# deliberately not used: on some hosts /dev/kvm exists but is too slow or
# broken for a Linux boot, and TCG boots the sample in seconds.
. "${top_srcdir:-.}/tests/cli/lib.sh"

# A boot takes ~15 s on an idle machine but several times that when the
# machine is busy (TCG is all CPU); the limit only has to catch a hang.
BOOT_TIMEOUT=${TINY_BOOT_TIMEOUT:-180}
QEMU_PID=
cleanup() {
	if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null; fi
	rm -rf "$T_TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
# mkiso DIR ISO [plain]: "plain" leaves out the Rock Ridge and Joliet names
# (bsdtar only), so the guest sees the ISO9660 name OVF_ENV.XML.
if command -v bsdtar >/dev/null 2>&1; then
	mkiso() {
		if [ "${3:-}" = plain ]; then
			bsdtar -C "$1" --format iso9660 --options '!rockridge,!joliet' -cf "$2" ovf-env.xml
		else
			bsdtar -C "$1" --format iso9660 -cf "$2" ovf-env.xml
		fi
	}
elif command -v xorriso >/dev/null 2>&1; then
	mkiso() { xorriso -as mkisofs -quiet -R -J -o "$2" "$1/ovf-env.xml"; }
elif command -v genisoimage >/dev/null 2>&1; then
	mkiso() { genisoimage -quiet -R -J -o "$2" "$1/ovf-env.xml"; }
else
	skip "no ISO9660 writer (Debian package libarchive-tools for bsdtar)"
fi

# Build the sample (a no-op apart from the image assembly when cached).
SAMPLE_OUT=${top_builddir:-$top_srcdir}/samples/out
sh "$top_srcdir/samples/build-tiny.sh" "$SAMPLE_OUT" >"$T_TMP/build.log" 2>&1
rc=$?
if [ $rc -eq 3 ]; then
	sed 's/^/  | /' "$T_TMP/build.log" | tail -5
	skip "the kernel package could not be obtained (offline?)"
elif [ $rc -ne 0 ]; then
	fail "samples/build-tiny.sh failed (exit $rc)"
	sed 's/^/  | /' "$T_TMP/build.log" | tail -20
	done_testing
	exit 1
fi
ok "the sample disk builds"
SAMPLE_DISK=$SAMPLE_OUT/tiny-disk.raw

# xml_escape: escape stdin for an XML attribute value.
xml_escape() {
	sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"
}
# env_iso [--plain] FILE KEY=VALUE...: an ISO9660 holding an ovf-env.xml
# (DSP8027) with these properties, as our deploy step will make it.
env_iso() {
	plain=
	[ "$1" = --plain ] && { plain=plain; shift; }
	iso=$1; shift
	d=$(mktemp -d "$T_TMP/iso.XXXXXX")
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"'
		echo '    xmlns:oe="http://schemas.dmtf.org/ovf/environment/1" oe:id="tiny">'
		echo '  <PlatformSection><Kind>ovfdeploy test</Kind></PlatformSection>'
		echo '  <PropertySection>'
		for kv in "$@"; do
			printf '    <Property oe:key="%s" oe:value="%s"/>\n' "${kv%%=*}" \
				"$(printf '%s\n' "${kv#*=}" | xml_escape)"
		done
		echo '  </PropertySection>'
		echo '</Environment>'
	} >"$d/ovf-env.xml"
	mkiso "$d" "$iso" $plain
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# qemu_start LOG DISK [QEMU ARGS...]: boot DISK (a virtio disk) in the
# background, console to LOG.
qemu_start() {
	log=$1 disk=$2; shift 2
	: >"$log"
	qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
		-drive "file=$disk,if=virtio,format=raw" "$@" </dev/null >"$log" 2>&1 &
	QEMU_PID=$!
}
# qemu_wait SECONDS: wait for QEMU to exit by itself; 0 if it did (with exit 0).
qemu_wait() {
	n=$(($1 * 5))
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			kill "$QEMU_PID" 2>/dev/null; wait "$QEMU_PID" 2>/dev/null
			QEMU_PID=
			return 1
		fi
		sleep 0.2
	done
	wait "$QEMU_PID"
	st=$?
	QEMU_PID=
	return $st
}
# wait_line LOG PATTERN SECONDS: wait until the console shows PATTERN (a fixed
# string); fails early if QEMU has exited.
wait_line() {
	n=$(($3 * 5))
	while ! grep -qF -- "$2" "$1"; do
		n=$((n - 1))
		[ $n -le 0 ] && return 1
		kill -0 "$QEMU_PID" 2>/dev/null || { grep -qF -- "$2" "$1"; return; }
		sleep 0.2
	done
}
# console LOG: show the guest's part of a console log, for failure reports.
console() { tr -d '\r' <"$1" | grep -a -v '^[[:space:]]*$' | tail -n 25 | sed 's/^/  | /'; }
# check_line LOG STRING DESCRIPTION
check_line() {
	if grep -qF -- "$2" "$1"; then ok "$3"; else fail "$3 (no '$2' on the console)"; console "$1"; fi
}
# http_get URL: print the body; follows redirects; retries while the port
# forward is not yet answering.
http_get() {
	python3 - "$1" <<'PY'
import sys, time, urllib.request
for attempt in range(20):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
            sys.stdout.write(r.read().decode("utf-8", "replace"))
        sys.exit(0)
    except Exception as e:
        err = e
        time.sleep(0.5)
sys.stderr.write("GET %s: %s\n" % (sys.argv[1], err))
sys.exit(1)
PY
}
# monitor SOCKET COMMAND: send a command to QEMU's human monitor, started with
# -monitor unix:SOCKET,server=on,wait=off.
monitor() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
buf = b""
while b"(qemu)" not in buf:
    buf += s.recv(4096)
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.2)
s.close()
PY
}
