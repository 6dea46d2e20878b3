#!/bin/sh
# build.sh - build the descriptor harness; scripts/fuzz now builds and runs
# every harness (see tests/fuzz/README.md).  The binary goes to
# tests/fuzz/out/bin/fuzz_descriptor.
exec sh "$(dirname "$0")/../../scripts/fuzz" --build-only descriptor
