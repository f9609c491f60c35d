/* test_rs_lib.c: buffers, base64, the map and config parsing. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_base64.h"
#include "lib/rs_buf.h"
#include "lib/rs_config.h"
#include "lib/rs_map.h"
#include "tests/unit/test.h"

void
test_rs_buf(void)
{
	struct rs_buf b;

	rs_buf_init(&b, 10);
	TEST_ASSERT(rs_buf_append(&b, "hello", 5) == 0);
	TEST_ASSERT(rs_buf_printf(&b, "%d", 12345) == 0);
	TEST_ASSERT_STREQ((char *)b.data, "hello12345");
	TEST_ASSERT(rs_buf_append(&b, "x", 1) == RS_ETOOBIG);
	TEST_ASSERT(b.len == 10);
	rs_buf_consume(&b, 5);
	TEST_ASSERT_STREQ((char *)b.data, "12345");
	TEST_ASSERT(rs_buf_printf(&b, "%s", "abcdef") == RS_ETOOBIG);
	TEST_ASSERT_STREQ((char *)b.data, "12345");
	rs_buf_free(&b);

	uint64_t v;
	TEST_ASSERT(rs_str_to_u64(rs_str_cstr("18446744073709551615"),
	                          UINT64_MAX, &v) == 0 && v == UINT64_MAX);
	TEST_ASSERT(rs_str_to_u64(rs_str_cstr("18446744073709551616"),
	                          UINT64_MAX, &v) != 0);
	TEST_ASSERT(rs_str_to_u64(rs_str_cstr("12a"), 1000, &v) != 0);
	TEST_ASSERT(rs_str_to_u64(rs_str_cstr("1001"), 1000, &v) != 0);
	TEST_ASSERT(rs_str_to_u64(rs_str_cstr(""), 1000, &v) != 0);
}

void
test_rs_base64(void)
{
	static const struct {
		const char *raw, *enc;
	} cases[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "\0alice\0pw", "AGFsaWNlAHB3" },
	};
	static const char *const bad[] = { "Zg=", "Z===", "Zm9v=", "Zg==Zg==",
	                                   "Z!==", "Zm 9" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t rawlen = i == 5 ? 9 : strlen(cases[i].raw);
		char enc[64];
		uint8_t dec[64];
		size_t n;

		rs_base64_encode((const uint8_t *)cases[i].raw, rawlen, enc);
		TEST_ASSERT_IDX(strcmp(enc, cases[i].enc) == 0, i);
		TEST_ASSERT_IDX(rs_base64_decode(cases[i].enc,
		                                 strlen(cases[i].enc), dec,
		                                 &n) == 0, i);
		TEST_ASSERT_IDX(n == rawlen && memcmp(dec, cases[i].raw, n) == 0,
		                i);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t dec[64];
		size_t n;

		TEST_ASSERT_IDX(rs_base64_decode(bad[i], strlen(bad[i]), dec,
		                                 &n) != 0, i);
	}
}

void
test_rs_map(void)
{
	struct rs_map *m = rs_map_new();
	char key[32];
	int vals[2000];
	size_t pos = 0, seen = 0;
	const char *k;
	void *v;

	/* The octet hash is the string hash where both apply, and sees
	 * past a NUL. */
	TEST_ASSERT(rs_hash_bytes("mailbox", 7) == rs_hash_str("mailbox"));
	TEST_ASSERT(rs_hash_bytes("a\0b", 3) != rs_hash_bytes("a\0c", 3));
	/* Octet keys: a NUL inside a key, and a key that is a prefix of
	 * another, are different keys; the string calls see "a" only. */
	TEST_ASSERT(rs_map_putn(m, "a\0b", 3, &vals[0]) == NULL);
	TEST_ASSERT(rs_map_putn(m, "a\0c", 3, &vals[1]) == NULL);
	TEST_ASSERT(rs_map_putn(m, "a", 1, &vals[2]) == NULL);
	TEST_ASSERT(rs_map_getn(m, "a\0b", 3) == &vals[0]);
	TEST_ASSERT(rs_map_getn(m, "a\0c", 3) == &vals[1]);
	TEST_ASSERT(rs_map_get(m, "a") == &vals[2]);
	TEST_ASSERT(rs_map_getn(m, "a\0", 2) == NULL);
	TEST_ASSERT(rs_map_deln(m, "a\0b", 3) == &vals[0]);
	TEST_ASSERT(rs_map_getn(m, "a\0c", 3) == &vals[1]);
	TEST_ASSERT(rs_map_del(m, "a") == &vals[2]);
	TEST_ASSERT(rs_map_deln(m, "a\0c", 3) == &vals[1]);
	TEST_ASSERT(rs_map_count(m) == 0);

	for (int i = 0; i < 2000; i++) {
		vals[i] = i;
		snprintf(key, sizeof(key), "k%d", i);
		TEST_ASSERT(rs_map_put(m, key, &vals[i]) == NULL);
	}
	for (int i = 0; i < 2000; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		TEST_ASSERT(rs_map_del(m, key) == &vals[i]);
	}
	TEST_ASSERT(rs_map_count(m) == 1000);
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		TEST_ASSERT_IDX((rs_map_get(m, key) != NULL) == (i % 2 == 1), i);
	}
	while (rs_map_next(m, &pos, &k, &v))
		seen++;
	TEST_ASSERT(seen == 1000);
	rs_map_free(&m);
	TEST_ASSERT(m == NULL);
}

void
test_rs_config(void)
{
	static const char text[] =
		"# a comment\n"
		"port_base = 10100\n"
		"  hostname=mx.example.test  \r\n"
		"\n"
		"banner = \"  spaced  \"\n"
		"max_message_size = 50M\n"
		"smtp.idle_timeout = 300s\n"
		"flag = yes\n"
		"log_level = info   # or debug\n"
		"tabbed = on\t# a comment after a tab\n"
		"hash = a#b # only after a space\n"
		"quoted = \" keep # this \"  # but not this\n"
		"empty =   # nothing\n";
	static const char *const bad[] = {
		"novalue\n", "Bad_Key = 1\n", "k = \"open\n", "= 1\n",
		"k = \"a\" b\n", "k = \"\n",
	};
	struct rs_config *c = rs_config_new();
	struct rs_err err;
	uint64_t v;
	bool b;

	TEST_ASSERT(rs_config_parse(c, text, sizeof(text) - 1, "t", &err) == 0);
	TEST_ASSERT_STREQ(rs_config_get(c, "hostname"), "mx.example.test");
	TEST_ASSERT_STREQ(rs_config_get(c, "banner"), "  spaced  ");
	TEST_ASSERT(rs_config_get_u64(c, "max_message_size", 0, 0, UINT64_MAX,
	                              &v, &err) == 0 && v == 50u << 20);
	TEST_ASSERT(rs_config_get_ms(c, "smtp.idle_timeout", 0, &v, &err) == 0
	            && v == 300000);
	TEST_ASSERT(rs_config_get_bool(c, "flag", false, &b, &err) == 0 && b);
	TEST_ASSERT_STREQ(rs_config_get(c, "log_level"), "info");
	TEST_ASSERT_STREQ(rs_config_get(c, "tabbed"), "on");
	TEST_ASSERT_STREQ(rs_config_get(c, "hash"), "a#b");
	TEST_ASSERT_STREQ(rs_config_get(c, "quoted"), " keep # this ");
	TEST_ASSERT_STREQ(rs_config_get(c, "empty"), "");
	TEST_ASSERT(rs_config_get_u64(c, "port_base", 0, 0, 1000, &v, &err)
	            != 0);
	TEST_ASSERT(rs_config_set(c, "port_base=20000", &err) == 0);
	TEST_ASSERT_STREQ(rs_config_get(c, "port_base"), "20000");
	TEST_ASSERT(rs_config_count(c) == 11);
	rs_config_free(&c);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = rs_config_new();
		TEST_ASSERT_IDX(rs_config_parse(c, bad[i], strlen(bad[i]), "t",
		                                &err) != 0, i);
		TEST_ASSERT_IDX(strncmp(err.msg, "t:1:", 4) == 0, i);
		rs_config_free(&c);
	}
}
