# The OVF library: descriptor model, validation, schemas (this fragment),
# packages and the environment (other files, listed by their authors).
noinst_LIBRARIES += src/ovf/libovf.a
src_ovf_libovf_a_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(ARCHIVE_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
src_ovf_libovf_a_SOURCES = \
	src/ovf/ovf.h \
	src/ovf/xml.h \
	src/ovf/version.c \
	src/ovf/envelope.c \
	src/ovf/units.c \
	src/ovf/property.c \
	src/ovf/hardware.c \
	src/ovf/validate.c \
	src/ovf/schema.c
OVF_LIBS = src/ovf/libovf.a src/util/libodutil.a $(XML_LIBS) $(ARCHIVE_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)
