#!/bin/sh
# layers.sh - the files of each driver are layered: no two call each other,
# directly or around a loop (issue 13), shown with nm on the built objects
# by scripts/layers.  First scripts/layers itself must catch cycles.
. "${top_srcdir:-.}/tests/cli/lib.sh"
: "${top_builddir:=.}"
L="$top_srcdir/scripts/layers"
command -v nm >/dev/null || skip "nm (binutils) missing"
command -v "${CC:-cc}" >/dev/null || skip "no C compiler"
cd "$T_TMP" || exit 1

# The checker, on objects made here: a two-file loop, a three-file loop,
# and a layered group (a table referring down counts as a call).
mk() { # NAME 'C source'
	printf '%s\n' "$2" > "$1.c" && "${CC:-cc}" -c -o "libx_a-$1.o" "$1.c" || fail "compile $1"
}
mk a 'int b(void); int a(void) { return b(); }'
mk b 'int a(void); int b(void) { return a() + 1; }'
expect_exit 1 "scripts/layers finds a two-file loop" -- "$L" libx_a-a.o libx_a-b.o
expect_grep "^CYCLE: (a -> b -> a|b -> a -> b)$" "$T_TMP/out" "and names it"
mk p 'int q(void); int p(void) { return q(); }'
mk q 'int r(void); int q(void) { return r(); }'
mk r 'int p(void); int r(void) { return p(); }'
expect_exit 1 "scripts/layers finds a three-file loop" -- "$L" libx_a-p.o libx_a-q.o libx_a-r.o
expect_grep "^CYCLE: " "$T_TMP/out" "and names it"
mk top 'int mid(void); int low(void); int (*const table[])(void) = {mid, low};'
mk mid 'int low(void); int mid(void) { return low(); }'
mk low 'int low(void) { return 0; }'
expect_exit 0 "scripts/layers passes a layered group" -- "$L" libx_a-top.o libx_a-mid.o libx_a-low.o
expect_grep "^top -> mid: mid" "$T_TMP/out" "a table's reference is an edge"
expect_exit 2 "a missing object is an error, not a pass" -- "$L" libx_a-top.o nosuch.o

# The groups the issue names.
d=$top_builddir/src/disk r=$top_builddir/src/runner
group() { # DESCRIPTION OBJ...
	desc=$1; shift
	"$L" "$@" >"$T_TMP/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then ok "$desc: no call cycle"; else fail "$desc: scripts/layers exit $rc"; fi
	sed 's/^/  | /' "$T_TMP/out"
}
group "qcow2 driver" "$d/libdisk_a-qcow2.o" "$d/libdisk_a-qcow2_write.o" "$d/libdisk_a-qcow2_check.o" \
	"$d/libdisk_a-qcow2_driver.o"
group "VMDK driver" "$d/libdisk_a-vmdk.o" "$d/libdisk_a-vmdk_desc.o" "$d/libdisk_a-vmdk_sparse.o" \
	"$d/libdisk_a-vmdk_stream.o" "$d/libdisk_a-vmdk_layout.o"
group "direct Linux boot" "$r/librunner_a-linux.o" "$r/librunner_a-linux_boot.o" "$r/librunner_a-pvh.o"
done_testing
