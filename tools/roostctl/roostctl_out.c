/* roostctl_out.c: tables and JSON on stdout. Knows nothing of users or
 * domains: the command files choose the columns. */
#include "tools/roostctl/roostctl_out.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rs_buf.h"
#include "lib/rs_mem.h"
#include "tools/roostctl/roostctl_args.h"

struct roostctl_table {
	const struct roostctl_col *cols;   /* borrowed */
	size_t                     ncols;
	char                     **cells;  /* owns: nrows * ncols strings */
	size_t                     nrows, cap;
};

struct roostctl_table *
roostctl_out_table_new(const struct roostctl_col *cols, size_t ncols)
{
	struct roostctl_table *t = rs_xcalloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void
roostctl_out_table_add(struct roostctl_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 16;
		t->cells = rs_xreallocarray(t->cells, t->cap * t->ncols,
		                            sizeof(*t->cells));
	}
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] =
			rs_xstrdup(cells[c] != NULL ? cells[c] : "");
	t->nrows++;
}

void
roostctl_out_table_free(struct roostctl_table **tp)
{
	struct roostctl_table *t = *tp;

	if (t == NULL)
		return;
	*tp = NULL;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Width on a terminal, counting UTF-8 sequences as one column each. */
static size_t
roostctl_out_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
roostctl_out_cell(FILE *f, const char *s, size_t width, bool right,
                  bool last)
{
	size_t w = roostctl_out_width(s), pad = width > w ? width - w : 0;

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
}

void
roostctl_out_table_print(const struct roostctl_table *t, bool header,
                         FILE *f)
{
	size_t *width = rs_xcalloc(t->ncols, sizeof(*width));

	for (size_t c = 0; c < t->ncols && header; c++)
		width[c] = roostctl_out_width(t->cols[c].name);
	for (size_t i = 0; i < t->nrows * t->ncols; i++) {
		size_t w = roostctl_out_width(t->cells[i]);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t r = header ? 0 : 1; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			size_t at = r > 0 ? (r - 1) * t->ncols + c : 0;
			const char *s = r == 0 ? t->cols[c].name : t->cells[at];

			if (c > 0)
				fputs("  ", f);
			roostctl_out_cell(f, s, width[c], t->cols[c].right,
			                  c + 1 == t->ncols);
		}
		fputc('\n', f);
	}
	free(width);
}

void
roostctl_out_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

const char *
roostctl_out_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

uint64_t
roostctl_out_u64(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

char *
roostctl_out_quota(uint64_t v, char *buf, size_t size)
{
	if (v == 0) {
		snprintf(buf, size, "unlimited");
		return buf;
	}
	return roostctl_args_size_str(v, buf, size);
}

char *
roostctl_out_join(const json_t *arr)
{
	struct rs_buf b;
	const json_t *v;
	size_t i;
	uint8_t *s;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	json_array_foreach(arr, i, v) {
		/* Appends to an unlimited buffer cannot fail. */
		if (rs_buf_printf(&b, "%s%s", i > 0 ? ", " : "",
		                  json_string_value(v) != NULL
		                  ? json_string_value(v) : "?") != 0)
			abort();
	}
	s = rs_buf_steal(&b, &i);
	return s != NULL ? (char *)s : rs_xstrdup("");
}
