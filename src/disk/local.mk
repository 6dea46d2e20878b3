noinst_LIBRARIES += src/disk/libdisk.a
src_disk_libdisk_a_CFLAGS = $(AM_CFLAGS) $(DEFLATE_CFLAGS) $(ZLIB_CFLAGS) $(ZSTD_CFLAGS)
src_disk_libdisk_a_SOURCES = \
	src/disk/disk.h \
	src/disk/driver.h \
	src/disk/disk.c \
	src/disk/raw.c \
	src/disk/qcow2.h \
	src/disk/qcow2.c \
	src/disk/qcow2_write.c \
	src/disk/qcow2_check.c \
	src/disk/qcow2_driver.c \
	src/disk/vmdk.c \
	src/disk/convert.c
DISK_LIBS = src/disk/libdisk.a src/util/libodutil.a $(DEFLATE_LIBS) $(ZLIB_LIBS) $(ZSTD_LIBS)

# json: backing names (deploy's overlays over byte ranges of an OVA)
src_disk_libdisk_a_SOURCES += src/disk/json_spec.h src/disk/json_spec.c
check_PROGRAMS += tests/disk/test_json_spec
tests_disk_test_json_spec_SOURCES = tests/disk/test_json_spec.c
tests_disk_test_json_spec_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_json_spec_LDADD = $(DISK_LIBS) $(TEST_LIBS)
TESTS += tests/disk/test_json_spec

# Unit tests of the disk library; qemu-img is the oracle where it is installed.
DISK_TEST_LDADD = $(DISK_LIBS) $(TEST_LIBS)
EXTRA_DIST += tests/disk/dtest.h tests/disk/fuzz_read.h
check_PROGRAMS += tests/disk/test_raw
tests_disk_test_raw_SOURCES = tests/disk/test_raw.c
tests_disk_test_raw_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_raw_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_raw
check_PROGRAMS += tests/disk/test_qcow2_read
tests_disk_test_qcow2_read_SOURCES = tests/disk/test_qcow2_read.c
tests_disk_test_qcow2_read_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_qcow2_read_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_qcow2_read
check_PROGRAMS += tests/disk/test_qcow2_write
tests_disk_test_qcow2_write_SOURCES = tests/disk/test_qcow2_write.c
tests_disk_test_qcow2_write_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_qcow2_write_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_qcow2_write
TESTS += tests/disk/cli_disk.sh
EXTRA_DIST += tests/disk/cli_disk.sh
TESTS += tests/disk/convert_holes.sh
EXTRA_DIST += tests/disk/convert_holes.sh
check_PROGRAMS += tests/disk/test_qcow2_fuzz
tests_disk_test_qcow2_fuzz_SOURCES = tests/disk/test_qcow2_fuzz.c
tests_disk_test_qcow2_fuzz_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_qcow2_fuzz_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_qcow2_fuzz

# ---- VMDK driver (vmdk.c is listed above) and its tests ----
src_disk_libdisk_a_SOURCES += \
	src/disk/vmdk_priv.h \
	src/disk/vmdk_desc.c \
	src/disk/vmdk_layout.c \
	src/disk/vmdk_sparse.c \
	src/disk/vmdk_stream.c
check_PROGRAMS += tests/disk/test_vmdk
tests_disk_test_vmdk_SOURCES = tests/disk/test_vmdk.c
tests_disk_test_vmdk_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_vmdk_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_vmdk
check_PROGRAMS += tests/disk/test_vmdk_readahead
tests_disk_test_vmdk_readahead_SOURCES = tests/disk/test_vmdk_readahead.c
tests_disk_test_vmdk_readahead_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_vmdk_readahead_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_vmdk_readahead
TESTS += tests/disk/json_backing.sh
EXTRA_DIST += tests/disk/json_backing.sh
TESTS += tests/disk/vmdk_cli.sh
EXTRA_DIST += tests/disk/vmdk_cli.sh
EXTRA_DIST += tests/fuzz/fuzz_vmdk.c
check_PROGRAMS += tests/disk/test_vmdk_fuzz
tests_disk_test_vmdk_fuzz_SOURCES = tests/disk/test_vmdk_fuzz.c
tests_disk_test_vmdk_fuzz_CFLAGS = $(TEST_CFLAGS)
tests_disk_test_vmdk_fuzz_LDADD = $(DISK_TEST_LDADD)
TESTS += tests/disk/test_vmdk_fuzz
