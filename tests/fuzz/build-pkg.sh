#!/bin/sh
# build-pkg.sh - build the harnesses of the package layer; scripts/fuzz now
# builds and runs every harness (see tests/fuzz/README.md).  The binaries go
# to tests/fuzz/out/bin/fuzz_manifest and fuzz_package.
exec sh "$(dirname "$0")/../../scripts/fuzz" --build-only manifest package
