/* roostctl_cmd_status.c: "roostctl status" over /api/v1/status. Known
 * members print first in a fixed order; members a newer node adds print
 * after them, so the CLI need not change with every field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

static const struct roostctl_optspec roostctl_status_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};

static const char *const roostctl_status_known[] = {
	"node", "version", "mode", "cluster", "controller", "uptime_s",
	"partitions", "domains", "accounts", "sessions", "store",
	"store_state", "store_reason", "store_since", "store_free",
	"store_min_free", "replication_factor", "settled", "nodes",
};

/* "3d 4h 5m", "1h 2m 5s", "5s". */
static void
roostctl_status_uptime(uint64_t s, char *buf, size_t size)
{
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d > 0)
		snprintf(buf, size, "%llud %lluh %llum", (unsigned long long)d,
		         (unsigned long long)h, (unsigned long long)m);
	else if (h > 0)
		snprintf(buf, size, "%lluh %llum %llus", (unsigned long long)h,
		         (unsigned long long)m, (unsigned long long)(s % 60));
	else if (m > 0)
		snprintf(buf, size, "%llum %llus", (unsigned long long)m,
		         (unsigned long long)(s % 60));
	else
		snprintf(buf, size, "%llus", (unsigned long long)s);
}

static uint64_t
roostctl_status_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* The store's counters (totals since start) as means for people:
 * "12 ops (0 failed, 0 queued), 5 groups, 4 syncs (0 failed); commit
 * mean 1.20 ms, max 3.66 ms; sync mean 0.90 ms, max 3.44 ms". */
static void
roostctl_status_store(const json_t *v, char *buf, size_t size)
{
	uint64_t ops = roostctl_status_u64(v, "ops");
	uint64_t syncs = roostctl_status_u64(v, "syncs");

	snprintf(buf, size,
	         "%llu ops (%llu failed, %llu queued), %llu groups, "
	         "%llu syncs (%llu failed); commit mean %.2f ms, max %.2f ms; "
	         "sync mean %.2f ms, max %.2f ms",
	         (unsigned long long)ops,
	         (unsigned long long)roostctl_status_u64(v, "ops_failed"),
	         (unsigned long long)roostctl_status_u64(v, "queued"),
	         (unsigned long long)roostctl_status_u64(v, "groups"),
	         (unsigned long long)syncs,
	         (unsigned long long)roostctl_status_u64(v, "sync_errors"),
	         ops > 0 ? (double)roostctl_status_u64(v, "commit_us") /
	                   (double)ops / 1000.0 : 0.0,
	         (double)roostctl_status_u64(v, "commit_us_max") / 1000.0,
	         syncs > 0 ? (double)roostctl_status_u64(v, "sync_us") /
	                     (double)syncs / 1000.0 : 0.0,
	         (double)roostctl_status_u64(v, "sync_us_max") / 1000.0);
}

/* One value for people (returns owned): strings as they are, an object
 * as "key value, key value", anything else as compact JSON. */
static char *
roostctl_status_value(const json_t *v)
{
	struct rs_buf b;
	const char *k;
	const json_t *x;
	char *s;
	size_t n;

	if (json_is_string(v))
		return rs_xstrdup(json_string_value(v));
	if (!json_is_object(v)) {
		char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		s = rs_xstrdup(j != NULL ? j : "?");
		free(j);
		return s;
	}
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	json_object_foreach((json_t *)v, k, x) {
		char *vs = roostctl_status_value(x);

		/* Appends to an unlimited buffer cannot fail. */
		if (rs_buf_printf(&b, "%s%s %s", b.len > 0 ? ", " : "", k,
		                  vs) != 0)
			abort();
		free(vs);
	}
	s = (char *)rs_buf_steal(&b, &n);
	return s != NULL ? s : rs_xstrdup("");
}

static bool
roostctl_status_is_known(const char *key)
{
	for (size_t i = 0; i < ROOSTCTL_NELEM(roostctl_status_known); i++)
		if (strcmp(roostctl_status_known[i], key) == 0)
			return true;
	return false;
}

/* "ok, 2.1 GiB free (reserve 192.0 MiB)", or "failed since 12:03:04
 * UTC: sync failed: …". */
static void
roostctl_status_health(const json_t *st, const char *state, char *buf,
                       size_t size)
{
	const char *reason = json_string_value(json_object_get(st,
	                                                       "store_reason"));
	json_int_t since = json_integer_value(json_object_get(st,
	                                                      "store_since"));
	const json_t *fr = json_object_get(st, "store_free");
	double mib = 1024.0 * 1024.0;
	char when[32] = "";
	time_t t = (time_t)since;
	struct tm tm;

	if (strcmp(state, "ok") != 0 && since > 0 &&
	    gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), " since %Y-%m-%d %H:%M:%S UTC",
		         &tm);
	if (reason != NULL && reason[0] != '\0')
		snprintf(buf, size, "%s%s: %s", state, when, reason);
	else if (json_is_integer(fr))
		snprintf(buf, size, "%s, %.1f MiB free (reserve %.1f MiB)",
		         state, (double)roostctl_status_u64(st, "store_free") /
		         mib, (double)roostctl_status_u64(st, "store_min_free") /
		         mib);
	else
		snprintf(buf, size, "%s", state);
}

static void
roostctl_status_row(struct roostctl_table *t, const json_t *st,
                    const char *key, const json_t *v)
{
	char buf[512], *s;

	if (v == NULL)
		return;
	if (strcmp(key, "store_state") == 0 && json_is_string(v)) {
		roostctl_status_health(st, json_string_value(v), buf,
		                       sizeof(buf));
		roostctl_out_table_add(t, (const char *[]){ key, buf });
		return;
	}
	if (strncmp(key, "store_", 6) == 0 && roostctl_status_is_known(key))
		return;                 /* in the store_state row */
	if (strcmp(key, "store") == 0 && json_is_object(v)) {
		roostctl_status_store(v, buf, sizeof(buf));
		roostctl_out_table_add(t, (const char *[]){ key, buf });
		return;
	}
	if (strcmp(key, "nodes") == 0)
		return;                 /* a table of its own */
	if (strcmp(key, "partitions") == 0 && json_is_array(v)) {
		size_t i, live = 0, used = 0;
		const json_t *p;

		json_array_foreach(v, i, p) {
			live += json_is_true(json_object_get(p, "primary_alive"));
			used += json_is_true(json_object_get(p, "used"));
		}
		snprintf(buf, sizeof(buf), "%zu (%zu with a live primary, %zu "
		         "holding accounts)", json_array_size(v), live, used);
		roostctl_out_table_add(t, (const char *[]){ key, buf });
		return;
	}
	if (strcmp(key, "uptime_s") == 0 && json_is_integer(v)) {
		roostctl_status_uptime(json_integer_value(v) > 0
		                       ? (uint64_t)json_integer_value(v) : 0,
		                       buf, sizeof(buf));
		roostctl_out_table_add(t, (const char *[]){ "uptime", buf });
		return;
	}
	s = roostctl_status_value(v);
	roostctl_out_table_add(t, (const char *[]){ key, s });
	free(s);
}

static int
roostctl_status_run(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "", false }, { "", false },
	};
	struct roostctl_table *t;
	json_t *st, *v;
	const char *key;
	int rc;

	rc = roostctl_cmd_get(ctl, a, "status", "/status", &st);
	if (st == NULL)
		return rc;
	t = roostctl_out_table_new(cols, ROOSTCTL_NELEM(cols));
	for (size_t i = 0; i < ROOSTCTL_NELEM(roostctl_status_known); i++) {
		key = roostctl_status_known[i];
		roostctl_status_row(t, st, key, json_object_get(st, key));
	}
	json_object_foreach(st, key, v)
		if (!roostctl_status_is_known(key))
			roostctl_status_row(t, st, key, v);
	roostctl_out_table_print(t, false, stdout);
	roostctl_out_table_free(&t);
	if (json_is_array(v = json_object_get(st, "nodes"))) {
		size_t i;
		const json_t *n;

		t = roostctl_out_table_new(roostctl_node_cols(),
		                           ROOSTCTL_NODE_NCOLS);
		json_array_foreach(v, i, n)
			roostctl_node_row(t, n);
		putchar('\n');
		roostctl_out_table_print(t, true, stdout);
		roostctl_out_table_free(&t);
	}
	json_decref(st);
	return ROOSTCTL_EXIT_OK;
}

int
roostctl_cmd_status(struct roostctl *ctl, int argc, char **argv)
{
	static const struct roostctl_sub sub = {
		NULL, roostctl_status_run, roostctl_status_opts,
		ROOSTCTL_NELEM(roostctl_status_opts), 0, 0, "",
	};

	return roostctl_cmd_run_sub(ctl, "status", &sub, argc - 1, argv + 1);
}
