#!/bin/sh
# deploy-cli.sh - deploy end to end on a small appliance with no operating
# system: verification, EULA, properties, deployment options, instances,
# overlays, the environment CD, start/stop/list/rm through QEMU.  (The
# sample appliance's boot is tested by tests/sample.)
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
command -v python3 >/dev/null || skip "python3 not installed"
export OVFDEPLOY_HOME="$T_TMP/home"
O=$OVFDEPLOY
cd "$T_TMP"

# An appliance: the sample descriptor around a 16 MiB disk holding a marker.
make_tiny_app 16M
# A host port nobody holds now, so that parallel runs do not collide.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

count_instances() { ls "$OVFDEPLOY_HOME/instances" 2>/dev/null | wc -l; }

expect_exit 1 "an EULA must be accepted when not on a terminal" -- "$O" deploy tiny.ova </dev/null
expect_grep "accept-eula" "$T_TMP/err" "the error says how to accept"
expect_exit 1 "a value violating MinLen is refused" -- "$O" deploy tiny.ova --accept-eula --prop appliance.greeting=
expect_grep "greeting" "$T_TMP/err" "the error names the property"
expect_exit 1 "a uint16 out of range is refused" -- "$O" deploy tiny.ova --accept-eula --prop http_port=70000
expect_exit 2 "an unknown property is a usage error" -- "$O" deploy tiny.ova --accept-eula --prop nosuch=1
expect_exit 2 "an unknown deployment option is a usage error" -- "$O" deploy tiny.ova --accept-eula --deployment-option huge
expect_grep "small, large" "$T_TMP/err" "the error lists the options"
expect_exit 2 "a bad forward is a usage error" -- "$O" deploy tiny.ova --accept-eula --forward 80
[ "$(count_instances)" -eq 0 ] && ok "refused deploys leave no instance" || fail "refused deploys left an instance"

# On a terminal, the EULA is shown and asked for.
if command -v script >/dev/null; then
	printf 'n\n' | script -qec "'$O' deploy '$T_TMP/tiny.ova' --name tty1" /dev/null >tty.txt 2>&1
	expect_grep "License agreement 1 of 1" tty.txt "the EULA is shown on a terminal"
	expect_grep "declined" tty.txt "declining deploys nothing"
	[ "$(count_instances)" -eq 0 ] && ok "a declined EULA leaves no instance" || fail "a declined EULA left an instance"
	printf 'y\n' | script -qec "'$O' deploy '$T_TMP/tiny.ova' --name tty1" /dev/null >tty.txt 2>&1
	expect_grep "Deployed tty1" tty.txt "accepting on the terminal deploys"
	"$O" -q rm tty1
fi

# A tampered package (one byte of the disk member) is refused before anything is made.
cp tiny.ova bad.ova
set -- $(python3 -c "import tarfile; m=tarfile.open('bad.ova').getmember('tiny-disk1.vmdk'); print(m.offset_data, m.size)")
python3 -c "
import sys
f=open('bad.ova','r+b'); f.seek($1 + $2 // 2); b=f.read(1); f.seek($1 + $2 // 2); f.write(bytes([b[0] ^ 0xff]))"
expect_exit 1 "a tampered package is refused" -- "$O" deploy bad.ova --accept-eula --name bad
expect_grep "does not verify.*tiny-disk1.vmdk" "$T_TMP/err" "the error names the tampered member"
[ "$(count_instances)" -eq 0 ] && ok "a refused package leaves no instance" || fail "a refused package left an instance"

expect_exit 0 "deploy the large option" -- "$O" deploy tiny.ova --accept-eula --name t1 --deployment-option large \
	--prop appliance.greeting='Hi <there> & "you"' --forward $port:80
dir1="$OVFDEPLOY_HOME/instances/t1"
expect_grep '^cpus=2$' "$dir1/instance.conf" "large: 2 CPUs"
expect_grep "^memory=$((512 << 20))\$" "$dir1/instance.conf" "large: 512 MiB"
expect_grep 'oe:key="appliance.greeting" oe:value="Hi &lt;there&gt; &amp; &quot;you&quot;"' "$dir1/ovf-env.xml" \
	"the environment carries the escaped greeting"
expect_grep 'oe:key="appliance.http_port" oe:value="80"' "$dir1/ovf-env.xml" "defaults reach the environment"
if command -v xmllint >/dev/null && [ -f "$top_srcdir/schemas/ovf-environment-1.xsd" ]; then
	expect_exit 0 "the environment document is schema-valid" -- xmllint --nonet --noout --schema "$top_srcdir/schemas/ovf-environment-1.xsd" "$dir1/ovf-env.xml"
fi
# The disk is not converted or copied: the overlay's backing is a range of the OVA.
expect_exit 0 "qemu-img reads the overlay" -- qemu-img info "$dir1/disk0.qcow2"
expect_grep 'tiny.ova' "$T_TMP/out" "the overlay's backing is the OVA itself"
expect_exit 0 "the overlay shows the appliance disk (ours)" -- "$O" compare "$dir1/disk0.qcow2" d.raw
expect_exit 0 "the overlay shows the appliance disk (qemu-img)" -- qemu-img compare "$dir1/disk0.qcow2" d.raw
ova_kib=$(du -k tiny.ova | cut -f1); inst_kib=$(du -sk "$dir1" | cut -f1)
[ "$inst_kib" -lt 1024 ] && ok "the instance holds no copy of the disk (${inst_kib} KiB)" || fail "instance is ${inst_kib} KiB"

expect_exit 2 "a second instance of the same name is refused" -- "$O" deploy tiny.ova --accept-eula --name t1
expect_exit 0 "deploy a second instance" -- "$O" -q deploy tiny.ova --accept-eula --name t2
# Two instances share nothing writable: a write to t1's disk is not seen by t2.
qemu-io -f qcow2 -c 'write -P 0x55 0 64k' "$dir1/disk0.qcow2" >/dev/null 2>&1
expect_exit 1 "t1's write shows in t1" -- "$O" compare "$dir1/disk0.qcow2" d.raw
expect_exit 0 "t2 does not see it" -- "$O" compare "$OVFDEPLOY_HOME/instances/t2/disk0.qcow2" d.raw
expect_exit 0 "the package is untouched" -- "$O" verify tiny.ova

expect_exit 0 "list --json" -- "$O" --json list
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [i["name"] for i in d]==["t1","t2"], d; assert d[0]["forwards"]==[{"host":int(sys.argv[2]),"guest":80}], d' "$T_TMP/out" "$port" \
	&& ok "list --json names both, with forwards" || fail "list --json content"

if [ -r /usr/share/seabios/bios.bin ] && command -v qemu-system-x86_64 >/dev/null; then
	expect_exit 0 "start t2 in the background" -- "$O" start t2
	"$O" list > list.txt
	expect_grep '^t2 +running +qemu-(kvm|tcg) ' list.txt "list shows what t2 runs on (QEMU with KVM or TCG), not auto"
	"$O" --json list >list.json
	python3 -c 'import json,sys; d=[i for i in json.load(open(sys.argv[1])) if i["name"]=="t2"][0]; assert d["backend"] in ("qemu-kvm","qemu-tcg") and d["configured-backend"]=="auto", d' list.json \
		&& ok "list --json: the backend it runs on, and the configured one" || fail "list --json backend: $(cat list.json)"
	expect_exit 2 "rm of a running instance is refused" -- "$O" rm t2
	# console: attach, then detach with Ctrl-A x
	printf '\001x' | timeout 20 "$O" console t2 >console.txt 2>&1
	[ $? -eq 0 ] && ok "console attaches and Ctrl-A x detaches" || fail "console did not detach"
	expect_exit 2 "starting it twice is refused" -- "$O" start t2
	i=0
	while [ $i -lt 100 ] && ! grep -q SeaBIOS "$OVFDEPLOY_HOME/instances/t2/console.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	expect_grep SeaBIOS "$OVFDEPLOY_HOME/instances/t2/console.log" "the console log shows the firmware"
	expect_exit 0 "stop (hard after the timeout: nothing answers the power button)" -- "$O" stop --timeout 1 t2
	"$O" list > list.txt
	expect_grep '^t2 +stopped' list.txt "list shows t2 stopped"
else
	echo "# SeaBIOS or qemu-system-x86_64 missing: start/stop not exercised"
fi
# The embedded runner runs the same instance (in the foreground); with no OS
# on the disk it gets as far as the firmware banner.
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -r /usr/share/seabios/bios.bin ]; then
	sed -i 's/^backend=.*/backend=embedded/' "$dir1/instance.conf"
	timeout 15 "$O" start -f t1 </dev/null >embedded.txt 2>&1
	expect_grep 'SeaBIOS \(version' embedded.txt "the embedded runner boots the instance's firmware"
	expect_grep 'embedded runner' embedded.txt "the backend is named"
	expect_exit 0 "start the embedded runner in the background" -- "$O" start t1
	"$O" list > list.txt
	expect_grep '^t1 +running +embedded' list.txt "list shows t1 running in the embedded runner"
	i=0
	while [ $i -lt 300 ] && ! grep -q SeaBIOS "$dir1/console.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	expect_grep SeaBIOS "$dir1/console.log" "the background runner's console log shows the firmware"
	expect_exit 0 "stop the embedded instance" -- "$O" stop --timeout 1 t1
	"$O" list > list.txt
	expect_grep '^t1 +stopped' list.txt "list shows t1 stopped"
else
	echo "# /dev/kvm not usable: embedded backend not exercised"
fi
expect_exit 0 "rm t1" -- "$O" rm t1
expect_exit 0 "rm t2" -- "$O" rm t2
[ "$(count_instances)" -eq 0 ] && ok "rm removed the instances" || fail "instances remain"
expect_exit 2 "rm of an unknown instance is a usage error" -- "$O" rm t1
done_testing
