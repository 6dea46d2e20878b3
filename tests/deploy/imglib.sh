# imglib.sh - the common start of the deploy tests that look into the
# instances' images with QEMU's tools (snapshot.sh, export.sh): lib.sh and
# deploylib.sh sourced, a skip where qemu-img, qemu-io or python3 is
# missing, and $O the ovfdeploy under test by an absolute path (these
# tests cd into their temporary directory).
. "${top_srcdir:-.}/tests/cli/lib.sh"
. "$top_srcdir/tests/deploy/deploylib.sh"
command -v qemu-img >/dev/null || skip "qemu-img not installed (qemu-utils)"
command -v qemu-io >/dev/null || skip "qemu-io not installed (qemu-utils)"
command -v python3 >/dev/null || skip "python3 not installed"
O=$OVFDEPLOY
case $O in /*) ;; *) O=$(pwd)/$O ;; esac
