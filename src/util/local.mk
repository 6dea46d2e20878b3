noinst_LIBRARIES += src/util/libodutil.a
src_util_libodutil_a_SOURCES = \
	src/util/util.h \
	src/util/err.c \
	src/util/str.c \
	src/util/file.c \
	src/util/seqw.c \
	src/util/pool.c \
	src/util/keymap.c
