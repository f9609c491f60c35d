/* roostctl_cmd_user.c: "roostctl user add|del|list|show|passwd" over
 * /api/v1/users ("user import" is in roostctl_cmd_user_import.c). Passwords come from stdin or the terminal, never from
 * argv, and are wiped once sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"
#include "tools/roostctl/roostctl_passwd.h"

static const struct roostctl_optspec roostctl_user_add_opts[] = {
	{ "password-stdin", ROOSTCTL_OPT_FLAG, false, false },
	{ "name", ROOSTCTL_OPT_STR, false, false },
	{ "quota", ROOSTCTL_OPT_SIZE, false, false },
};
static const struct roostctl_optspec roostctl_user_passwd_opts[] = {
	{ "password-stdin", ROOSTCTL_OPT_FLAG, false, false },
};
static const struct roostctl_optspec roostctl_user_list_opts[] = {
	{ "domain", ROOSTCTL_OPT_STR, false, false },
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};
static const struct roostctl_optspec roostctl_user_show_opts[] = {
	{ "json", ROOSTCTL_OPT_FLAG, false, false },
};
static const struct roostctl_optspec roostctl_user_import_opts[] = {
	{ "create-domains", ROOSTCTL_OPT_FLAG, false, false },
	{ "default-quota", ROOSTCTL_OPT_SIZE, false, false },
};

/* Adds "password" to body from stdin or the terminal. 0, or an exit code
 * with the error printed. */
static int
roostctl_user_password(const struct roostctl_args *a, const char *cmd,
                       json_t *body)
{
	char pw[ROOSTCTL_PASSWD_MAX + 1];
	struct rs_err err;
	int rc;

	if (roostctl_args_has(a, "password-stdin"))
		rc = roostctl_passwd_stdin(pw, sizeof(pw), &err);
	else
		rc = roostctl_passwd_prompt(pw, sizeof(pw), &err);
	if (rc != 0) {
		fprintf(stderr, "roostctl: %s: %s\n", cmd, err.msg);
		return ROOSTCTL_EXIT_FAIL;
	}
	/* json_string copies; roostctl_wipe.c wipes the copy when freed. */
	rc = json_object_set_new(body, "password", json_string(pw));
	explicit_bzero(pw, sizeof(pw));
	if (rc != 0) {
		rs_err_set(&err, RS_EINVAL, "%s: the password is not UTF-8",
		           cmd);
		return roostctl_cmd_fail(&err);
	}
	return ROOSTCTL_EXIT_OK;
}

/* Builds the body of "user add" from the options. NULL after a usage
 * error (printed; *rc_r is the exit code). */
static json_t *
roostctl_user_add_body(const struct roostctl_args *a, int *rc_r)
{
	const char *name = roostctl_args_get(a, "name");
	json_t *body = json_pack("{s:s}", "address", a->pos[0]);
	uint64_t quota;

	*rc_r = ROOSTCTL_EXIT_USAGE;
	if (body == NULL ||
	    (name != NULL &&
	     json_object_set_new(body, "name", json_string(name)) != 0)) {
		json_decref(body);
		roostctl_cmd_usage("user add", "ADDR and NAME must be UTF-8");
		return NULL;
	}
	/* Sizes are checked while parsing (ROOSTCTL_OPT_SIZE). */
	if (roostctl_args_get_size(a, "quota", &quota))
		json_object_set_new(body, "quota",
		                    json_integer((json_int_t)quota));
	return body;
}

static int
roostctl_user_add(struct roostctl *ctl, const struct roostctl_args *a)
{
	bool no_password = !roostctl_args_has(a, "password-stdin") &&
	                   !roostctl_passwd_can_prompt();
	json_t *body, *reply = NULL;
	const char *addr;
	char *what;
	int rc;

	body = roostctl_user_add_body(a, &rc);
	if (body == NULL)
		return rc;
	if (!no_password &&
	    (rc = roostctl_user_password(a, "user add", body)) != 0) {
		json_decref(body);
		return rc;
	}
	what = rs_xasprintf("create user %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "POST", "/users", body, &reply,
	                          NULL);
	json_decref(body);
	free(what);
	if (rc != ROOSTCTL_EXIT_OK)
		return rc;
	addr = roostctl_out_str(reply, "address");
	addr = addr[0] != '\0' ? addr : a->pos[0];
	printf("created user %s\n", addr);
	if (no_password)
		fprintf(stderr, "roostctl: note: %s has no password and cannot "
		        "log in until 'roostctl user passwd %s'\n", addr, addr);
	json_decref(reply);
	return ROOSTCTL_EXIT_OK;
}

static int
roostctl_user_del(struct roostctl *ctl, const struct roostctl_args *a)
{
	return roostctl_cmd_del(ctl, "/users", "user", a->pos[0]);
}

static int
roostctl_user_passwd(struct roostctl *ctl, const struct roostctl_args *a)
{
	json_t *body;
	char *path, *what, *addr;
	int rc;

	if (!roostctl_args_has(a, "password-stdin") &&
	    !roostctl_passwd_can_prompt())
		return roostctl_cmd_usage("user passwd", "stdin is no terminal "
		                          "to ask on: use --password-stdin");
	body = json_object();
	rc = roostctl_user_password(a, "user passwd", body);
	if (rc != ROOSTCTL_EXIT_OK) {
		json_decref(body);
		return rc;
	}
	path = roostctl_cmd_path(ctl, "/users", a->pos[0], "/password");
	what = rs_xasprintf("set the password of %s", a->pos[0]);
	rc = roostctl_cmd_request(ctl, what, "PUT", path, body, NULL, NULL);
	if (rc == ROOSTCTL_EXIT_OK) {
		addr = roostctl_cmd_lower(a->pos[0]);
		printf("set the password of %s\n", addr);
		free(addr);
	}
	json_decref(body);
	free(what);
	free(path);
	return rc;
}

static void
roostctl_user_row(struct roostctl_table *t, const json_t *u)
{
	char quota[16], used[16], msgs[24];
	const char *row[5] = {
		roostctl_out_str(u, "address"),
		roostctl_out_str(u, "name"),
		roostctl_out_quota(roostctl_out_u64(u, "quota"), quota,
		                   sizeof(quota)),
		roostctl_args_size_str(roostctl_out_u64(u, "used"), used,
		                       sizeof(used)),
		msgs,
	};

	snprintf(msgs, sizeof(msgs), "%llu",
	         (unsigned long long)roostctl_out_u64(u, "messages"));
	roostctl_out_table_add(t, row);
}

static int
roostctl_user_list(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "ADDRESS", false }, { "NAME", false }, { "QUOTA", true },
		{ "USED", true }, { "MESSAGES", true },
	};
	const char *domain = roostctl_args_get(a, "domain");
	struct roostctl_list l = {
		"list users", NULL, "users", cols, ROOSTCTL_NELEM(cols),
		roostctl_user_row,
	};
	char *path, *e;
	int rc;

	if (domain != NULL) {
		e = roostctl_http_escape(ctl->http, domain);
		path = rs_xasprintf("/users?domain=%s", e);
		free(e);
	} else {
		path = rs_xstrdup("/users");
	}
	l.path = path;
	rc = roostctl_cmd_list(ctl, a, &l);
	free(path);
	return rc;
}

/* The password's scheme for people: "scrypt", "none", or an imported
 * scheme that the next login replaces. Returns buf. */
static const char *
roostctl_user_scheme(const json_t *u, char *buf, size_t size)
{
	const char *s = roostctl_out_str(u, "password_scheme");

	if (s[0] == '\0')
		snprintf(buf, size, "none");
	else if (strcmp(s, "scrypt") == 0)
		snprintf(buf, size, "scrypt");
	else
		snprintf(buf, size, "%s (scrypt at the next login)", s);
	return buf;
}

static int
roostctl_user_show(struct roostctl *ctl, const struct roostctl_args *a)
{
	static const struct roostctl_col cols[] = {
		{ "", false }, { "", false },
	};
	char *path = roostctl_cmd_path(ctl, "/users", a->pos[0], NULL);
	char *what = rs_xasprintf("show user %s", a->pos[0]);
	char buf[3][64];
	struct roostctl_table *t;
	json_t *u;
	uint64_t used;
	int rc;

	rc = roostctl_cmd_get(ctl, a, what, path, &u);
	free(what);
	free(path);
	if (u == NULL)
		return rc;
	used = roostctl_out_u64(u, "used");
	snprintf(buf[0], sizeof(buf[0]), "%s (%llu bytes)",
	         roostctl_args_size_str(used, buf[1], sizeof(buf[1])),
	         (unsigned long long)used);
	t = roostctl_out_table_new(cols, ROOSTCTL_NELEM(cols));
	roostctl_out_table_add(t, (const char *[]){ "address",
	                       roostctl_out_str(u, "address") });
	roostctl_out_table_add(t, (const char *[]){ "name",
	                       roostctl_out_str(u, "name") });
	roostctl_out_table_add(t, (const char *[]){ "quota",
	                       roostctl_out_quota(roostctl_out_u64(u, "quota"),
	                                          buf[1], sizeof(buf[1])) });
	roostctl_out_table_add(t, (const char *[]){ "used", buf[0] });
	snprintf(buf[2], sizeof(buf[2]), "%llu",
	         (unsigned long long)roostctl_out_u64(u, "messages"));
	roostctl_out_table_add(t, (const char *[]){ "messages", buf[2] });
	snprintf(buf[2], sizeof(buf[2]), "%llu",
	         (unsigned long long)roostctl_out_u64(u, "partition"));
	roostctl_out_table_add(t, (const char *[]){ "partition", buf[2] });
	roostctl_out_table_add(t, (const char *[]){ "password",
	                       roostctl_user_scheme(u, buf[1], sizeof(buf[1])) });
	roostctl_out_table_print(t, false, stdout);
	roostctl_out_table_free(&t);
	json_decref(u);
	return ROOSTCTL_EXIT_OK;
}

static const struct roostctl_sub roostctl_user_subs[] = {
	{ "add", roostctl_user_add, roostctl_user_add_opts,
	  ROOSTCTL_NELEM(roostctl_user_add_opts), 1, 1, "ADDR" },
	{ "del", roostctl_user_del, NULL, 0, 1, 1, "ADDR" },
	{ "list", roostctl_user_list, roostctl_user_list_opts,
	  ROOSTCTL_NELEM(roostctl_user_list_opts), 0, 0, "" },
	{ "show", roostctl_user_show, roostctl_user_show_opts,
	  ROOSTCTL_NELEM(roostctl_user_show_opts), 1, 1, "ADDR" },
	{ "passwd", roostctl_user_passwd, roostctl_user_passwd_opts,
	  ROOSTCTL_NELEM(roostctl_user_passwd_opts), 1, 1, "ADDR" },
	{ "import", roostctl_cmd_user_import, roostctl_user_import_opts,
	  ROOSTCTL_NELEM(roostctl_user_import_opts), 1, 1, "FILE" },
};

int
roostctl_cmd_user(struct roostctl *ctl, int argc, char **argv)
{
	return roostctl_cmd_dispatch(ctl, "user", roostctl_user_subs,
	                             ROOSTCTL_NELEM(roostctl_user_subs), argc,
	                             argv);
}
