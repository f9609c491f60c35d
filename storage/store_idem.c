/* store_idem.c: idempotency keys of deliveries. A copy stored under a
 * key records where it went, P 'a' acct 'D' day idem -> mailbox,
 * uidvalidity, uid (12 octets), so that a retry of the same delivery
 * finds it instead of storing a second copy. Keys live STORE_IDEM_DAYS
 * days (longer than an SMTP client retries a message); the day leads
 * the key so that an account's expired keys are one contiguous range,
 * trimmed by the first delivery with a key on a new day (the account
 * record remembers the day it last trimmed). */
#include "storage/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_IDEM_VAL 12

uint32_t
store__idem_today(void)
{
	return (uint32_t)(time(NULL) / 86400);
}

int
store__idem_find(struct store_txn *t, struct store_acct a,
                 const uint8_t *idem, size_t len, uint32_t today,
                 struct store_rcpt *r, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);

	for (uint32_t back = 0; back < STORE_IDEM_DAYS && back <= today;
	     back++) {
		uint8_t k[STORE_KEYS_ACCT_LEN + 4 + STORE_IDEM_MAX];
		size_t klen = store_keys_idem(k, a, today - back, idem, len);
		uint8_t *val = NULL;
		size_t vlen = 0;
		int rc = store__get(&v, k, klen, &val, &vlen, err);

		if (rc == RS_ENOTFOUND)
			continue;
		if (rc != 0)
			return -1;
		if (vlen != STORE_IDEM_VAL) {
			free(val);
			return rs_err_set(err, RS_EIO, "bad idempotency record");
		}
		r->rc = 0;
		r->mailbox_id = store_keys_get32(val);
		r->uidvalidity = store_keys_get32(val + 4);
		r->uid = store_keys_get32(val + 8);
		/* Written again, unchanged, so that "stored before" is
		 * answered like a write of the partition (store_repl.h): on
		 * a primary only, and once the followers hold this entry and
		 * so the first copy, which may still lack theirs (its own
		 * answer lost, or failed as unknown when the role went). */
		store__put(t, k, klen, val, vlen);
		free(val);
		return 1;
	}
	return 0;
}

void
store__idem_put(struct store_txn *t, struct store_acct a,
                const uint8_t *idem, size_t len, uint32_t today,
                const struct store_rcpt *r)
{
	uint8_t k[STORE_KEYS_ACCT_LEN + 4 + STORE_IDEM_MAX];
	uint8_t val[STORE_IDEM_VAL];

	store_keys_put32(val, r->mailbox_id);
	store_keys_put32(val + 4, r->uidvalidity);
	store_keys_put32(val + 8, r->uid);
	store__put(t, k, store_keys_idem(k, a, today, idem, len), val,
	           sizeof(val));
}

struct store_idem_trim {
	uint8_t end[STORE_KEYS_ACCT_LEN + 4];   /* first key to keep */
};

static int
store_idem_trim_one(struct store_txn *t, void *arg, const uint8_t *key,
                    size_t klen, const uint8_t *val, size_t vlen,
                    struct rs_err *err)
{
	const struct store_idem_trim *tr = arg;

	(void)val;
	(void)vlen;
	(void)err;
	if (klen < sizeof(tr->end) ||
	    memcmp(key, tr->end, sizeof(tr->end)) >= 0)
		return 1;                    /* reached the days kept */
	store__del(t, key, klen);
	return 0;
}

int
store__idem_trim(struct store_txn *t, struct store_acct a,
                 struct store_rec_acct *acct, uint32_t today,
                 struct rs_err *err)
{
	struct store_idem_trim tr;
	uint8_t prefix[STORE_KEYS_ACCT_LEN];
	size_t plen = store_keys_acct_tag(prefix, a, STORE_KEYS_IDEM);
	uint32_t keep = today >= STORE_IDEM_DAYS ? today - STORE_IDEM_DAYS + 1
	                                         : 0;

	if (acct->idem_day >= today)
		return 0;                    /* trimmed today already */
	memcpy(tr.end, prefix, plen);
	store_keys_put32(tr.end + plen, keep);
	acct->idem_day = today;
	return store__walk(t, prefix, plen, prefix, plen, store_idem_trim_one,
	                   &tr, err);
}
