# The screen library: an RFB client (captures, keys) and image writers.
noinst_LIBRARIES += src/screen/libscreen.a
src_screen_libscreen_a_SOURCES = \
	src/screen/screen.h \
	src/screen/rfb.c \
	src/screen/image.c
src_screen_libscreen_a_CFLAGS = $(AM_CFLAGS) $(PNG_CFLAGS) $(CRYPTO_CFLAGS)
SCREEN_LIBS = src/screen/libscreen.a $(PNG_LIBS) $(CRYPTO_LIBS)

check_PROGRAMS += tests/screen/test_rfb
tests_screen_test_rfb_SOURCES = tests/screen/test_rfb.c
tests_screen_test_rfb_CFLAGS = $(TEST_CFLAGS)
tests_screen_test_rfb_LDADD = $(SCREEN_LIBS) src/util/libodutil.a $(TEST_LIBS)
TESTS += tests/screen/test_rfb
