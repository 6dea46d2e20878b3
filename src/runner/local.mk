noinst_LIBRARIES += src/runner/librunner.a
src_runner_librunner_a_CFLAGS = $(AM_CFLAGS) $(SLIRP_CFLAGS) $(SECCOMP_CFLAGS)
src_runner_librunner_a_SOURCES = \
	src/runner/vm.h \
	src/runner/host.c
RUNNER_LIBS = src/runner/librunner.a $(DISK_LIBS) $(SLIRP_LIBS) $(SECCOMP_LIBS)
