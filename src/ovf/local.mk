noinst_LIBRARIES += src/ovf/libovf.a
src_ovf_libovf_a_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(ARCHIVE_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
src_ovf_libovf_a_SOURCES = \
	src/ovf/ovf.h \
	src/ovf/version.c \
	src/ovf/envelope.c \
	src/ovf/units.c
OVF_LIBS = src/ovf/libovf.a src/util/libodutil.a $(XML_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)

# The OVF environment (env.c)
src_ovf_libovf_a_SOURCES += src/ovf/env.c
check_PROGRAMS += tests/env/test_env
tests_env_test_env_SOURCES = tests/env/test_env.c
tests_env_test_env_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS) $(ARCHIVE_CFLAGS)
tests_env_test_env_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/env/test_env
