/* main.c: roostd, the Roost node daemon.
 *   roostd --config FILE [--set key=value]…
 *   roostd --standalone --data-dir DIR --port-base B [--bind ADDR] [--set …]
 *   roostd --cluster NAME --etcd URL[,URL…] --node-id ID --data-dir DIR
 *          --port-base B [--bind ADDR] [--advertise HOST] [--set …]
 * Command-line flags and --set override the file. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_config.h"
#include "node/roostd/node.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: roostd --config FILE [--set key=value]...\n"
	    "       roostd --standalone --data-dir DIR [--port-base B] "
	    "[--bind ADDR] [--set key=value]...\n"
	    "       roostd --cluster NAME --etcd URL[,URL...] --node-id ID "
	    "--data-dir DIR\n"
	    "              [--port-base B] [--bind ADDR] [--advertise HOST] "
	    "[--set key=value]...\n");
}

/* Flags that take a value and the config key they set. */
static const struct {
	const char *flag, *key;
} flag_keys[] = {
	{ "--data-dir", "data_dir" },
	{ "--port-base", "port_base" },
	{ "--bind", "bind" },
	{ "--hostname", "hostname" },
	{ "--cluster", "cluster" },
	{ "--etcd", "etcd" },
	{ "--node-id", "node_id" },
	{ "--advertise", "advertise" },
};

int
main(int argc, char **argv)
{
	struct rs_config *cfg = rs_config_new();
	struct rs_config *over = rs_config_new();
	struct rs_err err;
	struct node *n = NULL;
	const char *config_file = NULL;
	int rc = 2;                     /* usage errors */

	/* Large per-command buffers (a 100,000-message SELECT's index and
	 * view are 3 MB) would be fresh mmaps, every page faulted in again
	 * on every command (tens of microseconds a fault on a VM); from the
	 * heap they are reused. Freed memory above 128 MB still goes back. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "--standalone") == 0) {
			rs_config_put(over, "standalone", "yes");
			continue;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			goto out;
		}
		if (strcmp(a, "--config") == 0) {
			config_file = argv[++i];
			continue;
		}
		if (strcmp(a, "--set") == 0) {
			if (rs_config_set(over, argv[++i], &err) != 0) {
				fprintf(stderr, "roostd: %s\n", err.msg);
				goto out;
			}
			continue;
		}
		for (k = 0; k < sizeof(flag_keys) / sizeof(flag_keys[0]); k++)
			if (strcmp(a, flag_keys[k].flag) == 0)
				break;
		if (k == sizeof(flag_keys) / sizeof(flag_keys[0])) {
			fprintf(stderr, "roostd: unknown option %s\n", a);
			usage(stderr);
			goto out;
		}
		rs_config_put(over, flag_keys[k].key, argv[++i]);
	}
	if (config_file != NULL && rs_config_load_file(cfg, config_file,
	                                               &err) != 0) {
		fprintf(stderr, "roostd: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < rs_config_count(over); i++) {
		const char *k = rs_config_key_at(over, i);

		rs_config_put(cfg, k, rs_config_get(over, k));
	}
	rs_config_free(&over);
	/* node_new takes cfg, also when it fails. */
	if (node_new(cfg, &n, &err) != 0) {
		fprintf(stderr, "roostd: %s\n", err.msg);
		node_free(&n);
		return 1;
	}
	rc = node_run(n);
	node_free(&n);
	return rc;
out:
	rs_config_free(&over);
	rs_config_free(&cfg);
	return rc;
}
