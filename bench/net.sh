#!/bin/sh
# net.sh - TCP throughput from a Linux guest to the host through --forward,
# in the nested test bed (tests/nested/run-in-guest: real hardware-assisted
# KVM under QEMU/TCG), on the embedded runner's two NICs:
#   vmxnet3   --net user,...,model=vmxnet3 (Linux's vmxnet3, TSO on)
#   virtio    --net user,... (virtio-net)
# Each guest (Debian's kernel booted directly, an initramfs with busybox and
# both drivers) sets 10.0.2.15 on eth0 and serves a MIB MiB file with
# busybox httpd; the host fetches it RUNS times and prints MB/s of each
# fetch and of the median.
# Usage: bench/net.sh [BUILDDIR]   Env: RUNS (default 3), MIB (32),
# TINY_CACHE (the kernel), OVFDEPLOY_NESTED_BED (run-in-guest).
# Not a test: it prints figures and takes a few minutes.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src}
OVFDEPLOY=$(cd "$build" && pwd)/ovfdeploy
bed=${OVFDEPLOY_NESTED_BED:-$src/tests/nested/run-in-guest}
runs=${RUNS:-3}
mib=${MIB:-32}
die() { echo "net.sh: $*" >&2; exit 1; }
[ -x "$bed" ] || die "no nested test bed at $bed"
. "$src/tests/runner/initramfs.sh"
cache=${TINY_CACHE:-$build/samples/out/cache}
initramfs_kernel "$cache" || die "no unpacked kernel in $cache (make sample, or set TINY_CACHE)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-net.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mods="vmxnet3 virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"
# shellcheck disable=SC2086 # one word a module
initramfs_mods "$moddir" "$tmp/mods" $mods || die "module $initramfs_missing is not in $kdir"
cat >"$tmp/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo INIT
while read -r m; do insmod /lib/modules/\$m.ko 2>/dev/null; done </modules
n=0
while [ ! -e /sys/class/net/eth0 ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n + 1)); done
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2
echo "DRIVER \$(basename \$(readlink /sys/class/net/eth0/device/driver))"
mkdir -p /www && dd if=/dev/urandom of=/www/big bs=1M count=$mib 2>/dev/null
httpd -p 80 -h /www
echo READY
while :; do sleep 60; done
EOF
initramfs_build "$tmp/initrd" /bin/busybox "$tmp/init" "$tmp/mods" || die "initramfs"

cat >"$tmp/in.sh" <<EOF
for nic in vmxnet3 virtio; do
	port=\$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$OVFDEPLOY" run --memory 512M --kernel "$kernel" --initrd "$tmp/initrd" \\
		--append "console=ttyS0 loglevel=4" --no-rng --net user,hostfwd=tcp:127.0.0.1:\$port-:80,model=\$nic \\
		--console file:$tmp/\$nic.txt --timeout 300 &
	pid=\$!
	n=0
	while ! grep -q READY $tmp/\$nic.txt 2>/dev/null && [ \$n -lt 1200 ]; do sleep 0.1; n=\$((n + 1)); done
	grep -q READY $tmp/\$nic.txt || { echo "\$nic: not ready"; kill \$pid; wait \$pid; continue; }
	echo "\$nic: ready after \$n tenths of a second"
	python3 - "http://127.0.0.1:\$port/big" $runs <<'PY' >$tmp/\$nic.fig
import sys, time, urllib.request
for i in range(int(sys.argv[2])):
    t = time.monotonic()
    n = len(urllib.request.urlopen(sys.argv[1], timeout=60).read())
    print("GET", n, time.monotonic() - t)
PY
	kill \$pid; wait \$pid # stopped: no acpid in this guest
done
true
EOF
echo "net.sh: $runs fetches of $mib MiB through --forward from each guest (this takes minutes)"
"$bed" --rw "$tmp" --timeout 900 -- sh "$tmp/in.sh" >"$tmp/bed.out" 2>&1 || {
	tail -n 20 "$tmp/bed.out"
	die "the nested run failed"
}
for v in vmxnet3 virtio; do
	{ tr -d '\r' <"$tmp/$v.txt" 2>/dev/null | grep -E '^DRIVER '; grep -h "^$v: not ready" "$tmp/bed.out"; } | sed "s/^/# $v: /"
	[ -n "${KEEP:-}" ] && tr -d '\r' <"$tmp/$v.txt" | tail -n 30
	awk -v v=$v '
		/^GET / { t[++n] = $3; b = $2 }
		END {
			if (!n) { printf "%-8s no figures\n", v; exit }
			s = ""; for (i = 1; i <= n; i++) s = s sprintf(" %.1f", b / t[i] / 1e6)
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
			m = t[int((n + 1) / 2)]
			printf "%-8s %7.1f MB/s  (fetches:%s)\n", v, b / m / 1e6, s
		}' "$tmp/$v.fig" | tee -a "$tmp/figures"
done
awk '{ r[$1] = $2 } END { if (r["virtio"] > 0) printf "vmxnet3 / virtio = %.2f\n", r["vmxnet3"] / r["virtio"] }' "$tmp/figures"
