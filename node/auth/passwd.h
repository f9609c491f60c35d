/* passwd.h: password hashing with scrypt (RFC 7914) through OpenSSL, and
 * verification of the hashes other systems store, so that users can be
 * imported with their passwords (passwd_legacy.c).
 * Our stored form: "$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>". Slow
 * by design (tens of milliseconds, 32 MiB): hash and verify on a worker
 * thread. Recognising a form (passwd_scheme, passwd_check) is cheap. */
#ifndef ROOST_NODE_AUTH_PASSWD_H
#define ROOST_NODE_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rs_err.h"

#define PASSWD_HASH_MAX 160          /* room for the stored form */
#define PASSWD_MAX      1024         /* longest password accepted */
#define PASSWD_LN_DEFAULT 15         /* N = 2^15 */
#define PASSWD_STORED_MAX 255        /* longest stored form of any scheme */

/* Hashes pw with a fresh random salt into out (PASSWD_HASH_MAX bytes).
 * ln is log2 of the scrypt cost N (10..20). 0 or -1 with err. */
int passwd_hash(const char *pw, size_t len, unsigned ln, char *out,
                size_t size, struct rs_err *err) RS_MUST_CHECK;
/* True if pw matches stored, in any scheme passwd_check accepts
 * (constant-time compares). A malformed stored hash never matches. */
bool passwd_verify(const char *stored, const char *pw, size_t len);

/* The scheme of a stored form: "scrypt" for ours, else Dovecot's name
 * of it ("SHA512-CRYPT", "BLF-CRYPT", "ARGON2ID", "SSHA512", "SHA256",
 * "PLAIN", "CRYPT" for other crypt(3) methods…), "" for an empty one
 * (no login). NULL when the scheme is unknown; the form may still be
 * malformed (passwd_check says). Static string. */
const char *passwd_scheme(const char *stored);
/* Whether stored is a form passwd_verify can check: 0, or -1 with err
 * (RS_EINVAL) saying what is wrong, for the person importing it
 * ("unknown password scheme {MD4}", "malformed {SSHA512} hash: …").
 * Syntax and cost limits only: no hashing. "" is refused. */
int passwd_check(const char *stored, struct rs_err *err) RS_MUST_CHECK;
/* True for a form that is not scrypt: once a login has verified it, the
 * password should be hashed again with passwd_hash. */
bool passwd_needs_rehash(const char *stored);

/* ---- other systems' schemes (passwd_legacy.c) ----
 * Dovecot's "{SCHEME}hash" strings, scheme names in any case:
 *   {SHA512-CRYPT} {SHA256-CRYPT} {MD5-CRYPT} {BLF-CRYPT} {CRYPT}
 *       crypt(3) strings ("$6$…", "$5$…", "$1$…", "$2y$…", DES, any
 *       method libxcrypt knows), verified by libxcrypt;
 *   {ARGON2ID} {ARGON2I}  "$argon2id$v=19$m=…,t=…,p=…$salt$hash"
 *       (libargon2);
 *   {SSHA512} {SSHA256} {SSHA}  base64(digest(pw || salt) || salt);
 *   {SHA512} {SHA256} {SHA} ({SHA1})  base64(digest(pw)), or hex;
 *       ".HEX" or ".B64" after the name forces the encoding;
 *   {PLAIN} {CLEARTEXT}  the password itself.
 * And crypt or argon2 strings without "{SCHEME}": "$6$", "$5$", "$1$",
 * "$2a$"/"$2b$"/"$2y$", "$y$", "$argon2id$", "$argon2i$".
 * Costs that would let one login hold a worker for long are refused:
 * bcrypt cost above 15, SHA-crypt rounds above 1,000,000, argon2 above
 * 1 GiB, 32 passes or 16 lanes. */
const char *passwd_legacy_scheme(const char *stored);
int passwd_legacy_check(const char *stored, struct rs_err *err)
	RS_MUST_CHECK;
bool passwd_legacy_verify(const char *stored, const char *pw, size_t len);

#endif
