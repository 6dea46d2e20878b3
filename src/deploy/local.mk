noinst_LIBRARIES += src/deploy/libdeploy.a
src_deploy_libdeploy_a_SOURCES = \
	src/deploy/deploy.h \
	src/deploy/qemu.c
DEPLOY_LIBS = src/deploy/libdeploy.a src/runner/librunner.a src/util/libodutil.a

check_PROGRAMS += tests/deploy/test_qemu
tests_deploy_test_qemu_SOURCES = tests/deploy/test_qemu.c
tests_deploy_test_qemu_CFLAGS = $(TEST_CFLAGS)
tests_deploy_test_qemu_LDADD = $(DEPLOY_LIBS) $(TEST_LIBS)
TESTS += tests/deploy/test_qemu
