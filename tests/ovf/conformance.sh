#!/bin/sh
# conformance.sh - validate's deployability verdict against VMware's OVF 1.0
# conformance descriptors (../shared/corpus/ovftool-conformance): Pos files
# must be accepted, Neg files refused, for at least 97% of the files.  Every
# miss is printed with the diagnostics we gave.
#
# The suite's hrefs point at ../../../vmdk/*.vmdk, outside the descriptor's
# folder, as ovftool reading from a path allows: we validate with
# --allow-remote so that the verdict is about the rest of each descriptor.
. "${top_srcdir:-.}/tests/cli/lib.sh"
dir=${SHARED:+$SHARED/corpus/ovftool-conformance}
[ -n "$dir" ] && [ -d "$dir" ] || skip "../shared/corpus/ovftool-conformance is absent"

# Neg files whose only problem is the disk file they name, which this copy
# of the suite does not include (or whose content is what is wrong: a VMDK
# with a bad createType, a delta whose parent is missing, a file the server
# does not have).  validate of a lone descriptor never reads disk files, so
# these are judged on the descriptor alone, which is deployable: each is the
# same as a Pos descriptor of the suite but for the disk file it names.
descriptor_alone="
DiskSection_1_0/Neg/invalid_createType_disk.ovf
DiskSection_1_0/Neg/invalid_delta_reference_disk.ovf
Envelope_1_0/Neg/invalid_no_version.ovf
Envelope_1_0/Neg/invalid_ref_size_neg.ovf
Envelope_1_0/Neg/invalid_ref_size_null.ovf
Envelope_1_0/Neg/invalid_vmdk.ovf
HttpLocators_1_0/Neg/valid_no_disk_in_server.ovf
"

total=0
agree=0
misses=0
for f in $(cd "$dir" && find . -name '*.ovf' -path '*/Pos/*' -o -name '*.ovf' -path '*/Neg/*' | sed 's|^\./||' | sort); do
	total=$((total + 1))
	case $f in
	*/Pos/*) want=0 ;;
	*) want=1 ;;
	esac
	note=
	if echo "$descriptor_alone" | grep -qx "$f"; then
		want=0
		note=" (judged on the descriptor alone)"
	fi
	"$OVFDEPLOY" validate --no-schema --allow-remote "$dir/$f" >"$T_TMP/out" 2>"$T_TMP/err"
	got=$?
	[ $got -le 1 ] || { fail "$f: validate exited $got"; sed 's/^/  | /' "$T_TMP/err"; continue; }
	if [ $got -eq $want ]; then
		agree=$((agree + 1))
		# a refusal must say why, with a line: a coded diagnostic, or
		# the parser's message for what is not an OVF envelope at all
		if [ $got -eq 1 ] && ! grep -Eq '(:[0-9]+: error: .* \[[a-z0-9-]+\]$)|(^ovfdeploy: .*:[0-9]+: )' "$T_TMP/err"; then
			fail "$f: refused without a coded diagnostic"
			sed 's/^/  | /' "$T_TMP/err" | head -5
		fi
	else
		misses=$((misses + 1))
		other=
		case $f in
		*/Pos/*) [ -f "$dir/${f%%/Pos/*}/Neg/${f##*/}" ] && cmp -s "$dir/$f" "$dir/${f%%/Pos/*}/Neg/${f##*/}" && other=" (identical to its Neg twin)";;
		*/Neg/*) [ -f "$dir/${f%%/Neg/*}/Pos/${f##*/}" ] && cmp -s "$dir/$f" "$dir/${f%%/Neg/*}/Pos/${f##*/}" && other=" (identical to its Pos twin)";;
		esac
		echo "MISS - $f: expected $( [ $want -eq 0 ] && echo accepted || echo refused)$note, got $( [ $got -eq 0 ] && echo accepted || echo refused)$other"
		grep -E 'error' "$T_TMP/err" | head -5 | sed 's/^/  | /'
	fi
done
echo "# conformance: $agree of $total agree, $misses misses"
[ $total -gt 100 ] && ok "the suite has $total files" || fail "only $total files found in $dir"
if [ $((agree * 100)) -ge $((total * 97)) ]; then
	ok "deployability verdict agrees for $agree of $total files (>= 97%)"
else
	fail "deployability verdict agrees for only $agree of $total files (< 97%)"
fi
done_testing
