/* roostctl_cmd_user_import.c: "roostctl user import FILE": the users of a
 * Dovecot passwd-file (roostctl_pwfile.h), with their password hashes as
 * they are, sent to POST /api/v1/users/import in batches the admin API
 * takes. Lines it cannot use, and users the node skips, are reported with
 * their line numbers; nothing stops the import but a failed request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_int.h"
#include "tools/roostctl/roostctl_out.h"
#include "tools/roostctl/roostctl_pwfile.h"

/* The admin API takes 1,000 users and 1 MiB a request. */
#define ROOSTCTL_IMPORT_USERS  1000
#define ROOSTCTL_IMPORT_BYTES  (768 * 1024)

/* A skipped line, printed in line order once its batch is answered. */
struct roostctl_import_note {
	size_t  line;
	char   *text;                    /* owns */
};

struct roostctl_import {
	struct roostctl *ctl;
	bool             create_domains;
	bool             has_quota;      /* --default-quota given */
	uint64_t         quota;
	json_t          *users;          /* owns: the batch being filled */
	size_t           lines[ROOSTCTL_IMPORT_USERS]; /* the batch's lines */
	size_t           bytes;          /* about the batch's JSON size */
	size_t           imported, skipped;
	struct roostctl_import_note *notes; /* owns: this batch's skips */
	size_t           nnotes, capnotes;
};

/* Records why a line was skipped; addr may be NULL, or already named in
 * why (the node's messages often name it). */
static void
roostctl_import_skip(struct roostctl_import *x, size_t line,
                     const char *addr, const char *why)
{
	struct roostctl_import_note *n;
	char buf[512];

	if (addr != NULL && (addr[0] == '\0' || strcasestr(why, addr) != NULL))
		addr = NULL;
	snprintf(buf, sizeof(buf), "line %zu: %s%s%s", line,
	         addr != NULL ? addr : "", addr != NULL ? ": " : "", why);
	for (char *p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (x->nnotes == x->capnotes) {
		x->capnotes = x->capnotes ? 2 * x->capnotes : 64;
		x->notes = rs_xreallocarray(x->notes, x->capnotes,
		                            sizeof(*x->notes));
	}
	n = &x->notes[x->nnotes++];
	n->line = line;
	n->text = rs_xstrdup(buf);
	x->skipped++;
}

static int
roostctl_import_note_cmp(const void *a, const void *b)
{
	const struct roostctl_import_note *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

/* Prints the skipped lines so far on stdout, in line order. */
static void
roostctl_import_notes(struct roostctl_import *x)
{
	if (x->nnotes == 0)
		return;
	qsort(x->notes, x->nnotes, sizeof(*x->notes), roostctl_import_note_cmp);
	for (size_t i = 0; i < x->nnotes; i++) {
		puts(x->notes[i].text);
		free(x->notes[i].text);
	}
	x->nnotes = 0;
}

/* Sends the batch and reports what the node skipped. An exit code. */
static int
roostctl_import_send(struct roostctl_import *x)
{
	size_t n = json_array_size(x->users), i;
	json_t *body, *reply = NULL, *s;
	char *what;
	int rc;

	if (n == 0) {
		roostctl_import_notes(x);
		return ROOSTCTL_EXIT_OK;
	}
	body = json_pack("{s:O,s:b}", "users", x->users, "create_domains",
	                 x->create_domains);
	what = rs_xasprintf("import the users of lines %zu-%zu", x->lines[0],
	                    x->lines[n - 1]);
	rc = roostctl_cmd_request(x->ctl, what, "POST", "/users/import", body,
	                          &reply, NULL);
	free(what);
	json_decref(body);
	if (rc != ROOSTCTL_EXIT_OK)
		return rc;
	x->imported += roostctl_out_u64(reply, "created");
	json_array_foreach(json_object_get(reply, "skipped"), i, s) {
		uint64_t idx = roostctl_out_u64(s, "index");

		roostctl_import_skip(x, idx < n ? x->lines[idx] : 0,
		                     roostctl_out_str(s, "address"),
		                     roostctl_out_str(s, "error"));
	}
	json_decref(reply);
	roostctl_import_notes(x);
	json_array_clear(x->users);
	x->bytes = 0;
	return ROOSTCTL_EXIT_OK;
}

/* Adds one parsed line to the batch, sending it first when full. */
static int
roostctl_import_add(struct roostctl_import *x, size_t line,
                    const struct roostctl_pwent *e)
{
	size_t len = strlen(e->addr) + strlen(e->hash) +
	             (e->name != NULL ? strlen(e->name) : 0);
	json_t *u;
	int rc;

	/* Escapes can double a string; the rest is keys and numbers. */
	if (json_array_size(x->users) == ROOSTCTL_IMPORT_USERS ||
	    x->bytes + 2 * len + 100 > ROOSTCTL_IMPORT_BYTES) {
		if ((rc = roostctl_import_send(x)) != ROOSTCTL_EXIT_OK)
			return rc;
	}
	u = json_pack("{s:s,s:s}", "address", e->addr, "password_hash",
	              e->hash);
	if (u == NULL) {
		roostctl_import_skip(x, line, NULL, "not UTF-8");
		return ROOSTCTL_EXIT_OK;
	}
	if (e->name != NULL &&
	    json_object_set_new(u, "name", json_string(e->name)) != 0) {
		json_decref(u);
		roostctl_import_skip(x, line, e->addr, "the name is not UTF-8");
		return ROOSTCTL_EXIT_OK;
	}
	if (e->has_quota || x->has_quota)
		json_object_set_new(u, "quota", json_integer((json_int_t)(
			e->has_quota ? e->quota : x->quota)));
	x->lines[json_array_size(x->users)] = line;
	json_array_append_new(x->users, u);
	x->bytes += 2 * len + 100;
	return ROOSTCTL_EXIT_OK;
}

/* Reads every line of f into batches. An exit code. */
static int
roostctl_import_read(struct roostctl_import *x, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0, line = 0;
	int rc = ROOSTCTL_EXIT_OK;

	while (rc == ROOSTCTL_EXIT_OK && getline(&buf, &cap, f) >= 0) {
		struct roostctl_pwent e;
		struct rs_err err;
		int prc;

		line++;
		prc = roostctl_pwfile_parse(buf, &e, &err);
		if (prc < 0)
			roostctl_import_skip(x, line, NULL, err.msg);
		else if (prc > 0)
			rc = roostctl_import_add(x, line, &e);
	}
	if (buf != NULL) {
		/* The last line may have held a {PLAIN} password. */
		explicit_bzero(buf, cap);
		free(buf);
	}
	if (rc == ROOSTCTL_EXIT_OK && ferror(f)) {
		fprintf(stderr, "roostctl: user import: read error: %s\n",
		        strerror(errno));
		rc = ROOSTCTL_EXIT_FAIL;
	}
	if (rc == ROOSTCTL_EXIT_OK)
		rc = roostctl_import_send(x);
	return rc;
}

int
roostctl_cmd_user_import(struct roostctl *ctl, const struct roostctl_args *a)
{
	struct roostctl_import *x = rs_xcalloc(1, sizeof(*x));
	const char *path = a->pos[0];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	int rc;

	if (f == NULL) {
		fprintf(stderr, "roostctl: user import: cannot open %s: %s\n",
		        path, strerror(errno));
		free(x);
		return ROOSTCTL_EXIT_FAIL;
	}
	x->ctl = ctl;
	x->create_domains = roostctl_args_has(a, "create-domains");
	x->has_quota = roostctl_args_get_size(a, "default-quota", &x->quota);
	x->users = json_array();
	rc = roostctl_import_read(x, f);
	if (f != stdin)
		fclose(f);
	roostctl_import_notes(x);
	free(x->notes);
	printf("imported %zu users, skipped %zu\n", x->imported, x->skipped);
	/* Skipped users are refusals too: a script should notice them. */
	if (rc == ROOSTCTL_EXIT_OK && x->skipped > 0)
		rc = ROOSTCTL_EXIT_FAIL;
	json_decref(x->users);
	free(x);
	return rc;
}
