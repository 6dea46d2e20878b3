#!/bin/sh
# build.sh - build the libFuzzer harness for the descriptor engine with
# clang (not part of 'make': automake builds with one compiler).
#   tests/fuzz/build.sh && tests/fuzz/fuzz_descriptor -max_total_time=60 tests/fuzz/corpus-run samples
# Run from a configured source tree (config.h is needed).
set -eu
cd "$(dirname "$0")/../.."
command -v clang >/dev/null || { echo "clang is not installed (apt-get install clang)"; exit 77; }
[ -f config.h ] || { echo "run ./configure first (config.h is missing)"; exit 1; }
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -I. -Isrc \
	$(pkg-config --cflags libxml-2.0) \
	tests/fuzz/fuzz_descriptor.c \
	src/ovf/version.c src/ovf/envelope.c src/ovf/units.c src/ovf/property.c \
	src/ovf/hardware.c src/ovf/validate.c \
	src/util/err.c src/util/str.c src/util/file.c \
	$(pkg-config --libs libxml-2.0) -lm -o tests/fuzz/fuzz_descriptor
echo "built tests/fuzz/fuzz_descriptor"
