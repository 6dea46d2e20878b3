# lvlib.sh - a private libvirtd for the tests/libvirt scripts (sourced after
# tests/cli/lib.sh).
#
# Debian 12's libvirt 9.0 has only the monolithic libvirtd.  Run as root,
# qemu:///session would be the system daemon, so the daemon runs as a
# dedicated unprivileged system user with every XDG folder inside one short
# test folder (UNIX socket paths are limited to 108 bytes), logs written by
# the daemon itself (no virtlogd), and --timeout as a safety net.  Guests
# outlive the daemon: lv_stop destroys them first, and kills what is left by
# PID (pid files), never by name.  QEMU's capabilities probe (~4 s cold) is
# cached in a kept folder between runs.
LV_USER=ovfdeploy-lvtest
LV_KEEP=/var/tmp/ovfdeploy-libvirt-cache
LV_PID=
LV_DIR=

lv_skip_unless_possible() {
	[ "$(id -u)" -eq 0 ] || skip "the private libvirtd is started for a dedicated user: needs root"
	command -v libvirtd >/dev/null 2>&1 || [ -x /usr/sbin/libvirtd ] || skip "libvirtd not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu)"
	command -v virsh >/dev/null 2>&1 || skip "virsh not installed (apt-get install libvirt-clients)"
	command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed"
	command -v setpriv >/dev/null 2>&1 || skip "setpriv not installed (util-linux)"
	id "$LV_USER" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$LV_USER" >/dev/null 2>&1 || skip "cannot create the test user $LV_USER"
}

# lv_start: start the daemon; sets LV_DIR, LV_URI, LV_POOL_DIR.
lv_start() {
	LV_DIR=$(mktemp -d /tmp/odlv.XXXXXX) || skip "mktemp failed"
	chmod 755 "$LV_DIR"
	mkdir -p "$LV_DIR/home" "$LV_DIR/run" "$LV_DIR/config/libvirt" "$LV_DIR/cache/libvirt/qemu" "$LV_DIR/pool"
	echo 'stdio_handler = "file"' >"$LV_DIR/config/libvirt/qemu.conf"
	cat >"$LV_DIR/libvirtd.conf" <<CONF
unix_sock_dir = "$LV_DIR/run/libvirt"
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
tcp_port = "${LV_TCP_PORT:-0}"
auth_tcp = "none"
log_outputs = "3:file:$LV_DIR/libvirtd.log"
CONF
	mkdir -p "$LV_DIR/cache/libvirt/qemu/cache"
	[ -d "$LV_KEEP/capabilities" ] && cp -a "$LV_KEEP/capabilities" "$LV_DIR/cache/libvirt/qemu/cache/"
	chown -R "$LV_USER:" "$LV_DIR"
	LV_SOCK=$LV_DIR/run/libvirt/libvirt-sock
	LV_URI="qemu+unix:///session?socket=$LV_SOCK"
	lv_daemon || { lv_stop; skip "the private libvirtd did not start"; }
	LV_POOL_DIR=$LV_DIR/pool
	virsh -q -c "$LV_URI" pool-define-as default dir --target "$LV_POOL_DIR" >/dev/null 2>&1 &&
		virsh -q -c "$LV_URI" pool-start default >/dev/null 2>&1 || { lv_stop; skip "cannot make a storage pool in the private libvirtd"; }
	export OVFDEPLOY_LIBVIRT_VIRT_TYPE=qemu  # /dev/kvm here cannot boot Linux (PVM)
}

# lv_daemon: (re)start libvirtd on LV_DIR; 1 if it does not come up.
lv_daemon() {
	rm -f "$LV_SOCK"
	listen=
	[ -n "${LV_TCP_PORT:-}" ] && listen=--listen
	setpriv --reuid="$LV_USER" --regid="$LV_USER" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$LV_DIR/home" XDG_RUNTIME_DIR="$LV_DIR/run" XDG_CONFIG_HOME="$LV_DIR/config" \
		XDG_CACHE_HOME="$LV_DIR/cache" /usr/sbin/libvirtd $listen --config "$LV_DIR/libvirtd.conf" --timeout 300 \
		>"$LV_DIR/daemon.out" 2>&1 &
	LV_PID=$!
	i=0
	while [ ! -S "$LV_SOCK" ] && [ $i -lt 100 ]; do
		kill -0 "$LV_PID" 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -S "$LV_SOCK" ]; then
		tail -5 "$LV_DIR/daemon.out" "$LV_DIR/libvirtd.log" 2>/dev/null
		return 1
	fi
	return 0
}

lv_virsh() { virsh -q -c "$LV_URI" "$@"; }

# lv_stop: destroy every guest, stop the daemon, kill leftovers by PID.
lv_stop() {
	if [ -n "$LV_PID" ] && kill -0 "$LV_PID" 2>/dev/null; then
		for d in $(virsh -q -c "$LV_URI" list --name 2>/dev/null); do
			virsh -q -c "$LV_URI" destroy "$d" >/dev/null 2>&1
		done
	fi
	for f in "$LV_DIR"/run/libvirt/qemu/run/*.pid; do
		[ -f "$f" ] || continue
		[ "${f##*/}" = driver.pid ] && continue  # the daemon itself, stopped below
		p=$(cat "$f" 2>/dev/null)
		case $p in ''|*[!0-9]*) continue ;; esac
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$LV_PID" ]; then
		kill "$LV_PID" 2>/dev/null
		i=0; while kill -0 "$LV_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$LV_PID" 2>/dev/null
		wait "$LV_PID" 2>/dev/null
	fi
	LV_PID=
	if [ -n "$LV_DIR" ] && [ -d "$LV_DIR/cache/libvirt/qemu/cache/capabilities" ] && [ ! -d "$LV_KEEP/capabilities" ]; then
		mkdir -p "$LV_KEEP" && cp -a "$LV_DIR/cache/libvirt/qemu/cache/capabilities" "$LV_KEEP/" 2>/dev/null
	fi
	[ -n "$LV_DIR" ] && rm -rf "$LV_DIR"
	LV_DIR=
}

lv_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# lv_sample: the sample appliance (built once by samples/pack-tiny.sh);
# sets LV_OVA or skips.
lv_sample() {
	command -v python3 >/dev/null || skip "python3 not installed"
	out=${top_builddir:-$top_srcdir}/samples/out
	OVFDEPLOY=$OVFDEPLOY sh "$top_srcdir/samples/pack-tiny.sh" "$out" >"$T_TMP/pack.log" 2>&1
	rc=$?
	[ $rc -eq 3 ] && skip "the sample's kernel package could not be obtained (offline?)"
	if [ $rc -ne 0 ]; then
		fail "samples/pack-tiny.sh failed (exit $rc)"; tail -20 "$T_TMP/pack.log"
		done_testing; exit 1
	fi
	LV_OVA=$(cd "$out" && pwd)/tiny.ova
}

# The pool's files, one a line, sorted (what "the pool as it was" means).
lv_pool_files() { ls -1 "$LV_POOL_DIR" | sort; }

# wait_log FILE PATTERN SECONDS
lv_wait_log() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
