/* main.c: roostctl, the admin CLI. Reads the global options, finds the
 * node and the token file, and hands the rest of the line to a command
 * (roostctl_cmd_*.c). Talks to the admin API of node/admin/API.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_wipe.h"

static const struct {
	const char      *name;
	roostctl_cmd_fn *run;
} roostctl_cmds[] = {
	{ "domain", roostctl_cmd_domain },
	{ "user", roostctl_cmd_user },
	{ "alias", roostctl_cmd_alias },
	{ "group", roostctl_cmd_group },
	{ "status", roostctl_cmd_status },
	{ "cluster", roostctl_cmd_cluster },
	{ "node", roostctl_cmd_node },
};

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; 1 with *val_r,
 * 0 if argv[*i] is another word, -1 if the value is missing. */
static int
roostctl_global_opt(int argc, char **argv, int *i, const char *name,
                    const char **val_r)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val_r = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val_r = argv[++*i];
	return 1;
}

static const char *
roostctl_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Fills ctl from the global options and the environment; *next_r is the
 * index of the command word. -1 (usage error printed) or 0; 1 when help
 * or the version was printed. */
static int
roostctl_globals(struct roostctl *ctl, int argc, char **argv, int *next_r)
{
	const char *node = NULL, *tokf = NULL, *src = "--node";
	struct rs_err err;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			roostctl_help_print(NULL, stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("roostctl %s\n", ROOST_VERSION);
			return 1;
		}
		if ((rc = roostctl_global_opt(argc, argv, &i, "--node",
		                              &node)) == 0)
			rc = roostctl_global_opt(argc, argv, &i, "--token-file",
			                         &tokf);
		if (rc < 0) {
			roostctl_cmd_usage(NULL, "option '%s' needs a value",
			                   argv[i]);
			return -1;
		}
		if (rc == 0) {
			roostctl_cmd_usage(NULL, "unknown option '%s'",
			                   argv[i]);
			return -1;
		}
	}
	if (node == NULL && (node = roostctl_env("ROOST_NODE")) != NULL)
		src = "ROOST_NODE";
	if (node == NULL)
		node = ROOSTCTL_DEFAULT_NODE;
	if (roostctl_args_node(node, &err) != 0) {
		roostctl_cmd_usage(NULL, "bad %s '%s': %s", src, node, err.msg);
		return -1;
	}
	if (tokf == NULL)
		tokf = roostctl_env("ROOST_TOKEN_FILE");
	if (tokf == NULL)
		tokf = access(ROOSTCTL_DEFAULT_TOKEN_CLUSTER, F_OK) == 0
		       ? ROOSTCTL_DEFAULT_TOKEN_CLUSTER
		       : access(ROOSTCTL_DEFAULT_TOKEN_LOCAL, F_OK) == 0
		       ? ROOSTCTL_DEFAULT_TOKEN_LOCAL : ROOSTCTL_DEFAULT_TOKEN;
	ctl->node = node;
	ctl->token_file = tokf;
	*next_r = i;
	return 0;
}

static int
roostctl_run(struct roostctl *ctl, int argc, char **argv)
{
	const char *cmd;

	if (argc < 1)
		return roostctl_cmd_usage(NULL, "missing command");
	cmd = argv[0];
	if (strcmp(cmd, "help") == 0) {
		if (argc > 2)
			return roostctl_cmd_usage(NULL, "help takes one "
			                          "command");
		if (roostctl_help_print(argc == 2 ? argv[1] : NULL,
		                        stdout) != 0)
			return roostctl_cmd_usage(NULL, "unknown command '%s'",
			                          argv[1]);
		return ROOSTCTL_EXIT_OK;
	}
	for (size_t i = 0; i < ROOSTCTL_NELEM(roostctl_cmds); i++)
		if (strcmp(roostctl_cmds[i].name, cmd) == 0)
			return roostctl_cmds[i].run(ctl, argc, argv);
	return roostctl_cmd_usage(NULL, "unknown command '%s'", cmd);
}

int
main(int argc, char **argv)
{
	struct roostctl ctl = { 0 };
	int next = 0, rc;

	if (roostctl_wipe_init() != 0) {
		fputs("roostctl: cannot initialise libcurl\n", stderr);
		return ROOSTCTL_EXIT_FAIL;
	}
	rc = roostctl_globals(&ctl, argc, argv, &next);
	if (rc == 0)
		rc = roostctl_run(&ctl, argc - next, argv + next);
	else
		rc = rc > 0 ? ROOSTCTL_EXIT_OK : ROOSTCTL_EXIT_USAGE;
	roostctl_http_free(&ctl.http);
	roostctl_wipe_cleanup();
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "roostctl: writing the output: %s\n",
		        strerror(errno));
		if (rc == ROOSTCTL_EXIT_OK)
			rc = ROOSTCTL_EXIT_FAIL;
	}
	return rc;
}
