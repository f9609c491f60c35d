/* passwd_legacy.c: verifies the password hashes other mail systems store
 * (Dovecot's "{SCHEME}hash" strings and bare crypt strings, passwd.h), so
 * that users can be imported with their passwords. It never makes such
 * hashes: a login that verifies one replaces it with scrypt (auth.c).
 * Recognising a form is pure syntax, so an import can check thousands. */
#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"
#include "node/auth/passwd.h"

#define PL_BCRYPT_COST_MAX  15
#define PL_SHA_ROUNDS_MAX   1000000ul
#define PL_ARGON2_M_MAX     (1024ul * 1024)   /* KiB: 1 GiB */
#define PL_ARGON2_T_MAX     32ul
#define PL_ARGON2_P_MAX     16ul
#define PL_DIGEST_MAX       64                /* SHA-512 */

enum pl_kind {
	PL_CRYPT,          /* crypt(3) through libxcrypt */
	PL_ARGON2,         /* libargon2's encoded form */
	PL_SALTED,         /* digest(pw || salt) || salt */
	PL_DIGEST,         /* digest(pw) */
	PL_PLAIN,          /* the password */
};

enum pl_enc {
	PL_ENC_AUTO,       /* base64, or hex when it has a hex digest's length */
	PL_ENC_HEX,
	PL_ENC_B64,
};

struct pl_scheme {
	const char   *name;     /* as Dovecot spells it */
	enum pl_kind  kind;
	const char   *md;       /* OpenSSL digest: PL_SALTED, PL_DIGEST */
	size_t        mdlen;
};

static const struct pl_scheme pl_schemes[] = {
	{ "SHA512-CRYPT", PL_CRYPT, NULL, 0 },
	{ "SHA256-CRYPT", PL_CRYPT, NULL, 0 },
	{ "MD5-CRYPT", PL_CRYPT, NULL, 0 },
	{ "BLF-CRYPT", PL_CRYPT, NULL, 0 },
	{ "CRYPT", PL_CRYPT, NULL, 0 },
	{ "ARGON2ID", PL_ARGON2, NULL, 0 },
	{ "ARGON2I", PL_ARGON2, NULL, 0 },
	{ "SSHA512", PL_SALTED, "SHA512", 64 },
	{ "SSHA256", PL_SALTED, "SHA256", 32 },
	{ "SSHA", PL_SALTED, "SHA1", 20 },
	{ "SHA512", PL_DIGEST, "SHA512", 64 },
	{ "SHA256", PL_DIGEST, "SHA256", 32 },
	{ "SHA", PL_DIGEST, "SHA1", 20 },
	{ "SHA1", PL_DIGEST, "SHA1", 20 },
	{ "PLAIN", PL_PLAIN, NULL, 0 },
	{ "CLEARTEXT", PL_PLAIN, NULL, 0 },
};

/* A stored form taken apart; body is borrowed from it. */
struct pl_form {
	const struct pl_scheme *s;
	enum pl_enc             enc;
	const char             *body;    /* after "{…}", or all of it */
	char                    tag[32]; /* "{NAME}" as written, for errors */
};

static const struct pl_scheme *
pl_find(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(pl_schemes) / sizeof(pl_schemes[0]); i++)
		if (strlen(pl_schemes[i].name) == n &&
		    strncasecmp(pl_schemes[i].name, name, n) == 0)
			return &pl_schemes[i];
	return NULL;
}

/* Bare forms Dovecot would hand to crypt (its default scheme) or that
 * carry their own method: the crypt ids we accept without "{SCHEME}". */
static bool
pl_bare_ok(const char *s)
{
	static const char *const ids[] = { "$1$", "$5$", "$6$", "$2a$", "$2b$",
	                                   "$2y$", "$y$", "$argon2id$",
	                                   "$argon2i$" };

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strncmp(s, ids[i], strlen(ids[i])) == 0)
			return true;
	return false;
}

/* Splits stored into scheme and body. 0; RS_ENOTFOUND for an unknown
 * scheme (form->tag names it); RS_EINVAL for no scheme at all. */
static int
pl_parse(const char *stored, struct pl_form *form)
{
	const char *end, *dot;
	size_t n;

	memset(form, 0, sizeof(*form));
	if (stored[0] != '{') {
		if (!pl_bare_ok(stored))
			return RS_EINVAL;
		/* The string names its method (passwd_legacy_scheme). */
		form->s = strncmp(stored, "$argon2", 7) == 0
		          ? pl_find("ARGON2ID", 8) : pl_find("CRYPT", 5);
		form->body = stored;
		return 0;
	}
	end = strchr(stored, '}');
	if (end == NULL || end - stored > 24) {
		/* Never echo what may be a password that lost its '}'. */
		snprintf(form->tag, sizeof(form->tag), "(no {NAME})");
		return RS_ENOTFOUND;
	}
	snprintf(form->tag, sizeof(form->tag), "%.*s", (int)(end - stored + 1),
	         stored);
	n = (size_t)(end - stored - 1);
	dot = memchr(stored + 1, '.', n);
	if (dot != NULL) {
		const char *enc = dot + 1;
		size_t elen = (size_t)(end - enc);

		if (elen == 3 && strncasecmp(enc, "HEX", 3) == 0)
			form->enc = PL_ENC_HEX;
		else if ((elen == 3 && strncasecmp(enc, "B64", 3) == 0) ||
		         (elen == 6 && strncasecmp(enc, "BASE64", 6) == 0))
			form->enc = PL_ENC_B64;
		else
			return RS_ENOTFOUND;
		n = (size_t)(dot - stored - 1);
	}
	form->s = pl_find(stored + 1, n);
	if (form->s == NULL ||
	    (form->enc != PL_ENC_AUTO && form->s->kind != PL_SALTED &&
	     form->s->kind != PL_DIGEST))
		return RS_ENOTFOUND;
	form->body = end + 1;
	return 0;
}

/* ---- syntax ---- */

#define PL_ALNUM   "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
                   "abcdefghijklmnopqrstuvwxyz"
#define PL_CRYPT64 "./" PL_ALNUM      /* crypt(3)'s base64 alphabet */
#define PL_B64     "+/" PL_ALNUM      /* RFC 4648's */

/* n characters of crypt's base64 alphabet, then the end. */
static bool
pl_crypt64_run(const char *s, size_t n)
{
	return strspn(s, PL_CRYPT64) == n && s[n] == '\0';
}

/* "$5$"/"$6$" [rounds=N$] salt(<=16) $ hash(43|86). */
static int
pl_check_sha_crypt(const char *b, size_t hashlen, struct rs_err *err)
{
	const char *p = b + 3, *dollar;

	if (strncmp(p, "rounds=", 7) == 0) {
		char *e;
		unsigned long r = strtoul(p + 7, &e, 10);

		if (e == p + 7 || *e != '$')
			return rs_err_set(err, RS_EINVAL, "malformed SHA-crypt "
			                  "rounds");
		if (r > PL_SHA_ROUNDS_MAX)
			return rs_err_set(err, RS_EINVAL, "SHA-crypt rounds %lu "
			                  "above %lu", r, PL_SHA_ROUNDS_MAX);
		p = e + 1;
	}
	dollar = strchr(p, '$');
	if (dollar == NULL || dollar - p > 16 ||
	    !pl_crypt64_run(dollar + 1, hashlen))
		return rs_err_set(err, RS_EINVAL, "malformed SHA-crypt hash");
	return 0;
}

static int
pl_check_crypt(const char *b, struct rs_err *err)
{
	int cs = crypt_checksalt(b);

	if (cs != CRYPT_SALT_OK && cs != CRYPT_SALT_METHOD_LEGACY)
		return rs_err_set(err, RS_EINVAL, "not a hash crypt(3) knows");
	if (strncmp(b, "$6$", 3) == 0)
		return pl_check_sha_crypt(b, 86, err);
	if (strncmp(b, "$5$", 3) == 0)
		return pl_check_sha_crypt(b, 43, err);
	if (strncmp(b, "$1$", 3) == 0) {
		const char *d = strchr(b + 3, '$');

		if (d == NULL || d - (b + 3) > 8 || !pl_crypt64_run(d + 1, 22))
			return rs_err_set(err, RS_EINVAL, "malformed MD5-crypt "
			                  "hash");
		return 0;
	}
	if (strncmp(b, "$2", 2) == 0) {
		/* "$2y$" cost "$" 22 salt + 31 hash characters. */
		if (strlen(b) != 60 || b[3] != '$' || b[6] != '$' ||
		    b[4] < '0' || b[4] > '9' || b[5] < '0' || b[5] > '9' ||
		    !pl_crypt64_run(b + 7, 53))
			return rs_err_set(err, RS_EINVAL, "malformed bcrypt hash");
		if ((b[4] - '0') * 10 + (b[5] - '0') > PL_BCRYPT_COST_MAX)
			return rs_err_set(err, RS_EINVAL, "bcrypt cost %.2s above "
			                  "%d", b + 4, PL_BCRYPT_COST_MAX);
		return 0;
	}
	if (b[0] != '$' && !pl_crypt64_run(b, 13))
		return rs_err_set(err, RS_EINVAL, "malformed DES-crypt hash");
	/* Other methods ("$y$", "$7$"…): crypt_checksalt vouched for the
	 * setting; the hash's length is the method's business. */
	return 0;
}

static bool
pl_b64_unpadded(const char *s, size_t n)
{
	return strspn(s, PL_B64) >= n;
}

/* Reads "<lead><digits>" at *s and moves past it. 0 or -1. */
static int
pl_param(const char **s, const char *lead, unsigned long *v_r)
{
	size_t n = strlen(lead);
	char *e;

	if (strncmp(*s, lead, n) != 0 || (*s)[n] < '0' || (*s)[n] > '9')
		return -1;
	*v_r = strtoul(*s + n, &e, 10);
	*s = e;
	return 0;
}

/* "$argon2id$[v=19$]m=M,t=T,p=P$salt$hash", unpadded base64. */
static int
pl_check_argon2(const char *b, argon2_type *type_r, struct rs_err *err)
{
	unsigned long m, t, p;
	const char *s, *h;

	if (strncmp(b, "$argon2id$", 10) == 0)
		*type_r = Argon2_id, s = b + 10;
	else if (strncmp(b, "$argon2i$", 9) == 0)
		*type_r = Argon2_i, s = b + 9;
	else
		return rs_err_set(err, RS_EINVAL, "not $argon2id$ or $argon2i$");
	if (strncmp(s, "v=", 2) == 0) {
		if (pl_param(&s, "v=", &m) != 0 || *s != '$')
			return rs_err_set(err, RS_EINVAL, "malformed argon2 version");
		s++;
	}
	if (pl_param(&s, "m=", &m) != 0 || pl_param(&s, ",t=", &t) != 0 ||
	    pl_param(&s, ",p=", &p) != 0 || *s != '$')
		return rs_err_set(err, RS_EINVAL, "malformed argon2 parameters");
	if (m > PL_ARGON2_M_MAX || t > PL_ARGON2_T_MAX || p > PL_ARGON2_P_MAX ||
	    t == 0 || p == 0)
		return rs_err_set(err, RS_EINVAL, "argon2 cost m=%lu,t=%lu,p=%lu "
		                  "out of range (m <= %lu KiB, t <= %lu, p <= %lu)",
		                  m, t, p, PL_ARGON2_M_MAX, PL_ARGON2_T_MAX,
		                  PL_ARGON2_P_MAX);
	s++;
	h = strchr(s, '$');
	/* Salts of at least 8 bytes, digests of at least 4 (libargon2). */
	if (h == NULL || h - s < 11 || !pl_b64_unpadded(s, (size_t)(h - s)) ||
	    strlen(h + 1) < 6 || !pl_b64_unpadded(h + 1, strlen(h + 1)))
		return rs_err_set(err, RS_EINVAL, "malformed argon2 salt or hash");
	return 0;
}

static int
pl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a digest body (out holds PASSWD_STORED_MAX bytes). 0 or -1. */
static int
pl_decode(const struct pl_form *f, uint8_t *out, size_t *len_r)
{
	size_t n = strlen(f->body);
	bool hex = f->enc == PL_ENC_HEX ||
	           (f->enc == PL_ENC_AUTO && f->s->kind == PL_DIGEST &&
	            n == 2 * f->s->mdlen);

	if (hex) {
		if (n % 2 != 0)
			return -1;
		for (size_t i = 0; i < n / 2; i++) {
			int hi = pl_hexval(f->body[2 * i]);
			int lo = pl_hexval(f->body[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		*len_r = n / 2;
		return 0;
	}
	return rs_base64_decode(f->body, n, out, len_r) == 0 ? 0 : -1;
}

int
passwd_legacy_check(const char *stored, struct rs_err *err)
{
	struct pl_form f;
	uint8_t buf[PASSWD_STORED_MAX];
	argon2_type type = Argon2_id;
	size_t n;
	int rc = pl_parse(stored, &f);

	if (rc == RS_ENOTFOUND)
		return rs_err_set(err, RS_EINVAL, "unknown password scheme %s",
		                  f.tag);
	if (rc != 0)
		return rs_err_set(err, RS_EINVAL, "unknown password hash format "
		                  "(expected {SCHEME}hash)");
	switch (f.s->kind) {
	case PL_CRYPT:
		rc = pl_check_crypt(f.body, err);
		break;
	case PL_ARGON2:
		rc = pl_check_argon2(f.body, &type, err);
		break;
	case PL_SALTED:
	case PL_DIGEST:
		if (pl_decode(&f, buf, &n) != 0)
			rc = rs_err_set(err, RS_EINVAL, "bad base64 or hex");
		else if (f.s->kind == PL_DIGEST ? n != f.s->mdlen
		                                : n <= f.s->mdlen)
			rc = rs_err_set(err, RS_EINVAL, "%zu bytes: wrong length "
			                "for %s", n, f.s->name);
		break;
	case PL_PLAIN:
		if (f.body[0] == '\0')
			rc = rs_err_set(err, RS_EINVAL, "empty password");
		break;
	}
	if (rc != 0 && err != NULL) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		rs_err_set(err, RS_EINVAL, "malformed %s hash: %s",
		           f.tag[0] != '\0' ? f.tag : f.s->name, why);
	}
	return rc != 0 ? -1 : 0;
}

const char *
passwd_legacy_scheme(const char *stored)
{
	static const struct {
		const char *id, *name;
	} ids[] = {
		{ "$6$", "SHA512-CRYPT" }, { "$5$", "SHA256-CRYPT" },
		{ "$1$", "MD5-CRYPT" }, { "$2", "BLF-CRYPT" },
		{ "$argon2id$", "ARGON2ID" }, { "$argon2i$", "ARGON2I" },
	};
	struct pl_form f;

	if (pl_parse(stored, &f) != 0)
		return NULL;
	/* Crypt and argon2 strings name their method themselves. */
	if (f.s->kind == PL_CRYPT || f.s->kind == PL_ARGON2) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			if (strncmp(f.body, ids[i].id, strlen(ids[i].id)) == 0)
				return ids[i].name;
		return f.s->kind == PL_CRYPT ? "CRYPT" : f.s->name;
	}
	if (strcmp(f.s->name, "SHA1") == 0)
		return "SHA";
	if (f.s->kind == PL_PLAIN)
		return "PLAIN";
	return f.s->name;
}

/* ---- verification ---- */

static bool
pl_verify_crypt(const char *body, const char *pw, size_t len)
{
	struct crypt_data *cd;
	char *phrase, *out;
	size_t blen = strlen(body);
	bool ok;

	if (memchr(pw, '\0', len) != NULL)
		return false;           /* crypt(3) would stop at the NUL */
	phrase = rs_xmalloc(len + 1);
	memcpy(phrase, pw, len);
	phrase[len] = '\0';
	cd = rs_xcalloc(1, sizeof(*cd));
	out = crypt_rn(phrase, body, cd, (int)sizeof(*cd));
	ok = out != NULL && out[0] != '*' && strlen(out) == blen &&
	     CRYPTO_memcmp(out, body, blen) == 0;
	OPENSSL_cleanse(phrase, len);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(phrase);
	free(cd);
	return ok;
}

/* digest(pw || salt) into out; 0 or -1. */
static int
pl_digest(const char *md_name, const char *pw, size_t len,
          const uint8_t *salt, size_t slen, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_MD *md = EVP_MD_fetch(NULL, md_name, NULL);
	int ok = ctx != NULL && md != NULL &&
	         EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	         EVP_DigestUpdate(ctx, pw, len) == 1 &&
	         (slen == 0 || EVP_DigestUpdate(ctx, salt, slen) == 1) &&
	         EVP_DigestFinal_ex(ctx, out, NULL) == 1;

	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static bool
pl_verify_digest(const struct pl_form *f, const char *pw, size_t len)
{
	uint8_t buf[PASSWD_STORED_MAX], got[PL_DIGEST_MAX];
	size_t n, md = f->s->mdlen;
	bool ok;

	if (pl_decode(f, buf, &n) != 0 ||
	    (f->s->kind == PL_DIGEST ? n != md : n <= md))
		return false;
	if (pl_digest(f->s->md, pw, len, buf + md, n - md, got) != 0)
		return false;
	ok = CRYPTO_memcmp(got, buf, md) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* Compares digests, so that neither the length nor the first differing
 * byte of the stored password shows in the time taken. */
static bool
pl_verify_plain(const char *body, const char *pw, size_t len)
{
	uint8_t a[32], b[32];
	bool ok;

	if (pl_digest("SHA256", body, strlen(body), NULL, 0, a) != 0 ||
	    pl_digest("SHA256", pw, len, NULL, 0, b) != 0)
		return false;
	ok = CRYPTO_memcmp(a, b, sizeof(a)) == 0 && body[0] != '\0';
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

bool
passwd_legacy_verify(const char *stored, const char *pw, size_t len)
{
	struct pl_form f;
	argon2_type type = Argon2_id;

	if (strlen(stored) > PASSWD_STORED_MAX ||
	    passwd_legacy_check(stored, NULL) != 0 ||
	    pl_parse(stored, &f) != 0)
		return false;
	switch (f.s->kind) {
	case PL_CRYPT:
		return pl_verify_crypt(f.body, pw, len);
	case PL_ARGON2:
		/* argon2_verify compares in constant time. */
		return pl_check_argon2(f.body, &type, NULL) == 0 &&
		       argon2_verify(f.body, pw, len, type) == ARGON2_OK;
	case PL_SALTED:
	case PL_DIGEST:
		return pl_verify_digest(&f, pw, len);
	case PL_PLAIN:
		return pl_verify_plain(f.body, pw, len);
	}
	return false;
}
