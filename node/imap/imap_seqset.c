/* imap_seqset.c: sequence sets of imap_seqset.h. Parsing is one loop over
 * the text; normalizing is a sort and a merge; nothing here knows the
 * mailbox beyond the max given to imap_seqset_resolve. */
#include "node/imap/imap_seqset.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/rs_mem.h"

/* One element at *pp: nz-number or "*"; 0 or -1. */
static int
imap_seqset_num(const char **pp, const char *e, uint32_t *v_r)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p < e && *p == '*') {
		*v_r = IMAP_SEQSET_STAR;
		*pp = p + 1;
		return 0;
	}
	if (p == e || *p < '1' || *p > '9')
		return -1;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	/* RFC 9051 9: only "*" is the largest number in use. The store
	 * never hands out UID 4294967295 (UIDNEXT stops there) and no
	 * mailbox holds that many messages, so the number names nothing and
	 * reads as the one below: "UID 7:4294967295" is 7 and up, never the
	 * last message when every UID is below 7. */
	*v_r = v == UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)v;
	*pp = p;
	return 0;
}

/* Reads the elements of s in the order written into an owned array. */
static int
imap_seqset_raw(struct rs_str s, size_t max, struct imap_seqset_range **r_r,
                size_t *n_r, struct rs_err *err)
{
	const char *p = s.p, *e = s.p + s.len;
	struct imap_seqset_range *r = NULL;
	size_t n = 0, cap = 0;

	*r_r = NULL;
	*n_r = 0;
	if (s.len == 0)
		return rs_err_set(err, RS_EINVAL, "Empty sequence set");
	for (;;) {
		uint32_t lo, hi;

		if (imap_seqset_num(&p, e, &lo) != 0)
			break;
		hi = lo;
		if (p < e && *p == ':') {
			p++;
			if (imap_seqset_num(&p, e, &hi) != 0)
				break;
		}
		if (n == max) {
			free(r);
			return rs_err_set(err, RS_ETOOBIG,
			                  "Sequence set too long");
		}
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if (cap > max)
				cap = max;
			r = rs_xreallocarray(r, cap, sizeof(*r));
		}
		r[n].lo = lo < hi ? lo : hi;
		r[n].hi = lo < hi ? hi : lo;
		n++;
		if (p == e) {
			*r_r = r;
			*n_r = n;
			return 0;
		}
		if (*p++ != ',')
			break;
	}
	free(r);
	return rs_err_set(err, RS_EINVAL, "Invalid sequence set");
}

static int
imap_seqset_cmp(const void *a, const void *b)
{
	const struct imap_seqset_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges. */
static void
imap_seqset_normalize(struct imap_seqset *set)
{
	size_t w = 0;

	if (set->n < 2)
		return;
	qsort(set->r, set->n, sizeof(*set->r), imap_seqset_cmp);
	for (size_t i = 1; i < set->n; i++) {
		struct imap_seqset_range *last = &set->r[w];

		if (set->r[i].lo <= last->hi ||
		    (last->hi != UINT32_MAX && set->r[i].lo == last->hi + 1)) {
			if (set->r[i].hi > last->hi)
				last->hi = set->r[i].hi;
		} else {
			set->r[++w] = set->r[i];
		}
	}
	set->n = w + 1;
}

int
imap_seqset_parse(struct rs_str s, size_t max_ranges, struct imap_seqset *set,
                  struct rs_err *err)
{
	set->r = NULL;
	set->n = 0;
	set->saved = false;
	if (s.len == 1 && s.p[0] == '$') {
		set->saved = true;
		return 0;
	}
	if (imap_seqset_raw(s, max_ranges == 0 ? IMAP_SEQSET_RANGES_MAX :
	                    max_ranges, &set->r, &set->n, err) != 0)
		return -1;
	imap_seqset_normalize(set);
	return 0;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	if (set == NULL)
		return;
	RS_FREE(&set->r);
	set->n = 0;
	set->saved = false;
}

void
imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	size_t w = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct imap_seqset_range r = set->r[i];

		if (max == 0 && r.hi == IMAP_SEQSET_STAR)
			continue;       /* "*" of an empty mailbox */
		if (r.lo == IMAP_SEQSET_STAR)
			r.lo = max;
		if (r.hi == IMAP_SEQSET_STAR)
			r.hi = max;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		set->r[w++] = r;
	}
	set->n = w;
	imap_seqset_normalize(set);
}

bool
imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t
imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return n;
}

uint32_t
imap_seqset_max(const struct imap_seqset *set)
{
	return set->n == 0 ? 0 : set->r[set->n - 1].hi;
}

void
imap_seqset_iter_init(struct imap_seqset_iter *it,
                      const struct imap_seqset *set)
{
	it->set = set;
	it->i = 0;
	it->next = set->n > 0 ? set->r[0].lo : 0;
}

bool
imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *v_r)
{
	const struct imap_seqset *set = it->set;

	if (it->i < set->n && it->next > set->r[it->i].hi) {
		if (++it->i < set->n)
			it->next = set->r[it->i].lo;
	}
	if (it->i >= set->n)
		return false;
	*v_r = (uint32_t)it->next++;
	return true;
}

static int
imap_seqset_put(struct rs_buf *b, bool comma, uint32_t lo, uint32_t hi)
{
	char s[32];
	int n;

	if (lo == hi)
		n = lo == IMAP_SEQSET_STAR ?
		    snprintf(s, sizeof(s), "%s*", comma ? "," : "") :
		    snprintf(s, sizeof(s), "%s%u", comma ? "," : "", lo);
	else if (hi == IMAP_SEQSET_STAR)
		n = snprintf(s, sizeof(s), "%s%u:*", comma ? "," : "", lo);
	else
		n = snprintf(s, sizeof(s), "%s%u:%u", comma ? "," : "", lo, hi);
	return rs_buf_append(b, s, (size_t)n);
}

int
imap_seqset_format(struct rs_buf *b, const struct imap_seqset *set)
{
	if (set->saved)
		return rs_buf_append(b, "$", 1);
	for (size_t i = 0; i < set->n; i++)
		if (imap_seqset_put(b, i > 0, set->r[i].lo, set->r[i].hi) != 0)
			return RS_ETOOBIG;
	return 0;
}

int
imap_seqset_format_uids(struct rs_buf *b, const uint32_t *v, size_t n)
{
	size_t i = 0;
	bool comma = false;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && v[j + 1] == v[j] + 1 && v[j] != UINT32_MAX)
			j++;
		if (imap_seqset_put(b, comma, v[i], v[j]) != 0)
			return RS_ETOOBIG;
		comma = true;
		i = j + 1;
	}
	return 0;
}

/* Expands raw ranges in their order into an owned array. */
static int
imap_seqset_expand(struct rs_str s, size_t max, uint32_t **v_r, size_t *n_r,
                   struct rs_err *err)
{
	struct imap_seqset_range *r;
	uint32_t *v = NULL;
	size_t nr, n = 0;

	*v_r = NULL;
	*n_r = 0;
	if (imap_seqset_raw(s, max, &r, &nr, err) != 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		if (r[i].hi == IMAP_SEQSET_STAR) {
			free(r);
			free(v);
			return rs_err_set(err, RS_EINVAL,
			                  "No * in known sets");
		}
		if ((uint64_t)r[i].hi - r[i].lo + 1 > max - n) {
			free(r);
			free(v);
			return rs_err_set(err, RS_ETOOBIG, "Known set too long");
		}
		v = rs_xreallocarray(v, n + (r[i].hi - r[i].lo) + 1,
		                     sizeof(*v));
		for (uint64_t x = r[i].lo; x <= r[i].hi; x++)
			v[n++] = (uint32_t)x;
	}
	free(r);
	*v_r = v;
	*n_r = n;
	return 0;
}

int
imap_seqset_match_pairs(struct rs_str seqs, struct rs_str uids,
                        size_t max_values, uint32_t **seqs_r,
                        uint32_t **uids_r, size_t *n_r, struct rs_err *err)
{
	size_t ns, nu;

	*seqs_r = *uids_r = NULL;
	*n_r = 0;
	if (max_values == 0)
		return rs_err_set(err, RS_ETOOBIG, "Known set too long");
	if (imap_seqset_expand(seqs, max_values, seqs_r, &ns, err) != 0)
		return -1;
	if (imap_seqset_expand(uids, max_values, uids_r, &nu, err) != 0) {
		RS_FREE(seqs_r);
		return -1;
	}
	if (ns != nu) {
		RS_FREE(seqs_r);
		RS_FREE(uids_r);
		return rs_err_set(err, RS_EINVAL,
		                  "Known sets differ in length");
	}
	*n_r = ns;
	return 0;
}
