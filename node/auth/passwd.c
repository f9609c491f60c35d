/* passwd.c: scrypt password hashes in a passlib-like modular format, and
 * the dispatch to other systems' schemes (passwd_legacy.c). */
#include "node/auth/passwd.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "lib/rs_base64.h"
#include "lib/rs_rand.h"

#define PASSWD_SALT 16
#define PASSWD_KEY  32
#define PASSWD_R    8u
#define PASSWD_P    1u

static int
passwd_scrypt(const char *pw, size_t len, const uint8_t *salt, size_t slen,
              unsigned ln, unsigned r, unsigned p, uint8_t *key)
{
	uint64_t n = (uint64_t)1 << ln;
	/* scrypt needs 128 * N * r bytes, plus room for p blocks. */
	uint64_t maxmem = 128 * n * r * 2 + 1024 * 1024;

	return EVP_PBE_scrypt(pw, len, salt, slen, n, r, p, maxmem, key,
	                      PASSWD_KEY) == 1 ? 0 : -1;
}

int
passwd_hash(const char *pw, size_t len, unsigned ln, char *out, size_t size,
            struct rs_err *err)
{
	uint8_t salt[PASSWD_SALT], key[PASSWD_KEY];
	char salt64[64];
	char key64[64];
	int n;

	if (ln < 10 || ln > 20)
		return rs_err_set(err, RS_EINVAL, "scrypt cost out of range");
	if (len > PASSWD_MAX)
		return rs_err_set(err, RS_ETOOBIG, "password too long");
	rs_rand_bytes(salt, sizeof(salt));
	if (passwd_scrypt(pw, len, salt, sizeof(salt), ln, PASSWD_R, PASSWD_P,
	                  key) != 0)
		return rs_err_set(err, RS_EIO, "scrypt failed");
	rs_base64_encode(salt, sizeof(salt), salt64);
	rs_base64_encode(key, sizeof(key), key64);
	OPENSSL_cleanse(key, sizeof(key));
	n = snprintf(out, size, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", ln, PASSWD_R,
	             PASSWD_P, salt64, key64);
	if (n < 0 || (size_t)n >= size)
		return rs_err_set(err, RS_ETOOBIG, "hash buffer too small");
	return 0;
}

/* Parses our stored form. 0, or -1 if it is not well-formed. */
static int
passwd_scrypt_parse(const char *stored, unsigned *ln, unsigned *r,
                    unsigned *p, uint8_t salt[64], size_t *slen,
                    uint8_t want[64])
{
	char salt64[64], key64[64];
	size_t wlen;

	if (sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%63[^$]$%63s", ln, r, p,
	           salt64, key64) != 5 ||
	    *ln < 1 || *ln > 20 || *r < 1 || *r > 32 || *p < 1 || *p > 16)
		return -1;
	if (rs_base64_decode(salt64, strlen(salt64), salt, slen) != 0 ||
	    rs_base64_decode(key64, strlen(key64), want, &wlen) != 0 ||
	    wlen != PASSWD_KEY)
		return -1;
	return 0;
}

static bool
passwd_is_scrypt(const char *stored)
{
	return strncmp(stored, "$scrypt$", 8) == 0;
}

bool
passwd_verify(const char *stored, const char *pw, size_t len)
{
	unsigned ln, r, p;
	uint8_t salt[64], want[64], got[PASSWD_KEY];
	size_t slen;
	bool ok;

	if (len > PASSWD_MAX)
		return false;
	if (!passwd_is_scrypt(stored))
		return passwd_legacy_verify(stored, pw, len);
	if (passwd_scrypt_parse(stored, &ln, &r, &p, salt, &slen, want) != 0)
		return false;
	if (passwd_scrypt(pw, len, salt, slen, ln, r, p, got) != 0)
		return false;
	ok = CRYPTO_memcmp(got, want, PASSWD_KEY) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

const char *
passwd_scheme(const char *stored)
{
	if (stored[0] == '\0')
		return "";
	if (passwd_is_scrypt(stored))
		return "scrypt";
	return passwd_legacy_scheme(stored);
}

int
passwd_check(const char *stored, struct rs_err *err)
{
	unsigned ln, r, p;
	uint8_t salt[64], want[64];
	size_t slen;

	if (stored[0] == '\0')
		return rs_err_set(err, RS_EINVAL, "empty password hash");
	if (strlen(stored) > PASSWD_STORED_MAX)
		return rs_err_set(err, RS_EINVAL, "password hash longer than %d "
		                  "characters", PASSWD_STORED_MAX);
	if (!passwd_is_scrypt(stored))
		return passwd_legacy_check(stored, err);
	if (passwd_scrypt_parse(stored, &ln, &r, &p, salt, &slen, want) != 0)
		return rs_err_set(err, RS_EINVAL, "malformed scrypt hash");
	return 0;
}

bool
passwd_needs_rehash(const char *stored)
{
	return stored[0] != '\0' && !passwd_is_scrypt(stored);
}
