/* fuzz_manifest.c - libFuzzer harness for the manifest and certificate
 * parsers: any bytes must give either a parsed result or a clean error,
 * never a crash, a leak or an unbounded allocation.  Built and run by
 * scripts/fuzz (clang, -fsanitize=fuzzer,address,undefined). */
#include "config.h"
#include "ovf/ovf.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovf_manifest m;
	struct ovf_warnings w = {0};
	od_err e;
	if (ovf_manifest_parse((const char *)data, size, "fuzz.mf", &m, &w, &e) == 0) {
		/* Every entry must be findable and its line must round-trip. */
		for (size_t i = 0; i < m.n; i++) {
			if (ovf_manifest_find(&m, m.v[i].name) != &m.v[i])
				__builtin_trap();
			od_buf b = {0};
			ovf_manifest_line(&b, m.v[i].alg, m.v[i].name, m.v[i].digest);
			struct ovf_manifest again;
			if (ovf_manifest_parse(b.data, b.len, "again", &again, NULL, &e) != 0 || again.n != 1 ||
			    strcmp(again.v[0].name, m.v[i].name) ||
			    memcmp(again.v[0].digest, m.v[i].digest, ovf_digest_len(m.v[i].alg)))
				__builtin_trap();
			ovf_manifest_free(&again);
			od_buf_free(&b);
		}
		ovf_manifest_free(&m);
	}
	ovf_warnings_free(&w);
	struct ovf_cert c;
	if (ovf_cert_parse((const char *)data, size, "fuzz.cert", &c, &w, &e) == 0) {
		struct ovf_cert_result r;
		/* With no CA file this consults the system store: slow but
		 * harmless; the signature check is what matters here. */
		ovf_cert_verify(&c, (const char *)data, size, "/dev/null", &r, &e);
		ovf_cert_result_free(&r);
		ovf_cert_free(&c);
	}
	ovf_warnings_free(&w);
	return 0;
}
