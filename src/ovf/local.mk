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
