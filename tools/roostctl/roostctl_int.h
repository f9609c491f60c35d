/* roostctl_int.h: shared by the roostctl sources only: the run context,
 * the subcommand table shape, exit codes, and the helpers every command
 * file uses (roostctl_cmd.c). */
#ifndef ROOST_TOOLS_ROOSTCTL_INT_H
#define ROOST_TOOLS_ROOSTCTL_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/rs_err.h"
#include "tools/roostctl/roostctl_args.h"
#include "tools/roostctl/roostctl_http.h"

#ifndef ROOST_VERSION
#define ROOST_VERSION "0.1.0"
#endif

#define ROOSTCTL_EXIT_OK     0
#define ROOSTCTL_EXIT_FAIL   1        /* the node or the network said no */
#define ROOSTCTL_EXIT_USAGE  2        /* the command line is wrong */

#define ROOSTCTL_DEFAULT_NODE        "127.0.0.1:10180"
/* The quickstart's cluster token, then its standalone node's. */
#define ROOSTCTL_DEFAULT_TOKEN_CLUSTER "./run/admin.token"
#define ROOSTCTL_DEFAULT_TOKEN_LOCAL "./run/node1/admin.token"
#define ROOSTCTL_DEFAULT_TOKEN       "/var/lib/roost/admin.token"

struct roostctl {
	const char           *node;       /* borrowed: argv or environment */
	const char           *token_file; /* borrowed: argv, env or default */
	struct roostctl_http *http;       /* owns; set before a run_fn runs */
};

/* Runs one subcommand once its words are parsed and the node handle is
 * ready. Returns an exit code, having printed any error itself. */
typedef int roostctl_run_fn(struct roostctl *ctl,
                            const struct roostctl_args *a);

struct roostctl_sub {
	const char                    *name;     /* "add"; NULL: no word */
	roostctl_run_fn               *run;
	const struct roostctl_optspec *opts;     /* may be NULL */
	size_t                         nopts;
	size_t                         min_pos, max_pos;
	const char                    *pos_usage; /* "ADDR TARGET..." */
};

#define ROOSTCTL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A top-level command: argv[0] is its name. Returns an exit code. */
typedef int roostctl_cmd_fn(struct roostctl *ctl, int argc, char **argv);

int roostctl_cmd_domain(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_user(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_alias(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_group(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_status(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_cluster(struct roostctl *ctl, int argc, char **argv);
int roostctl_cmd_node(struct roostctl *ctl, int argc, char **argv);
/* "user import FILE" (roostctl_cmd_user_import.c). */
int roostctl_cmd_user_import(struct roostctl *ctl,
                             const struct roostctl_args *a);

/* Picks the subcommand named argv[1] among subs (argv[0] is cmd, "user")
 * and runs it as roostctl_cmd_run_sub does. "cmd --help" prints help. */
int roostctl_cmd_dispatch(struct roostctl *ctl, const char *cmd,
                          const struct roostctl_sub *subs, size_t nsubs,
                          int argc, char **argv);
/* Parses argv (the words after the subcommand) by sub, checks the count of
 * positional arguments, connects to the node, then calls sub->run. */
int roostctl_cmd_run_sub(struct roostctl *ctl, const char *cmd,
                         const struct roostctl_sub *sub, int argc,
                         char **argv);

/* Prints "roostctl: <cmd>: <why> (try roostctl <cmd> --help)" on stderr
 * and returns ROOSTCTL_EXIT_USAGE. cmd may be NULL (no "<cmd>: "). */
int roostctl_cmd_usage(const char *cmd, const char *fmt, ...) RS_PRINTF(2, 3);
/* Prints "roostctl: <err->msg>" on stderr; returns ROOSTCTL_EXIT_FAIL. */
int roostctl_cmd_fail(const struct rs_err *err);

/* roostctl_http_request through ctl; prints the error itself. Returns
 * ROOSTCTL_EXIT_OK with *reply_r (returns owned, may be NULL) or
 * ROOSTCTL_EXIT_FAIL. status_r may be NULL. */
int roostctl_cmd_request(struct roostctl *ctl, const char *what,
                         const char *method, const char *path,
                         const json_t *body, json_t **reply_r,
                         long *status_r);
/* "/<collection>/<escaped item><suffix>"; suffix may be NULL. Returns
 * owned. */
char *roostctl_cmd_path(struct roostctl *ctl, const char *collection,
                        const char *item, const char *suffix);
/* An address as the node shows it: ASCII lowercased copy (returns owned);
 * for lines about entries the answer did not name. */
char *roostctl_cmd_lower(const char *s);

/* "roostctl X del ITEM": DELETE <collection>/<item>, then "deleted
 * <noun> <item lowercased>". Returns an exit code. */
int roostctl_cmd_del(struct roostctl *ctl, const char *collection,
                     const char *noun, const char *item);

/* GET path (what names it in errors). With --json in a, prints the reply
 * and *reply_r is NULL; else *reply_r is the reply (returns owned) for
 * the caller to print for people. Returns an exit code. */
int roostctl_cmd_get(struct roostctl *ctl, const struct roostctl_args *a,
                     const char *what, const char *path, json_t **reply_r);

struct roostctl_col;
struct roostctl_table;

/* Adds the table row of one element of a listing. */
typedef void roostctl_row_fn(struct roostctl_table *t, const json_t *item);

/* A listing: a GET whose reply holds an array, shown one row an element
 * under a header. */
struct roostctl_list {
	const char                *what;    /* "list aliases": for errors */
	const char                *path;    /* "/aliases" */
	const char                *member;  /* the array: "aliases" */
	const struct roostctl_col *cols;
	size_t                     ncols;
	roostctl_row_fn           *row;
};

/* roostctl_cmd_get, then (without --json) the table of l. Returns an
 * exit code. */
int roostctl_cmd_list(struct roostctl *ctl, const struct roostctl_args *a,
                      const struct roostctl_list *l);

/* roostctl_cmd_node.c: a node's row in "node list" and "status". */
#define ROOSTCTL_NODE_NCOLS 7
const struct roostctl_col *roostctl_node_cols(void);
void roostctl_node_row(struct roostctl_table *t, const json_t *n);

/* roostctl_help.c: usage texts on f; cmd NULL for the overview. Returns
 * 0, or -1 if cmd is no command. */
int roostctl_help_print(const char *cmd, FILE *f);

#endif
