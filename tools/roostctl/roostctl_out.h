/* roostctl_out.h: what roostctl prints on stdout: aligned tables and
 * key/value blocks for people, pretty JSON for programs, and safe getters
 * for the node's JSON objects. */
#ifndef ROOST_TOOLS_ROOSTCTL_OUT_H
#define ROOST_TOOLS_ROOSTCTL_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct roostctl_col {
	const char *name;             /* the header, "ADDRESS" */
	bool        right;            /* right-aligned (numbers, sizes) */
};

struct roostctl_table;            /* opaque */

/* cols is borrowed (valid until the table is freed). Never NULL. */
struct roostctl_table *roostctl_out_table_new(const struct roostctl_col *cols,
                                              size_t ncols);
/* Adds a row of ncols cells (copied; NULL prints as empty). */
void roostctl_out_table_add(struct roostctl_table *t,
                            const char *const *cells);
/* Prints the header (if header) and the rows, columns two spaces apart.
 * Control characters in cells print as '?', so a name cannot break the
 * layout. */
void roostctl_out_table_print(const struct roostctl_table *t, bool header,
                              FILE *f);
/* Frees *tp and sets it to NULL; NULL-safe. */
void roostctl_out_table_free(struct roostctl_table **tp);

/* Prints j pretty (two-space indent) and a newline on stdout. */
void roostctl_out_json(const json_t *j);

/* Members of an object, "" or 0 when absent or of another type. */
const char *roostctl_out_str(const json_t *o, const char *key);
uint64_t roostctl_out_u64(const json_t *o, const char *key);

/* A quota for people: "unlimited" for 0, else as roostctl_args_size_str.
 * buf should hold 16 bytes; returns buf. */
char *roostctl_out_quota(uint64_t v, char *buf, size_t size);

/* Joins the strings of a JSON array with ", " (returns owned). */
char *roostctl_out_join(const json_t *arr);

#endif
