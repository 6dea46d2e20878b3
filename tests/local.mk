# Unit tests of src/util and end-to-end tests of the CLI skeleton.  Each area
# (src/ovf, src/disk, src/runner) lists its own tests in its local.mk.
check_PROGRAMS += tests/util/test_util
tests_util_test_util_SOURCES = tests/util/test_util.c
tests_util_test_util_CFLAGS = $(TEST_CFLAGS)
tests_util_test_util_LDADD = src/util/libodutil.a $(TEST_LIBS)
TESTS += tests/util/test_util

TESTS += tests/cli/basics.sh
EXTRA_DIST += tests/cli/basics.sh tests/cli/lib.sh

TESTS += tests/fuzz/fuzz-script.sh
EXTRA_DIST += tests/fuzz/fuzz-script.sh scripts/fuzz tests/fuzz/fuzz_net.c tests/fuzz/README.md
include tests/hardening/local.mk
