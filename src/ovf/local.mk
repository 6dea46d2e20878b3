noinst_LIBRARIES += src/ovf/libovf.a
src_ovf_libovf_a_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(ARCHIVE_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
src_ovf_libovf_a_SOURCES = \
	src/ovf/ovf.h \
	src/ovf/version.c \
	src/ovf/envelope.c \
	src/ovf/units.c
OVF_LIBS = src/ovf/libovf.a src/util/libodutil.a $(XML_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)

# ---- packages, manifests, certificates (the pkg branch) ----
src_ovf_libovf_a_SOURCES += \
	src/ovf/pkg_internal.h \
	src/ovf/manifest.c \
	src/ovf/cert.c \
	src/ovf/package.c \
	src/ovf/verify.c \
	src/ovf/pack.c \
	src/ovf/unpack.c

check_PROGRAMS += tests/pkg/test_pkg
tests_pkg_test_pkg_SOURCES = tests/pkg/test_pkg.c
tests_pkg_test_pkg_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS)
tests_pkg_test_pkg_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/pkg/test_pkg tests/pkg/roundtrip.sh tests/pkg/sign.sh tests/pkg/hostile.sh
EXTRA_DIST += tests/pkg/pkglib.sh tests/pkg/roundtrip.sh tests/pkg/sign.sh tests/pkg/hostile.sh
