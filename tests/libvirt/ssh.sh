#!/bin/sh
# ssh.sh - the remote form: qemu+ssh:// to a private sshd on 127.0.0.1 (its
# own host key, a key made for the test, nothing of root's ~/.ssh touched).
# The sample is uploaded through the SSH stream and boots to APPLIANCE
# READY with our property; a client on the local socket lists it; a key
# the server does not accept is "authentication refused"; stop and rm over
# SSH leave the pool empty.  One TCG boot.
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/libvirt/lvlib.sh"
O=$OVFDEPLOY
BOOT=${TINY_BOOT_TIMEOUT:-120}
lv_skip_unless_possible
[ -x /usr/sbin/sshd ] || skip "sshd not installed (apt-get install openssh-server)"
command -v ssh >/dev/null || skip "ssh not installed (openssh-client)"
command -v ssh-keygen >/dev/null || skip "ssh-keygen not installed (openssh-client)"
command -v nc >/dev/null || skip "nc not installed (netcat-openbsd)"
lv_sample
SSHD_PID=
trap '[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null; lv_stop; rm -rf "$T_TMP"' EXIT
lv_start
cd "$T_TMP" || exit 1
S=$T_TMP/ssh
mkdir -p "$S" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$S/client_key" &&
	ssh-keygen -q -t ed25519 -N '' -f "$S/other_key" || skip "ssh-keygen failed"
cp "$S/client_key.pub" "$S/authorized_keys"
PORT=$(lv_free_port)
cat >"$S/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
/usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
SSHD_PID=$!
i=0
while ! nc -z 127.0.0.1 "$PORT" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
nc -z 127.0.0.1 "$PORT" 2>/dev/null || { tail -5 "$S/sshd.log"; skip "the private sshd did not start"; }
# libvirt runs "ssh"; this one keeps known hosts in the test folder and
# never asks a question.
cat >"$S/ssh-wrap" <<WRAP
#!/bin/sh
exec ssh -o UserKnownHostsFile=$S/known_hosts -o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR "\$@"
WRAP
chmod +x "$S/ssh-wrap"
uri() { echo "qemu+ssh://root@127.0.0.1:$PORT/session?socket=$LV_SOCK&keyfile=$1&proxy=netcat&command=$S/ssh-wrap"; }
SSH=$(uri "$S/client_key")

expect_exit 0 "deploy over SSH" -- "$O" deploy --connect "$SSH" --accept-eula --name r1 \
	--prop appliance.greeting="over ssh $$" "$LV_OVA"
expect_exit 0 "start over SSH" -- "$O" start --connect "$SSH" r1
log=$LV_POOL_DIR/r1.console.log
if lv_wait_log "$log" "APPLIANCE READY" $BOOT; then
	ok "r1 reaches APPLIANCE READY"
	expect_grep "property appliance.greeting=over ssh $$" "$log" "the property reached the guest"
else
	fail "r1 did not become ready"; tail -5 "$log"
fi
"$O" list --connect "$LV_URI" >list.txt 2>&1
expect_grep "^r1 +running" list.txt "a client on the local socket lists it"
"$O" list --connect "$SSH" >list2.txt 2>&1
expect_grep "^r1 +running" list2.txt "and so does the SSH client"
expect_exit 3 "a key the server refuses" -- "$O" list --connect "$(uri "$S/other_key")"
expect_grep "authentication refused" "$T_TMP/err" "is reported as authentication refused"
expect_exit 0 "stop over SSH" -- "$O" stop --connect "$SSH" --timeout 0 r1
expect_exit 0 "rm over SSH" -- "$O" rm --connect "$SSH" r1
[ -z "$(lv_pool_files)" ] && ok "the pool is empty again" || fail "left: $(lv_pool_files | tr '\n' ' ')"
done_testing
