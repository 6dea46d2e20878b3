noinst_LIBRARIES += src/deploy/libdeploy.a
src_deploy_libdeploy_a_SOURCES = \
	src/deploy/deploy.h \
	src/deploy/qemu.c \
	src/deploy/hwplan.c \
	src/deploy/instance.c \
	src/deploy/deploy.c \
	src/deploy/verify_cache.c \
	src/deploy/libvirt.c \
	src/deploy/deploy_efi.c \
	src/deploy/deploy_screen.c \
	src/deploy/vmware.c \
	src/deploy/export.c \
	src/deploy/pause.c \
	src/deploy/snapshot.c
src_deploy_libdeploy_a_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(LIBVIRT_CFLAGS)
DEPLOY_LIBS = src/deploy/libdeploy.a src/ovf/libovf.a src/runner/librunner.a src/disk/libdisk.a src/util/libodutil.a $(XML_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(DEFLATE_LIBS) $(ZLIB_LIBS) $(ZSTD_LIBS) $(SLIRP_LIBS) $(SECCOMP_LIBS) $(LIBVIRT_LIBS) $(VNCSERVER_LIBS)

check_PROGRAMS += tests/deploy/test_qemu
tests_deploy_test_qemu_SOURCES = tests/deploy/test_qemu.c
tests_deploy_test_qemu_CFLAGS = $(TEST_CFLAGS)
tests_deploy_test_qemu_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_qemu

check_PROGRAMS += tests/deploy/test_instance
tests_deploy_test_instance_SOURCES = tests/deploy/test_instance.c tests/deploy/home_fixture.h
tests_deploy_test_instance_CFLAGS = $(TEST_CFLAGS)
tests_deploy_test_instance_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_instance

TESTS += tests/deploy/deploy-cli.sh
EXTRA_DIST += tests/deploy/deploy-cli.sh
TESTS += tests/deploy/verify-cache.sh tests/deploy/collection.sh
EXTRA_DIST += tests/deploy/collection.sh tests/deploy/deploylib.sh tests/deploy/imglib.sh
EXTRA_DIST += tests/deploy/verify-cache.sh
TESTS += tests/deploy/deploy-sample.sh
TESTS += tests/deploy/guestinfo.sh
EXTRA_DIST += tests/deploy/guestinfo.sh
EXTRA_DIST += tests/deploy/deploy-sample.sh
TESTS += tests/deploy/efi.sh tests/deploy/screen.sh tests/deploy/screen_embedded.sh
EXTRA_DIST += tests/deploy/efi.sh tests/deploy/screen.sh tests/deploy/screen_embedded.sh

# libvirt.c's life cycle against libvirt's in-process test driver
check_PROGRAMS += tests/deploy/test_libvirt
tests_deploy_test_libvirt_SOURCES = tests/deploy/test_libvirt.c tests/deploy/hwplan_fixture.h
tests_deploy_test_libvirt_CFLAGS = $(TEST_CFLAGS) $(LIBVIRT_CFLAGS)
tests_deploy_test_libvirt_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_libvirt

# the hardware plan (issue 15): descriptors, QEMU devices, ../shared's real-world descriptors
check_PROGRAMS += tests/deploy/test_hwplan
tests_deploy_test_hwplan_SOURCES = tests/deploy/test_hwplan.c tests/deploy/hwplan_fixture.h tests/deploy/home_fixture.h
tests_deploy_test_hwplan_CFLAGS = $(TEST_CFLAGS)
tests_deploy_test_hwplan_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_hwplan
# VMware-style appliances boot on the QEMU backend with their described hardware
TESTS += tests/deploy/vmware-hw.sh
EXTRA_DIST += tests/deploy/vmware-hw.sh tests/deploy/vmware-ovf.sh
TESTS += tests/deploy/export.sh
EXTRA_DIST += tests/deploy/export.sh

# pause.c's QMP client against scripted fake machines
check_PROGRAMS += tests/deploy/test_pause
tests_deploy_test_pause_SOURCES = tests/deploy/test_pause.c
tests_deploy_test_pause_CFLAGS = $(TEST_CFLAGS)
tests_deploy_test_pause_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_pause
TESTS += tests/deploy/snapshot.sh
EXTRA_DIST += tests/deploy/snapshot.sh
