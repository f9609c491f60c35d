/* test_passwd_legacy.c: other systems' password hashes: known vectors of
 * every scheme with the right and a wrong password, scheme names, and the
 * import-time checks. Vectors for the password "secret" were made with
 * python3's crypt and hashlib modules, openssl passwd -6, and libargon2
 * (argon2id_hash_encoded, salt "somesalt16bytes!"). */
#include <argon2.h>
#include <crypt.h>
#include <stdio.h>

#include "node/auth/passwd.h"
#include "tests/unit/test.h"

struct pl_case {
	const char *stored;
	const char *want_scheme;
};

static const struct pl_case pl_cases[] = {
	{ "{SHA512-CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0"
	  "U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "SHA512-CRYPT" },
	{ "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5kn"
	  "V8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "SHA512-CRYPT" },
	{ "{sha256-crypt}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5s"
	  "A", "SHA256-CRYPT" },
	{ "{MD5-CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "MD5-CRYPT" },
	{ "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hj"
	  "l0a", "BLF-CRYPT" },
	{ "{CRYPT}abNANd1rDfiNc", "CRYPT" },
	{ "{CRYPT}$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5"
	  "XiVCe.", "CRYPT" },
	{ "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$Wg9n"
	  "rlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "ARGON2ID" },
	{ "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$Wg9nrlI1wIF/dEq"
	  "E4nMyiXXBJHFgCIKqjy0AFlwnDoU", "ARGON2ID" },
	{ "{ARGON2I}$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$144IIH"
	  "w5DOjvRyQbxULQnWRWjXzW1i6o8QEA2d2XqIk", "ARGON2I" },
	{ "{SSHA512}KO8EsMPQTwZrxxbOkDAOOXEeVCc2grMQg1pnZwZhC1bBQLby8zCmFn7qTZR"
	  "voTd+yQdROQQNYHWpTUST4zjTdQECAwQFBgcI", "SSHA512" },
	{ "{SSHA256}A7N1lAy5bBb4T6qH9e85zAvHBmzNPhRFbZ105DjjWDIBAgMEBQYHCA==",
	  "SSHA256" },
	{ "{SSHA}lHFzXul4wnzRItssVcTnvXWRjNgBAgMEBQYHCA==", "SSHA" },
	{ "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztme"
	  "D2cmW192CF5bDufKRpayrW/isg==", "SHA512" },
	{ "{SHA512.HEX}bd2b1aaf7ef4f09be9f52ce2d8d599674d81aa9d6a4421696dc4d93d"
	  "d0619d682ce56b4d64a9ef097761ced99e0f67265b5f76085e5b0ee7ca4696b2ad6"
	  "fe2b2", "SHA512" },
	{ "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "SHA256" },
	{ "{SHA256}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527"
	  "a25b", "SHA256" },
	{ "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "SHA" },
	{ "{SHA1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", "SHA" },
	{ "{PLAIN}secret", "PLAIN" },
	{ "{CLEARTEXT}secret", "PLAIN" },
};

void
test_passwd_legacy_vectors(void)
{
	static const char *const wrong[] = { "secreT", "secre", "secret ", "",
	                                     "x" };
	struct rs_err err;

	for (size_t i = 0; i < sizeof(pl_cases) / sizeof(pl_cases[0]); i++) {
		const struct pl_case *c = &pl_cases[i];

		TEST_ASSERT_IDX(passwd_check(c->stored, &err) == 0, i);
		TEST_ASSERT_IDX(passwd_scheme(c->stored) != NULL &&
		                strcmp(passwd_scheme(c->stored),
		                       c->want_scheme) == 0, i);
		TEST_ASSERT_IDX(passwd_needs_rehash(c->stored), i);
		TEST_ASSERT_IDX(passwd_verify(c->stored, "secret", 6), i);
		for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++)
			TEST_ASSERT_IDX(!passwd_verify(c->stored, wrong[w],
			                               strlen(wrong[w])), i);
		/* A NUL inside the password never matches a prefix. */
		TEST_ASSERT_IDX(!passwd_verify(c->stored, "secret\0x", 8), i);
	}
}

/* Hashes made here with the libraries themselves: bcrypt's other
 * variants through crypt_r with a fixed salt, argon2 with other costs. */
void
test_passwd_legacy_generated(void)
{
	static const char *const salts[] = {
		"$2y$04$abcdefghijklmnopqrstuu", "$2a$04$abcdefghijklmnopqrstuu",
		"$6$rounds=2000$somesalt", "$5$rounds=1000$x",
	};
	struct crypt_data cd;
	char enc[256], stored[CRYPT_OUTPUT_SIZE + 16];
	struct rs_err err;

	for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
		memset(&cd, 0, sizeof(cd));
		TEST_ASSERT_IDX(crypt_r("pässwörd", salts[i], &cd) != NULL, i);
		snprintf(stored, sizeof(stored), "{CRYPT}%s", cd.output);
		TEST_ASSERT_IDX(passwd_check(stored, &err) == 0, i);
		TEST_ASSERT_IDX(passwd_verify(stored, "pässwörd",
		                              strlen("pässwörd")), i);
		TEST_ASSERT_IDX(passwd_verify(cd.output, "pässwörd",
		                              strlen("pässwörd")), i);
		TEST_ASSERT_IDX(!passwd_verify(stored, "passwort", 8), i);
	}
	TEST_ASSERT(argon2id_hash_encoded(1, 64, 2, "pw", 2, "0123456789ab", 12,
	                                  16, enc, sizeof(enc)) == ARGON2_OK);
	snprintf(stored, sizeof(stored), "{ARGON2ID}%s", enc);
	TEST_ASSERT(passwd_check(stored, &err) == 0);
	TEST_ASSERT(passwd_verify(stored, "pw", 2));
	TEST_ASSERT(!passwd_verify(stored, "pW", 2));
}

void
test_passwd_legacy_refused(void)
{
	static const struct {
		const char *stored;
		const char *want_msg;   /* a part of the message */
	} cases[] = {
		{ "", "empty" },
		{ "secret", "expected {SCHEME}hash" },
		{ "{MD4}abcd", "unknown password scheme {MD4}" },
		{ "{SHA512}", "wrong length" },
		{ "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unol", "base64" },
		{ "{SSHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",
		  "wrong length" },
		{ "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05fz", "hex" },
		{ "{PLAIN.HEX}abcd", "unknown password scheme" },
		{ "{PLAIN}", "empty password" },
		{ "{SHA512-CRYPT}$6$saltsalt$short", "malformed" },
		{ "{BLF-CRYPT}$2y$31$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcY"
		  "Uh4Hjl0a", "cost 31 above 15" },
		{ "{SHA512-CRYPT}$6$rounds=99999999$salt$TVLlQcbpFVof5W3Yz4DTP6gRst"
		  "iNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		  "rounds" },
		{ "{ARGON2ID}$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQxNmJ5dGVz"
		  "IQ$Wg9nrlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "out of range" },
		{ "{ARGON2ID}$argon2d$v=19$m=1024,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$W"
		  "g9nrlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "argon2" },
		{ "{ARGON2ID}$argon2id$v=19$m=1024,t=2$c29tZXNhbHQxNmJ5dGVzIQ$Wg9n"
		  "rlI1wIF/dEqE4nMyiXXBJHFgCIKqjy0AFlwnDoU", "parameters" },
		{ "{CRYPT}$9$nothing", "crypt(3)" },
		{ "{CRYPT}abc", "crypt" },
		{ "$scrypt$ln=10,r=8,p=1$AAAA", "scrypt" },
		{ "{PLAINsecret-without-end", "unknown password scheme (no {NAME})" },
	};
	struct rs_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.msg[0] = '\0';
		TEST_ASSERT_IDX(passwd_check(cases[i].stored, &err) != 0, i);
		TEST_ASSERT_IDX(strstr(err.msg, cases[i].want_msg) != NULL, i);
		TEST_ASSERT_IDX(!passwd_verify(cases[i].stored, "secret", 6), i);
	}
	TEST_ASSERT(passwd_scheme("{MD4}abcd") == NULL);
	TEST_ASSERT_STREQ(passwd_scheme(""), "");
	TEST_ASSERT(!passwd_needs_rehash(""));
	TEST_ASSERT(!passwd_needs_rehash("$scrypt$ln=10,r=8,p=1$x$y"));
	TEST_ASSERT_STREQ(passwd_scheme("$scrypt$ln=10,r=8,p=1$x$y"), "scrypt");
}
