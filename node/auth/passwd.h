/* passwd.h: password hashing with scrypt (RFC 7914) through OpenSSL.
 * Stored form: "$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>". Slow by
 * design (tens of milliseconds, 32 MiB): call from a worker thread. */
#ifndef ROOST_NODE_AUTH_PASSWD_H
#define ROOST_NODE_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rs_err.h"

#define PASSWD_HASH_MAX 160          /* room for the stored form */
#define PASSWD_MAX      1024         /* longest password accepted */
#define PASSWD_LN_DEFAULT 15         /* N = 2^15 */

/* Hashes pw with a fresh random salt into out (PASSWD_HASH_MAX bytes).
 * ln is log2 of the scrypt cost N (10..20). 0 or -1 with err. */
int passwd_hash(const char *pw, size_t len, unsigned ln, char *out,
                size_t size, struct rs_err *err) RS_MUST_CHECK;
/* True if pw matches stored (constant-time compare). A malformed stored
 * hash never matches. */
bool passwd_verify(const char *stored, const char *pw, size_t len);

#endif
