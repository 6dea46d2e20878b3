# pkglib.sh - helpers for the package tests (sourced after tests/cli/lib.sh).

# make_appliance DIR NAME FILE:SIZE[:CAPACITY_MIB] ... : write DIR/NAME.ovf
# referencing the files (random content of SIZE bytes, made here), with a
# disk per file, and DIR/NAME.mf with SHA256 lines.
make_appliance() {
	d=$1; n=$2; shift 2
	mkdir -p "$d"
	refs= disks= i=0
	for spec in "$@"; do
		i=$((i + 1))
		f=${spec%%:*}; rest=${spec#*:}; sz=${rest%%:*}; cap=64
		case $rest in *:*) cap=${rest#*:} ;; esac
		head -c "$sz" /dev/urandom > "$d/$f"
		refs="$refs    <File ovf:id=\"file$i\" ovf:href=\"$f\" ovf:size=\"$sz\"/>
"
		disks="$disks    <Disk ovf:diskId=\"disk$i\" ovf:fileRef=\"file$i\" ovf:capacity=\"$cap\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>
"
	done
	cat > "$d/$n.ovf" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
$refs  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
$disks  </DiskSection>
  <VirtualSystem ovf:id="vm">
    <Info>A test appliance</Info>
  </VirtualSystem>
</Envelope>
XML
	( cd "$d" && for f in "$n.ovf" $(for s in "$@"; do echo "${s%%:*}"; done); do
		printf 'SHA256(%s)= %s\n' "$f" "$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)"
	done > "$n.mf" )
}

# fix_manifest DIR NAME: recompute DIR/NAME.mf for the files it lists.
fix_manifest() {
	( cd "$1" && for f in $(sed 's/^SHA256(\(.*\))= .*/\1/' "$2.mf"); do
		printf 'SHA256(%s)= %s\n' "$f" "$(openssl dgst -sha256 -r "$f" | cut -d' ' -f1)"
	done > "$2.mf.new" && mv "$2.mf.new" "$2.mf" )
}

need() { for t in "$@"; do command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"; done; }
