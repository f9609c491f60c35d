/* store_acct.c: account state, mailbox records, the name index and the
 * change log, read through a view and written into the writer's batch.
 * An account is created on first use with the default mailboxes.
 * XXX(storage): no mailbox create/rename/delete operations (and so no
 * STORE_CHANGE_MAILBOX entries) yet; store.h has no API for them. */
#include "storage/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
static int
store_next_uidvalidity(struct store_txn *t, uint32_t part, uint32_t *uidv_r,
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

static void
store_name_put(struct store_txn *t, struct store_acct a, const char *name,
               uint32_t id)
{
	uint8_t key[STORE_KEYS_MAX], val[4];

	store_keys_put32(val, id);
	store__put(t, key, store_keys_name(key, a, name, strlen(name)), val,
	           sizeof(val));
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
	if (store_next_uidvalidity(t, a.part, &uidv, err) != 0)
		return RS_EIO;
	for (size_t i = 0; i < store__ndefaults; i++) {
		struct store_mailbox m;

		store__default_mbox(i, &m);
		m.uidvalidity = uidv;
		store__mbox_save(t, a, &m);
		store_name_put(t, a, m.name, m.id);
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

void
store__change_put(struct store_txn *t, struct store_acct a, uint64_t modseq,
                  enum store_change_kind kind, uint32_t mbox, uint32_t uid)
{
	uint8_t key[STORE_KEYS_CHANGE_LEN], val[STORE_REC_CHANGE_MAX];
	struct store_change c = { .modseq = modseq, .kind = kind,
	                          .mailbox = mbox, .uid = uid };

	/* XXX(storage): the change log is never trimmed; it needs a
	 * retention (and a "too old, resync" answer) before it grows
	 * without bound on busy accounts. */
	store__put(t, key, store_keys_change(key, a, modseq), val,
	           store_rec_change_enc(val, &c));
}
