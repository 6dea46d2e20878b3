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

# The OVF environment (env.c)
src_ovf_libovf_a_SOURCES += src/ovf/env.c src/ovf/descriptor_read.c
# validate --target (target.c)
src_ovf_libovf_a_SOURCES += src/ovf/target.c
TESTS += tests/ovf/target.sh
EXTRA_DIST += tests/ovf/target.sh
check_PROGRAMS += tests/env/test_env
tests_env_test_env_SOURCES = tests/env/test_env.c
tests_env_test_env_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS) $(ARCHIVE_CFLAGS)
tests_env_test_env_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/env/test_env

# Unit tests (Check) of the descriptor engine; shell tests of inspect and
# validate, over generated descriptors and ../shared/corpus when present.
check_PROGRAMS += tests/ovf/test_validate
tests_ovf_test_validate_SOURCES = tests/ovf/test_validate.c
tests_ovf_test_validate_CFLAGS = $(TEST_CFLAGS)
tests_ovf_test_validate_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/ovf/test_validate

check_PROGRAMS += tests/ovf/test_units tests/ovf/test_model
tests_ovf_test_units_SOURCES = tests/ovf/test_units.c
tests_ovf_test_units_CFLAGS = $(TEST_CFLAGS)
tests_ovf_test_units_LDADD = $(OVF_LIBS) $(TEST_LIBS)
tests_ovf_test_model_SOURCES = tests/ovf/test_model.c
tests_ovf_test_model_CFLAGS = $(TEST_CFLAGS)
tests_ovf_test_model_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/ovf/test_units tests/ovf/test_model

# The fuzz harness: built with gcc as a smoke test over the samples and the
# corpus with deterministic mutations; tests/fuzz/build.sh builds the real
# libFuzzer binary with clang.
check_PROGRAMS += tests/fuzz/fuzz_smoke
tests_fuzz_fuzz_smoke_SOURCES = tests/fuzz/fuzz_descriptor.c src/deploy/hwplan.c
tests_fuzz_fuzz_smoke_CFLAGS = $(AM_CFLAGS) -DFUZZ_STANDALONE
tests_fuzz_fuzz_smoke_LDADD = $(OVF_LIBS)
TESTS += tests/ovf/fuzz_smoke.sh
EXTRA_DIST += tests/ovf/fuzz_smoke.sh tests/fuzz/build.sh

TESTS += tests/ovf/conformance.sh tests/ovf/inspect_realworld.sh tests/ovf/cli.sh tests/ovf/schema_ref.sh
EXTRA_DIST += tests/ovf/conformance.sh tests/ovf/inspect_realworld.sh tests/ovf/cli.sh tests/ovf/schema_ref.sh

# ---- packages, manifests, certificates (the pkg branch) ----
src_ovf_libovf_a_SOURCES += \
	src/ovf/pkg_internal.h \
	src/ovf/manifest.c \
	src/ovf/cert.c \
	src/ovf/package.c \
	src/ovf/verify.c \
	src/ovf/pack.c \
	src/ovf/unpack.c \
	src/ovf/generate.c \
	src/ovf/rewrite.c

check_PROGRAMS += tests/pkg/test_pkg
tests_pkg_test_pkg_SOURCES = tests/pkg/test_pkg.c
tests_pkg_test_pkg_CFLAGS = $(TEST_CFLAGS) $(XML_CFLAGS)
tests_pkg_test_pkg_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/pkg/test_pkg tests/pkg/roundtrip.sh tests/pkg/sign.sh tests/pkg/hostile.sh tests/pkg/fromdisk.sh tests/pkg/packio.sh
EXTRA_DIST += tests/pkg/pkglib.sh tests/pkg/packio.sh tests/pkg/roundtrip.sh tests/pkg/sign.sh tests/pkg/hostile.sh tests/pkg/fromdisk.sh \
	tests/fuzz/fuzz_manifest.c tests/fuzz/fuzz_package.c tests/fuzz/build-pkg.sh

# ovf_descriptor_rewrite (rewrite.c), for export
check_PROGRAMS += tests/ovf/test_rewrite
tests_ovf_test_rewrite_SOURCES = tests/ovf/test_rewrite.c
tests_ovf_test_rewrite_CFLAGS = $(TEST_CFLAGS)
tests_ovf_test_rewrite_LDADD = $(OVF_LIBS) $(TEST_LIBS)
TESTS += tests/ovf/test_rewrite
