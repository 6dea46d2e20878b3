#!/bin/sh
# import.sh - packages we write import into vSphere, tried against govmomi's
# vCenter simulator (tests/vsphere/import.go, built from Debian's golang-go
# and golang-github-vmware-govmomi-dev; skipped without them): the sample
# appliance (both deployment options) and `pack --from-disk` output are
# accepted and get the hardware we declared, with the disk's real capacity.
# Two controls show what the simulator refuses or gets wrong: a virtio NIC,
# and a capacity without ovf:capacityAllocationUnits (read as KiB).
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v go >/dev/null || skip "go not installed (golang-go)"
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] ||
	skip "govmomi not installed (golang-github-vmware-govmomi-dev)"
O=$OVFDEPLOY
cd "$T_TMP"

# the importer, rebuilt when its source is newer (Go's build cache keeps
# the library objects between runs)
bin=${top_builddir:-.}/tests/vsphere/import-sim
src=$top_srcdir/tests/vsphere/import.go
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
	mkdir -p "$(dirname "$bin")"
	GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$bin.new" "$src" >gobuild.log 2>&1 &&
		mv "$bin.new" "$bin" || { fail "building import.go"; sed 's/^/  | /' gobuild.log | head; done_testing; exit 1; }
fi
ok "the simulator importer builds"

# imp NAME OVF [OPTION]: import, facts in NAME.txt, exit status in NAME.rc
imp() { "$bin" "$2" ${3:-} >"$1.txt" 2>"$1.err"; echo $? >"$1.rc"; }
has() { # NAME LINE DESCRIPTION
	if grep -qx -- "$2" "$1.txt"; then ok "$3"; else fail "$3 (no '$2')"; sed 's/^/  | /' "$1.txt" "$1.err" | head -30; fi
}

# 1. pack --from-disk: a 64 MiB disk with a NIC
truncate -s 64M disk.raw
printf 'from-disk' | dd of=disk.raw conv=notrunc 2>/dev/null
expect_exit 0 "pack --from-disk" -- "$O" -q pack --from-disk disk.raw --name fd --nic lan --cpus 2 -o fd.ova
"$O" -q unpack fd.ova fd || fail "unpack fd.ova"
imp fd fd/fd.ovf
[ "$(cat fd.rc)" = 0 ] && ok "pack --from-disk output imports" || { fail "pack --from-disk output does not import"; cat fd.txt fd.err; }
has fd "disk 67108864" "... with its 64 MiB disk"
has fd "cpus 2" "... 2 CPUs"
has fd "device VirtualE1000" "... an E1000 NIC"
has fd "device VirtualLsiLogicController" "... an LSI Logic controller"

# pack --from-disk declaring VMware hardware and both transports
expect_exit 0 "pack --from-disk with VMware hardware" -- "$O" -q pack --from-disk disk.raw --name vmw --nic lan \
	--nic-model vmxnet3 --scsi pvscsi --os-type otherLinux64Guest --transport both -o vmw.ova
"$O" -q unpack vmw.ova vmw || fail "unpack vmw.ova"
expect_exit 0 "its descriptor is valid (--strict)" -- "$O" validate --strict vmw/vmw.ovf
imp vmw vmw/vmw.ovf
[ "$(cat vmw.rc)" = 0 ] && ok "it imports" || { fail "it does not import"; cat vmw.txt vmw.err; }
has vmw "device VirtualVmxnet3" "... with a vmxnet3 NIC"
has vmw "device ParaVirtualSCSIController" "... a paravirtual SCSI controller"
has vmw "device VirtualCdrom" "... a CD-ROM for the iso transport"
has vmw "guest_id otherLinux64Guest" "... the guest OS"
has vmw "disk 67108864" "... the 64 MiB disk"

# control: without the units the simulator reads the capacity as KiB
sed 's/ ovf:capacityAllocationUnits="byte"//' fd/fd.ovf >fd/nounits.ovf
imp nounits fd/nounits.ovf
has nounits "disk 68719476736" "control: a capacity without units imports 1024 times too big"

# 2. the sample appliance
SAMPLE_OUT=${top_builddir:-$top_srcdir}/samples/out
OVFDEPLOY=$O sh "$top_srcdir/samples/pack-tiny.sh" "$SAMPLE_OUT" >pack.log 2>&1
rc=$?
if [ $rc -eq 3 ]; then
	echo "# the sample's kernel package could not be obtained: sample import not tried"
elif [ $rc -ne 0 ]; then
	fail "samples/pack-tiny.sh (exit $rc)"; sed 's/^/  | /' pack.log | tail
else
	"$O" -q unpack "$SAMPLE_OUT/tiny.ova" tiny || fail "unpack tiny.ova"
	for opt in small large; do
		imp "$opt" tiny/tiny.ovf $opt
		[ "$(cat $opt.rc)" = 0 ] && ok "the sample imports ($opt)" || { fail "the sample does not import ($opt)"; cat $opt.txt $opt.err; }
		has $opt "device VirtualVmxnet3" "$opt: a vmxnet3 NIC"
		has $opt "device ParaVirtualSCSIController" "$opt: a paravirtual SCSI controller"
		has $opt "device VirtualCdrom" "$opt: a CD-ROM for the iso transport"
		has $opt "disk 67108864" "$opt: the 64 MiB disk"
		has $opt "guest_id otherLinux64Guest" "$opt: the guest OS from vmw:osType"
	done
	has small "cpus 1" "small: 1 CPU"
	has large "cpus 2" "large: 2 CPUs"
	has large "memory_mb 512" "large: 512 MiB"
	# control: the virtio NIC the sample used to declare
	sed 's|<rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>|<rasd:ResourceSubType>VirtIO</rasd:ResourceSubType>|' \
		tiny/tiny.ovf >tiny/virtio.ovf
	imp virtio tiny/virtio.ovf
	[ "$(cat virtio.rc)" = 1 ] && grep -q "unknown ethernet card type 'virtio'" virtio.txt &&
		ok "control: a virtio NIC is refused by CreateImportSpec" || { fail "control: virtio NIC"; cat virtio.txt virtio.err; }
fi
done_testing
