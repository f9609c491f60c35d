/* test_passwd.c: scrypt password hashes. */
#include "node/auth/passwd.h"
#include "tests/unit/test.h"

void
test_passwd_roundtrip(void)
{
	char h1[PASSWD_HASH_MAX], h2[PASSWD_HASH_MAX];
	struct rs_err err;

	TEST_ASSERT(passwd_hash("roost-demo", 10, 10, h1, sizeof(h1), &err) == 0);
	TEST_ASSERT(passwd_hash("roost-demo", 10, 10, h2, sizeof(h2), &err) == 0);
	TEST_ASSERT(strncmp(h1, "$scrypt$ln=10,r=8,p=1$", 22) == 0);
	/* A fresh salt each time: equal passwords, different hashes. */
	TEST_ASSERT(strcmp(h1, h2) != 0);
	TEST_ASSERT(passwd_verify(h1, "roost-demo", 10));
	TEST_ASSERT(passwd_verify(h2, "roost-demo", 10));
	TEST_ASSERT(!passwd_verify(h1, "roost-demO", 10));
	TEST_ASSERT(!passwd_verify(h1, "roost-dem", 9));
	TEST_ASSERT(!passwd_verify(h1, "", 0));
	TEST_ASSERT(passwd_hash("x", 1, 9, h1, sizeof(h1), &err) != 0);
	TEST_ASSERT(passwd_hash("x", 1, 10, h1, 20, &err) != 0);
}

void
test_passwd_malformed(void)
{
	static const char *const bad[] = {
		"", "plain", "$scrypt$", "$scrypt$ln=10,r=8,p=1$AAAA",
		"$scrypt$ln=10,r=8,p=1$AAAA$short",
		"$scrypt$ln=99,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"$scrypt$ln=10,r=0,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"$pbkdf2$whatever",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_ASSERT_IDX(!passwd_verify(bad[i], "x", 1), i);
}
