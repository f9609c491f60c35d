/* roostctl_cmd_cluster.c: "roostctl cluster init" (creates a cluster in
 * etcd: its configuration, peer key and the hash of a new admin token)
 * and "roostctl cluster wait" (polls a node's status until every
 * partition has a live primary and placement has settled). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "lib/rs_base64.h"
#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_etcd.h"
#include "tools/roostctl/roostctl_int.h"

static const struct roostctl_optspec roostctl_init_opts[] = {
	{ "etcd", ROOSTCTL_OPT_STR, false, true },
	{ "name", ROOSTCTL_OPT_STR, false, true },
	{ "partitions", ROOSTCTL_OPT_STR, false, false },
	{ "replicas", ROOSTCTL_OPT_STR, false, false },
	{ "token-file", ROOSTCTL_OPT_STR, false, true },
};

static const struct roostctl_optspec roostctl_wait_opts[] = {
	{ "timeout", ROOSTCTL_OPT_STR, false, false },
};

/* A whole number in [min, max]; -1 if s is not one. */
static long
roostctl_cluster_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/* Same rules as the node's ids (cluster/cluster_rec.c). */
static bool
roostctl_cluster_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') ||
		             (s[i] >= '0' && s[i] <= '9');

		if (!alnum && (i == 0 || strchr("._-", s[i]) == NULL))
			return false;
	}
	return true;
}

/* Writes the token to path.tmp (0600); the caller renames or unlinks. */
static int
roostctl_cluster_write_token(const char *tmp, const char *token,
                             struct rs_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(token);

	if (fd < 0)
		return rs_err_set(err, RS_EIO, "cannot write %s: %s", tmp,
		                  strerror(errno));
	if (write(fd, token, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return rs_err_set(err, RS_EIO, "cannot write %s: %s", tmp,
		                  strerror(errno));
	}
	close(fd);
	return 0;
}

static void
roostctl_cluster_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* cluster init's words, checked. */
struct roostctl_init {
	const char *name, *etcd, *token_file;
	long        parts, reps;
};

/* 0: go on; -1: help was printed (exit 0); else the exit code of the
 * usage error printed. */
static int
roostctl_cluster_init_args(struct roostctl_args *a, int argc, char **argv,
                           struct roostctl_init *in)
{
	struct rs_err err;
	int rc = roostctl_args_parse(a, roostctl_init_opts,
	                             ROOSTCTL_NELEM(roostctl_init_opts), argc,
	                             argv, &err);

	if (rc == 1) {
		roostctl_help_print("cluster", stdout);
		return -1;
	}
	if (rc != 0)
		return roostctl_cmd_usage("cluster init", "%s", err.msg);
	if (a->npos > 0)
		return roostctl_cmd_usage("cluster init", "unexpected argument "
		                          "'%s'", a->pos[0]);
	in->name = roostctl_args_get(a, "name");
	in->etcd = roostctl_args_get(a, "etcd");
	in->token_file = roostctl_args_get(a, "token-file");
	in->parts = 64;
	in->reps = 3;
	if (!roostctl_cluster_name_ok(in->name))
		return roostctl_cmd_usage("cluster init", "--name: a-z, 0-9, "
		                          "'.', '_', '-' (at most 63)");
	if (roostctl_args_has(a, "partitions") &&
	    (in->parts = roostctl_cluster_num(roostctl_args_get(a,
	                                      "partitions"), 1, 4096)) < 0)
		return roostctl_cmd_usage("cluster init", "--partitions: 1 to "
		                          "4096");
	if (roostctl_args_has(a, "replicas") &&
	    (in->reps = roostctl_cluster_num(roostctl_args_get(a, "replicas"),
	                                     1, 7)) < 0)
		return roostctl_cmd_usage("cluster init", "--replicas: 1 to 7");
	return 0;
}

/* Creates the cluster: the token file first (once etcd holds the hash,
 * the token must already be safe on disk), then the configuration key,
 * then the token file under its name. */
static int
roostctl_cluster_create(const struct roostctl_init *in, const char *token,
                        const char *value)
{
	char *ckey = rs_xasprintf("/roost/%s/config", in->name);
	char *tmp = rs_xasprintf("%s.tmp", in->token_file);
	struct rs_err err;
	int rc;

	if (roostctl_cluster_write_token(tmp, token, &err) != 0) {
		rc = roostctl_cmd_fail(&err);
		goto out;
	}
	rc = roostctl_etcd_create(in->etcd, ckey, value, &err);
	if (rc != 0)
		unlink(tmp);
	if (rc == RS_ECONFLICT) {
		fprintf(stderr, "roostctl: cluster %s exists already in etcd "
		        "(nothing changed)\n", in->name);
		rc = ROOSTCTL_EXIT_FAIL;
	} else if (rc != 0) {
		rc = roostctl_cmd_fail(&err);
	} else if (rename(tmp, in->token_file) != 0) {
		fprintf(stderr, "roostctl: cluster %s created, but the token is "
		        "in %s (rename: %s)\n", in->name, tmp, strerror(errno));
		rc = ROOSTCTL_EXIT_FAIL;
	} else {
		printf("created cluster %s: %ld partitions, %ld replicas; admin "
		       "token in %s\n", in->name, in->parts, in->reps,
		       in->token_file);
		rc = ROOSTCTL_EXIT_OK;
	}
out:
	free(ckey);
	free(tmp);
	return rc;
}

static int
roostctl_cluster_init(int argc, char **argv)
{
	struct roostctl_args a;
	struct roostctl_init in = { 0 };
	unsigned char raw[32], md[32], peer[32];
	char token[65], hash[65], key64[64], *value;
	int rc;

	rc = roostctl_cluster_init_args(&a, argc, argv, &in);
	if (rc != 0) {
		roostctl_args_free(&a);
		return rc < 0 ? ROOSTCTL_EXIT_OK : rc;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    RAND_bytes(peer, sizeof(peer)) != 1) {
		roostctl_args_free(&a);
		fputs("roostctl: no randomness for the keys\n", stderr);
		return ROOSTCTL_EXIT_FAIL;
	}
	roostctl_cluster_hex(raw, sizeof(raw), token);
	SHA256((const unsigned char *)token, 64, md);
	roostctl_cluster_hex(md, sizeof(md), hash);
	rs_base64_encode(peer, sizeof(peer), key64);
	value = rs_xasprintf("{\"created\":%lld,\"partitions\":%ld,"
	                     "\"peer_key\":\"%s\",\"replicas\":%ld,"
	                     "\"token_sha256\":\"%s\"}",
	                     (long long)time(NULL), in.parts, key64, in.reps,
	                     hash);
	rc = roostctl_cluster_create(&in, token, value);
	OPENSSL_cleanse(token, sizeof(token));
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(peer, sizeof(peer));
	OPENSSL_cleanse(key64, sizeof(key64));
	OPENSSL_cleanse(value, strlen(value));
	free(value);
	roostctl_args_free(&a);
	return rc;
}

/* What is missing for the cluster to serve everything, into why (empty:
 * nothing). A partition needs a primary that is alive; placement must
 * have settled (the status's "settled"). */
static void
roostctl_cluster_missing(const json_t *st, char *why, size_t size)
{
	const json_t *parts = json_object_get(st, "partitions"), *p;
	size_t i, noprimary = 0, dead = 0, lagging = 0, first = (size_t)-1;

	why[0] = '\0';
	if (!json_is_array(parts)) {
		snprintf(why, size, "the node is not in a cluster");
		return;
	}
	json_array_foreach(parts, i, p) {
		if (json_is_null(json_object_get(p, "primary")))
			noprimary++;
		else if (!json_is_true(json_object_get(p, "primary_alive")))
			dead++;
		else if (json_array_size(json_object_get(p, "in_sync")) <
		         json_array_size(json_object_get(p, "replicas")))
			lagging++;
		else
			continue;
		if (first == (size_t)-1)
			first = i;
	}
	if (noprimary + dead > 0)
		snprintf(why, size, "%zu partitions without a primary, %zu whose "
		         "primary is not alive (first: partition %zu)", noprimary,
		         dead, first);
	else if (lagging > 0)
		snprintf(why, size, "%zu partitions with replicas not in sync "
		         "(first: partition %zu)", lagging, first);
	else if (!json_is_true(json_object_get(st, "settled")))
		snprintf(why, size, "placement has not settled (partitions are "
		         "being assigned)");
}

static int
roostctl_cluster_wait(struct roostctl *ctl, const struct roostctl_args *a)
{
	long timeout = 60;
	struct timespec t0, now;
	char why[256] = "no answer yet";

	if (roostctl_args_has(a, "timeout") &&
	    (timeout = roostctl_cluster_num(roostctl_args_get(a, "timeout"), 0,
	                                    86400)) < 0)
		return roostctl_cmd_usage("cluster wait", "--timeout: seconds");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_t *st = NULL;
		struct rs_err err;

		if (roostctl_http_request(ctl->http, "status", "GET", "/status",
		                          NULL, &st, NULL, &err) == 0) {
			roostctl_cluster_missing(st, why, sizeof(why));
			json_decref(st);
			if (why[0] == '\0') {
				puts("cluster ready: every partition has a live "
				     "primary and all its replicas in sync");
				return ROOSTCTL_EXIT_OK;
			}
		} else {
			snprintf(why, sizeof(why), "%s", err.msg);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= timeout)
			break;
		usleep(200 * 1000);
	}
	fprintf(stderr, "roostctl: cluster not ready after %lds: %s\n",
	        timeout, why);
	return ROOSTCTL_EXIT_FAIL;
}

int
roostctl_cmd_cluster(struct roostctl *ctl, int argc, char **argv)
{
	static const struct roostctl_sub subs[] = {
		{ "wait", roostctl_cluster_wait, roostctl_wait_opts,
		  ROOSTCTL_NELEM(roostctl_wait_opts), 0, 0, "" },
	};

	/* init talks to etcd, not to a node: no token to read yet. */
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return roostctl_cluster_init(argc - 2, argv + 2);
	return roostctl_cmd_dispatch(ctl, "cluster", subs, ROOSTCTL_NELEM(subs),
	                             argc, argv);
}
