/*
 * fuzz_descriptor.c - libFuzzer harness for the descriptor engine: parse,
 * validate (plain and --lax), resolve the hardware of every virtual system
 * in every configuration and make its hardware plan (src/deploy/hwplan.c,
 * both modes), check every property default.
 *
 * Built two ways:
 *   - with clang and libFuzzer by scripts/fuzz (the real fuzzer);
 *   - with -DFUZZ_STANDALONE by 'make check' (tests/fuzz/fuzz_smoke): a
 *     main() that feeds the harness the files named on the command line and
 *     a fixed number of deterministic mutations of each, so the harness
 *     itself stays working and every build (ASan with --enable-sanitizers)
 *     gets a quick shake.
 */
#include "config.h"
#include "ovf/ovf.h"
#include "deploy/deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	od_err e = {0};
	ovf_envelope *env = ovf_envelope_parse((const char *)data, size, "fuzz.ovf", &e);
	if (!env)
		return 0;
	for (unsigned flags = 0; flags <= OVF_VALIDATE_LAX; flags += OVF_VALIDATE_LAX) {
		struct ovf_diags d = {0};
		ovf_validate(env, flags, &d, &e);
		ovf_diags_free(&d);
	}
	for (size_t s = 0; s < env->nsystems && s < 8; s++) {
		struct ovf_hardware hw;
		for (size_t c = 0; c <= env->nconfigs && c < 8; c++) {
			const char *cfg = c < env->nconfigs ? env->configs[c].id : NULL;
			if (ovf_hardware_get(env, env->systems[s], cfg, &hw, &e) == 0) {
				for (int m = HW_DESCRIBED; m <= HW_VIRTIO; m++) {
					struct hwplan p;
					if (hwplan_make(&hw, (enum hw_mode)m, &p, &e) == 0)
						hwplan_free(&p);
				}
				ovf_hardware_free(&hw);
			}
		}
		const struct ovf_virtual_system *vs = env->systems[s];
		for (size_t i = 0; i < vs->nproducts; i++)
			for (size_t k = 0; k < vs->products[i].nprops; k++) {
				const struct ovf_property *p = &vs->products[i].props[k];
				const char *v = ovf_property_value_for(p, NULL);
				if (v)
					ovf_property_check_value(p, v, &e);
			}
	}
	ovf_envelope_free(env);
	return 0;
}

#ifdef FUZZ_STANDALONE
/* xorshift: the same mutations on every run, so a failure reproduces */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(uint8_t *b, size_t *n, size_t cap)
{
	static const char *const tokens[] = {"<", ">", "\"", "&", "&amp;", "</Item>", "<Item>", "ovf:", "=\"",
					     "${x}", "-1", "99999999999999999999", "\xff", "\xc3", "<!ENTITY a \"b\">",
					     "byte * 2^99", "ovf:configuration=\"x\"", "<Disk/>", "\n"};
	int ops = 1 + (int)(next() % 4);
	for (int i = 0; i < ops && *n > 0; i++) {
		size_t at = next() % *n;
		switch (next() % 4) {
		case 0: b[at] = (uint8_t)next(); break;
		case 1: /* delete a span */
		{
			size_t len = 1 + next() % 32;
			if (at + len > *n)
				len = *n - at;
			memmove(b + at, b + at + len, *n - at - len);
			*n -= len;
			break;
		}
		default: /* insert a token */
		{
			const char *t = tokens[next() % (sizeof tokens / sizeof tokens[0])];
			size_t tl = strlen(t);
			if (*n + tl > cap)
				break;
			memmove(b + at + tl, b + at, *n - at);
			memcpy(b + at, t, tl);
			*n += tl;
			break;
		}
		}
	}
}

int main(int argc, char **argv)
{
	int rounds = 300;
	for (int i = 1; i < argc; i++) {
		char *data;
		size_t len;
		od_err e = {0};
		if (od_read_file(argv[i], OVF_DESCRIPTOR_MAX, &data, &len, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		size_t cap = len + 4096;
		uint8_t *buf = malloc(cap);
		if (!buf)
			return 1;
		for (int r = 0; r < rounds; r++) {
			size_t n = len;
			memcpy(buf, data, len);
			mutate(buf, &n, cap);
			LLVMFuzzerTestOneInput(buf, n);
		}
		free(buf);
		free(data);
	}
	printf("%d inputs, %d mutations each: no crash\n", argc - 1, rounds);
	return 0;
}
#endif
