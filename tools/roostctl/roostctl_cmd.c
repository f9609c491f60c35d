/* roostctl_cmd.c: what every command file shares: picking a subcommand,
 * checking its words, connecting, usage errors and the request wrapper
 * that prints failures, and the shapes the directory commands repeat
 * (del, list, --json). The commands themselves are in roostctl_cmd_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"

int
roostctl_cmd_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "roostctl: %s%s", cmd != NULL ? cmd : "",
	        cmd != NULL ? ": " : "");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, " (try roostctl %s --help)\n", cmd);
	else
		fputs(" (try roostctl help)\n", stderr);
	return ROOSTCTL_EXIT_USAGE;
}

int
roostctl_cmd_fail(const struct rs_err *err)
{
	fprintf(stderr, "roostctl: %s\n", err->msg);
	return ROOSTCTL_EXIT_FAIL;
}

static bool
roostctl_cmd_is_help(const char *w)
{
	return strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0 ||
	       strcmp(w, "help") == 0;
}

int
roostctl_cmd_dispatch(struct roostctl *ctl, const char *cmd,
                      const struct roostctl_sub *subs, size_t nsubs,
                      int argc, char **argv)
{
	if (argc < 2)
		return roostctl_cmd_usage(cmd, "missing subcommand");
	if (roostctl_cmd_is_help(argv[1])) {
		roostctl_help_print(cmd, stdout);
		return ROOSTCTL_EXIT_OK;
	}
	for (size_t i = 0; i < nsubs; i++)
		if (strcmp(subs[i].name, argv[1]) == 0)
			return roostctl_cmd_run_sub(ctl, cmd, &subs[i],
			                            argc - 2, argv + 2);
	return roostctl_cmd_usage(cmd, "unknown subcommand '%s'", argv[1]);
}

/* The name of positional argument i in "ADDR TARGET...", into buf; past
 * the last word, the last word (it is the repeated one). */
static const char *
roostctl_cmd_posname(const char *usage, size_t i, char *buf, size_t size)
{
	const char *p = usage;
	size_t n;

	for (;;) {
		n = strcspn(p, " ");
		if (i == 0 || p[n] == '\0')
			break;
		p += n + 1;
		i--;
	}
	if (n >= 3 && strncmp(p + n - 3, "...", 3) == 0)
		n -= 3;
	snprintf(buf, size, "%.*s", (int)n, p);
	return buf;
}

int
roostctl_cmd_run_sub(struct roostctl *ctl, const char *cmd,
                     const struct roostctl_sub *sub, int argc, char **argv)
{
	struct roostctl_args a;
	struct rs_err err;
	char full[64], name[32];
	int rc;

	snprintf(full, sizeof(full), "%s%s%s", cmd,
	         sub->name != NULL ? " " : "",
	         sub->name != NULL ? sub->name : "");
	rc = roostctl_args_parse(&a, sub->opts, sub->nopts, argc, argv, &err);
	if (rc == 1) {
		roostctl_args_free(&a);
		roostctl_help_print(cmd, stdout);
		return ROOSTCTL_EXIT_OK;
	}
	if (rc != 0)
		rc = roostctl_cmd_usage(full, "%s", err.msg);
	else if (a.npos < sub->min_pos)
		rc = roostctl_cmd_usage(full, "missing %s",
		                        roostctl_cmd_posname(sub->pos_usage,
		                                             a.npos, name,
		                                             sizeof(name)));
	else if (a.npos > sub->max_pos)
		rc = roostctl_cmd_usage(full, "unexpected argument '%s'",
		                        a.pos[sub->max_pos]);
	else if (ctl->http == NULL &&
	         roostctl_http_new(ctl->node, ctl->token_file, &ctl->http,
	                           &err) != 0)
		rc = roostctl_cmd_fail(&err);
	else
		rc = sub->run(ctl, &a);
	roostctl_args_free(&a);
	return rc;
}

int
roostctl_cmd_request(struct roostctl *ctl, const char *what,
                     const char *method, const char *path,
                     const json_t *body, json_t **reply_r, long *status_r)
{
	struct rs_err err;
	json_t *reply;

	if (roostctl_http_request(ctl->http, what, method, path, body, &reply,
	                          status_r, &err) != 0)
		return roostctl_cmd_fail(&err);
	if (reply_r != NULL)
		*reply_r = reply;
	else
		json_decref(reply);
	return ROOSTCTL_EXIT_OK;
}

char *
roostctl_cmd_path(struct roostctl *ctl, const char *collection,
                  const char *item, const char *suffix)
{
	char *e = roostctl_http_escape(ctl->http, item);
	char *path = rs_xasprintf("%s/%s%s", collection, e,
	                          suffix != NULL ? suffix : "");

	free(e);
	return path;
}

char *
roostctl_cmd_lower(const char *s)
{
	char *d = rs_xstrdup(s);

	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

int
roostctl_cmd_del(struct roostctl *ctl, const char *collection,
                 const char *noun, const char *item)
{
	char *path = roostctl_cmd_path(ctl, collection, item, NULL);
	char *what = rs_xasprintf("delete %s %s", noun, item);
	char *lower;
	int rc;

	rc = roostctl_cmd_request(ctl, what, "DELETE", path, NULL, NULL, NULL);
	if (rc == ROOSTCTL_EXIT_OK) {
		/* The node answers 204 without a body: show the address as
		 * it stores it. */
		lower = roostctl_cmd_lower(item);
		printf("deleted %s %s\n", noun, lower);
		free(lower);
	}
	free(what);
	free(path);
	return rc;
}

int
roostctl_cmd_get(struct roostctl *ctl, const struct roostctl_args *a,
                 const char *what, const char *path, json_t **reply_r)
{
	int rc;

	*reply_r = NULL;
	rc = roostctl_cmd_request(ctl, what, "GET", path, NULL, reply_r, NULL);
	if (rc == ROOSTCTL_EXIT_OK && roostctl_args_has(a, "json")) {
		roostctl_out_json(*reply_r);
		json_decref(*reply_r);
		*reply_r = NULL;
	}
	return rc;
}

int
roostctl_cmd_list(struct roostctl *ctl, const struct roostctl_args *a,
                  const struct roostctl_list *l)
{
	struct roostctl_table *t;
	json_t *reply, *item;
	size_t i;
	int rc;

	rc = roostctl_cmd_get(ctl, a, l->what, l->path, &reply);
	if (reply == NULL)
		return rc;
	t = roostctl_out_table_new(l->cols, l->ncols);
	json_array_foreach(json_object_get(reply, l->member), i, item) {
		l->row(t, item);
	}
	roostctl_out_table_print(t, true, stdout);
	roostctl_out_table_free(&t);
	json_decref(reply);
	return ROOSTCTL_EXIT_OK;
}
