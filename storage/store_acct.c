/* store_acct.c: account state, mailbox records and the name index, read
 * through a view and written into the writer's batch, and the partition's
 * UIDVALIDITY counter. An account is created on first use with the
 * default mailboxes, subscribed. The operations on mailboxes are in
 * store_mailbox.c, the change log in store_changes.c. */
#include "storage/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/rs_mem.h"
#include "storage/store_keys.h"

/* RFC 6154 special-use mailboxes, plus INBOX. The order fixes the ids
 * (INBOX is 1), so it never changes. */
const struct store_default_mbox store__defaults[] = {
	{ "INBOX", STORE_USE_INBOX },
	{ "Sent", STORE_USE_SENT },
	{ "Drafts", STORE_USE_DRAFTS },
	{ "Trash", STORE_USE_TRASH },
	{ "Junk", STORE_USE_JUNK },
	{ "Archive", STORE_USE_ARCHIVE },
};
const size_t store__ndefaults =
    sizeof(store__defaults) / sizeof(store__defaults[0]);

void
store__default_mbox(size_t i, struct store_mailbox *m)
{
	memset(m, 0, sizeof(*m));
	m->id = (uint32_t)i + 1;
	snprintf(m->name, sizeof(m->name), "%s", store__defaults[i].name);
	m->use = store__defaults[i].use;
	m->subscribed = true;
	m->uidnext = 1;
}

const char *
store__index_name(const char *name)
{
	/* RFC 9051 5.1: INBOX is case-insensitive, other names are not. */
	if (name == NULL || strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	return name;
}

int
store__acct_load(const struct store_view *v, struct store_acct a,
                 struct store_rec_acct *r, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_ACCT_LEN];
	uint8_t *val;
	size_t len;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store__get(v, key, store_keys_acct_tag(key, a, STORE_KEYS_STATE),
	                &val, &len, err);
	if (rc != 0)
		return rc;
	rc = store_rec_acct_dec(val, len, r);
	free(val);
	if (rc != 0)
		return store__fail(err, RS_EIO, "corrupt state of account "
		                   "%u/%llu", a.part, (unsigned long long)a.id);
	return 0;
}

void
store__acct_save(struct store_txn *t, struct store_acct a,
                 const struct store_rec_acct *r)
{
	uint8_t key[STORE_KEYS_ACCT_LEN], val[STORE_REC_ACCT_MAX];

	store__put(t, key, store_keys_acct_tag(key, a, STORE_KEYS_STATE), val,
	           store_rec_acct_enc(val, r));
}

/* The next UIDVALIDITY of the partition: the time in seconds, or one
 * more than the last issued if that is not smaller. Kept in the
 * partition (not in the account, which a delete removes) so that a
 * re-created account never sees a value it had before. */
int
store__next_uidvalidity(struct store_txn *t, uint32_t part, uint32_t *uidv_r,
                        struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint8_t key[STORE_KEYS_UIDV_LEN], buf[4];
	uint32_t last = 0, now = (uint32_t)time(NULL);
	uint8_t *val;
	size_t len, klen = store_keys_uidv(key, part);
	int rc;

	rc = store__get(&v, key, klen, &val, &len, err);
	if (rc == 0) {
		if (len == 4)
			last = store_keys_get32(val);
		free(val);
		if (len != 4)
			return store__fail(err, RS_EIO, "corrupt UIDVALIDITY "
			                   "of partition %u", part);
	} else if (rc != RS_ENOTFOUND) {
		return rc;
	}
	/* XXX(storage): past 2106 or after 2^32 creations this wraps; a
	 * u32 UIDVALIDITY cannot do better. */
	*uidv_r = now > last ? now : last + 1;
	if (*uidv_r == 0)
		*uidv_r = 1;            /* RFC 9051: nz-number */
	store_keys_put32(buf, *uidv_r);
	store__put(t, key, klen, buf, sizeof(buf));
	return 0;
}

void
store__name_put(struct store_txn *t, struct store_acct a, const char *name,
                uint32_t id)
{
	uint8_t key[STORE_KEYS_MAX], val[4];

	store_keys_put32(val, id);
	store__put(t, key, store_keys_name(key, a, name, strlen(name)), val,
	           sizeof(val));
}

void
store__name_del(struct store_txn *t, struct store_acct a, const char *name)
{
	uint8_t key[STORE_KEYS_MAX];

	store__del(t, key, store_keys_name(key, a, name, strlen(name)));
}

/* Length of the UTF-8 sequence at p (at most n octets), or 0 if it is
 * not well-formed (RFC 3629 4: no overlongs, no surrogates, <= U+10FFFF). */
static size_t
store_utf8_seq(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3fu);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

int
store__name_check(const char *name, struct rs_err *err)
{
	size_t n = name != NULL ? strlen(name) : 0;
	const uint8_t *p = (const uint8_t *)name;

	if (n == 0 || n > STORE_MAILBOX_NAME_MAX)
		return rs_err_set(err, RS_EINVAL, "mailbox name of %zu octets",
		                  n);
	/* IMAP4rev2 names are UTF-8 (RFC 9051 5.1); anything else would
	 * come back to clients as garbage. */
	for (size_t i = 0; i < n;) {
		size_t len = store_utf8_seq(p + i, n - i);

		if (len == 0)
			return rs_err_set(err, RS_EINVAL, "mailbox name is not "
			                  "UTF-8");
		i += len;
	}
	return 0;
}

int
store__acct_ensure(struct store_txn *t, struct store_acct a,
                   struct store_rec_acct *r, struct rs_err *err)
{
	struct store_view v = store__view_txn(t);
	uint32_t uidv = 0;
	int rc;

	rc = store__acct_load(&v, a, r, err);
	if (rc != RS_ENOTFOUND)
		return rc;
	/* One UIDVALIDITY for all of the account's new mailboxes: it only
	 * has to differ from what an earlier mailbox of the same name had. */
	if (store__next_uidvalidity(t, a.part, &uidv, err) != 0)
		return RS_EIO;
	for (size_t i = 0; i < store__ndefaults; i++) {
		struct store_mailbox m;
		uint8_t key[STORE_KEYS_MAX];

		store__default_mbox(i, &m);
		m.uidvalidity = uidv;
		store__mbox_save(t, a, &m);
		store__name_put(t, a, m.name, m.id);
		store__put(t, key, store_keys_subscr(key, a, m.name,
		                                     strlen(m.name)), "", 0);
	}
	/* Creation is not a change-log event: readers of a never-used
	 * account already saw these mailboxes (store_mailbox_list). */
	memset(r, 0, sizeof(*r));
	r->next_mbox = (uint32_t)store__ndefaults + 1;
	r->nmbox = (uint32_t)store__ndefaults;
	store__acct_save(t, a, r);
	return 0;
}

int
store__mbox_lookup(const struct store_view *v, struct store_acct a,
                   const char *name, uint32_t *id_r, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_MAX];
	uint8_t *val;
	size_t len, nlen;
	int rc;

	name = store__index_name(name);
	nlen = strlen(name);
	*id_r = 0;
	if (nlen == 0 || nlen > STORE_MAILBOX_NAME_MAX)
		return store__fail(err, RS_ENOTFOUND, "no mailbox %s", name);
	rc = store__get(v, key, store_keys_name(key, a, name, nlen), &val,
	                &len, err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "no mailbox %s", name);
	if (rc != 0)
		return rc;
	if (len == 4)
		*id_r = store_keys_get32(val);
	free(val);
	if (len != 4 || *id_r == 0)
		return store__fail(err, RS_EIO, "corrupt mailbox index of "
		                   "account %u/%llu", a.part,
		                   (unsigned long long)a.id);
	return 0;
}

int
store__mbox_load(const struct store_view *v, struct store_acct a,
                 uint32_t id, struct store_mailbox *m, struct rs_err *err)
{
	uint8_t key[STORE_KEYS_MBOX_LEN];
	uint8_t *val;
	size_t len;
	int rc;

	rc = store__get(v, key, store_keys_mbox(key, a, id), &val, &len, err);
	if (rc == RS_ENOTFOUND)
		return store__fail(err, rc, "no mailbox %u", id);
	if (rc != 0)
		return rc;
	rc = store_rec_mbox_dec(val, len, m);
	free(val);
	if (rc != 0)
		return store__fail(err, RS_EIO, "corrupt mailbox %u of account "
		                   "%u/%llu", id, a.part,
		                   (unsigned long long)a.id);
	m->id = id;
	return 0;
}

void
store__mbox_save(struct store_txn *t, struct store_acct a,
                 const struct store_mailbox *m)
{
	uint8_t key[STORE_KEYS_MBOX_LEN], val[STORE_REC_MBOX_MAX];

	store__put(t, key, store_keys_mbox(key, a, m->id), val,
	           store_rec_mbox_enc(val, m));
}

/* ---- creating an account's state before its first session ---- */

struct store_ensure_op {
	struct store_acct a;
};

static int
store_ensure_apply(struct store_txn *t, void *arg, struct rs_err *err)
{
	struct store_ensure_op *x = arg;
	struct store_rec_acct acct;

	return store__acct_ensure(t, x->a, &acct, err) != 0 ? -1 : 0;
}

int
store_account_ensure(struct store *st, struct store_acct a,
                     struct rs_exec *ex, store_done_fn *cb, void *arg,
                     struct rs_err *err)
{
	struct store_ensure_op *x;

	if (a.part > STORE_PART_MAX || ex == NULL || cb == NULL) {
		rs_err_set(err, RS_EINVAL, "bad arguments");
		return -1;
	}
	x = rs_xcalloc(1, sizeof(*x));
	x->a = a;
	return store__submit_owned(st, store_ensure_apply, x, free, 0, ex, cb,
	                           arg, err);
}
