#!/bin/sh
# build-pkg.sh - build the libFuzzer harnesses of the package layer with clang
# (not part of make check).  Run from a configured tree (config.h present):
#   tests/fuzz/build-pkg.sh && ./fuzz_manifest -max_total_time=60 tests/fuzz/corpus-mf
# Seeds: any small .ova and .mf files (e.g. from tests/pkg) make a good start.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top}
[ -f "$top/config.h" ] || { echo "run ./configure first (config.h is needed)"; exit 1; }
CC=${CLANG:-clang}
flags="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -I$top/src -I$top $(pkg-config --cflags libxml-2.0 libcrypto zlib)"
libs="$(pkg-config --libs libxml-2.0 libcrypto zlib) -lpthread"
lib_srcs="$top/src/util/err.c $top/src/util/str.c $top/src/util/file.c $top/src/util/pool.c"
for f in "$top"/src/ovf/*.c; do
	lib_srcs="$lib_srcs $f"
done
for h in fuzz_manifest fuzz_package; do
	$CC $flags -DOD_SCHEMADIR='"/nonexistent"' -DOD_SRC_SCHEMADIR='"/nonexistent"' \
		-o "$out/$h" "$top/tests/fuzz/$h.c" $lib_srcs $libs
	echo "built $out/$h"
done
