/* store_health.c: the store's health (store.h, store_health_int.h). The
 * failed state, entered at the first failed WAL write or sync and left
 * only by a restart; the free-space reserve, measured with statvfs by the
 * writer thread (never on an event loop); and the test hooks that fake
 * both. What the writer and the syncer do in each state is in
 * store_writer.c and store_commit.c. */
#include "storage/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "lib/rs_log.h"
#include "lib/rs_mem.h"
#include "lib/rs_time.h"

void
store__health_init(struct store_hstate *h, const struct store_opts *o)
{
	pthread_mutex_init(&h->mu, NULL);
	h->state = STORE_STATE_OK;
	h->since = rs_wall_ms();
	h->free_bytes = UINT64_MAX;
	h->min_free = o->min_free;
	h->path = rs_xstrdup(o->path);
	h->test_fault = o->test_fault;
	h->test_free = o->test_free;
	h->test_arg = o->test_arg;
}

void
store__health_destroy(struct store_hstate *h)
{
	pthread_mutex_destroy(&h->mu);
	free(h->path);
	h->path = NULL;
}

const char *
store_state_name(enum store_state s)
{
	switch (s) {
	case STORE_STATE_OK: return "ok";
	case STORE_STATE_LOW_SPACE: return "low_space";
	case STORE_STATE_FAILED: return "failed";
	}
	return "unknown";
}

void
store_health_get(struct store *st, struct store_health *out)
{
	struct store_hstate *h = &st->health;

	pthread_mutex_lock(&h->mu);
	out->state = h->state;
	memcpy(out->reason, h->reason, sizeof(out->reason));
	out->since = h->since;
	out->free_bytes = h->free_bytes;
	out->min_free = h->min_free;
	pthread_mutex_unlock(&h->mu);
}

enum store_state
store_health_state(struct store *st)
{
	return __atomic_load_n(&st->health.state, __ATOMIC_ACQUIRE);
}

bool
store__failed(struct store *st)
{
	return __atomic_load_n(&st->health.failed, __ATOMIC_ACQUIRE);
}

/* Moves to state s with reason; called locked. */
static void
store_health_set(struct store_hstate *h, enum store_state s,
                 const char *reason)
{
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	h->since = rs_wall_ms();
	__atomic_store_n(&h->state, s, __ATOMIC_RELEASE);
}

void
store__fail_stop(struct store *st, const char *where, const char *why)
{
	struct store_hstate *h = &st->health;
	char reason[STORE_REASON_MAX];

	pthread_mutex_lock(&h->mu);
	if (h->failed) {
		pthread_mutex_unlock(&h->mu);
		return;
	}
	snprintf(reason, sizeof(reason), "%s failed: %s", where, why);
	store_health_set(h, STORE_STATE_FAILED, reason);
	__atomic_store_n(&h->failed, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&h->mu);
	/* The one line an operator needs: from here on nothing is written
	 * until the node restarts. */
	rs_log(RS_LOG_ERR, "store.failed", "reason=\"%s\" action=restart",
	       reason);
}

bool
store__fault(struct store *st, int fault)
{
	struct store_hstate *h = &st->health;

	return h->test_fault != NULL && h->test_fault(h->test_arg, fault) != 0;
}

/* Octets available to an unprivileged writer (the root reserve of ext4
 * is left alone: it only adds to our margin). -1 if unknown. */
static int
store_space_measure(struct store_hstate *h, uint64_t *free_r)
{
	struct statvfs sv;

	if (h->test_free != NULL)
		return h->test_free(h->test_arg, free_r);
	if (statvfs(h->path, &sv) != 0) {
		if (!h->statvfs_warned)
			rs_log(RS_LOG_WARN, "store.statvfs_failed",
			       "path=%s error=\"%s\"", h->path,
			       strerror(errno));
		h->statvfs_warned = true;
		return -1;
	}
	*free_r = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

/* Under this much (more than twice the reserve) free, the writer's
 * writes and the syncer's syncs stop overlapping (store__space_careful). */
#define STORE_CAREFUL_BYTES ((uint64_t)64 << 20)

bool
store__space_careful(struct store *st)
{
	return __atomic_load_n(&st->health.careful, __ATOMIC_ACQUIRE);
}

/* Leaving low_space needs an eighth of the reserve more than entering
 * it, so that deliveries around the line do not flap it. */
static bool
store_space_low(const struct store_hstate *h, uint64_t avail)
{
	uint64_t leave = h->min_free + h->min_free / 8;

	if (h->state == STORE_STATE_LOW_SPACE)
		return avail < leave;
	return avail < h->min_free;
}

uint64_t
store__space_refresh(struct store *st)
{
	struct store_hstate *h = &st->health;
	uint64_t avail;
	bool known = store_space_measure(h, &avail) == 0;
	enum store_state was, now;
	char reason[STORE_REASON_MAX];

	__atomic_store_n(&h->careful, !known || avail / 2 < h->min_free +
	                 STORE_CAREFUL_BYTES / 2, __ATOMIC_RELEASE);
	pthread_mutex_lock(&h->mu);
	h->free_bytes = known ? avail : UINT64_MAX;
	was = h->state;
	if (was != STORE_STATE_FAILED && known && h->min_free > 0) {
		bool low = store_space_low(h, avail);

		snprintf(reason, sizeof(reason), "%" PRIu64 " octets free, "
		         "under the reserve of %" PRIu64, avail, h->min_free);
		if (low && was == STORE_STATE_OK)
			store_health_set(h, STORE_STATE_LOW_SPACE, reason);
		else if (low)
			snprintf(h->reason, sizeof(h->reason), "%s", reason);
		else if (was == STORE_STATE_LOW_SPACE)
			store_health_set(h, STORE_STATE_OK, "");
	}
	now = h->state;
	pthread_mutex_unlock(&h->mu);
	if (was == STORE_STATE_OK && now == STORE_STATE_LOW_SPACE)
		rs_log(RS_LOG_WARN, "store.low_space", "free=%" PRIu64
		       " min_free=%" PRIu64 " refusing=deliveries,appends",
		       avail, h->min_free);
	else if (was == STORE_STATE_LOW_SPACE && now == STORE_STATE_OK)
		rs_log(RS_LOG_INFO, "store.space_ok", "free=%" PRIu64
		       " min_free=%" PRIu64, avail, h->min_free);
	if (!known || h->min_free == 0)
		return UINT64_MAX;
	if (now != STORE_STATE_OK)
		return 0;
	return store__sub_sat(avail, h->min_free);
}

bool
store__space_take(struct store *st, uint64_t *budget, size_t cost)
{
	uint64_t need = (uint64_t)cost * 2;

	(void)st;
	if (*budget == UINT64_MAX)
		return true;
	if (need > *budget)
		return false;
	*budget -= need;
	return true;
}
