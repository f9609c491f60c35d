/* fuzz_config.c: libFuzzer target for lib/rs_config.c. The input is a
 * configuration file; checks that parsing never crashes, that a file that
 * parses keeps every key readable and well-formed, that the typed getters
 * survive any value, and that an override (--set) replaces a value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_getters(const struct rs_config *c, const char *k)
{
	struct rs_err err;
	uint64_t v;
	bool b;

	/* Any value is fine; a refusal must say why. */
	if (rs_config_get_u64(c, k, 0, 0, UINT64_MAX, &v, &err) != 0 &&
	    err.msg[0] == '\0')
		abort();
	if (rs_config_get_ms(c, k, 0, &v, &err) != 0 && err.msg[0] == '\0')
		abort();
	if (rs_config_get_bool(c, k, false, &b, &err) != 0 &&
	    err.msg[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_config *c = rs_config_new();
	struct rs_err err;

	if (rs_config_parse(c, (const char *)data, size, "fuzz", &err) == 0) {
		for (size_t i = 0; i < rs_config_count(c); i++) {
			const char *k = rs_config_key_at(c, i);
			const char *v = rs_config_get(c, k);

			if (k == NULL || v == NULL || k[0] == '\0' ||
			    strlen(k) > 128 || strpbrk(k, " =#\n") != NULL)
				abort();
			fuzz_getters(c, k);
		}
		if (rs_config_count(c) > 0) {
			const char *k = rs_config_key_at(c, 0);
			char *kv = malloc(strlen(k) + 8);

			strcpy(kv, k);
			strcat(kv, "=fuzzed");
			if (rs_config_set(c, kv, &err) != 0 ||
			    strcmp(rs_config_get(c, k), "fuzzed") != 0)
				abort();
			free(kv);
		}
	} else if (err.msg[0] == '\0') {
		abort();                /* every refusal says why */
	}
	rs_config_free(&c);
	return 0;
}
