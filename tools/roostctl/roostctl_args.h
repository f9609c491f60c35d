/* roostctl_args.h: the words on roostctl's command line: long options of a
 * subcommand, sizes ("500M"), the --node address, and sizes printed for
 * people ("1.5M"). Pure: no I/O, no libcurl, no Jansson, so the unit tests
 * link it alone (tests/unit/tools/test_roostctl_args.c). */
#ifndef ROOST_TOOLS_ROOSTCTL_ARGS_H
#define ROOST_TOOLS_ROOSTCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

enum roostctl_optkind {
	ROOSTCTL_OPT_FLAG,          /* --json */
	ROOSTCTL_OPT_STR,           /* --name N, --name=N */
	ROOSTCTL_OPT_SIZE,          /* --quota 2G: checked while parsing */
};

/* One long option of a subcommand, named without its dashes. */
struct roostctl_optspec {
	const char            *name;      /* "member" for --member */
	enum roostctl_optkind  kind;
	bool                   repeat;    /* may be given more than once */
	bool                   required;  /* must be given at least once */
};

struct roostctl_optval {
	size_t      spec;           /* index into the spec table */
	const char *val;            /* borrowed from argv; "" for flags */
	uint64_t    size;           /* ROOSTCTL_OPT_SIZE: the bytes */
};

/* A parsed subcommand line. Every string is borrowed from argv. */
struct roostctl_args {
	const struct roostctl_optspec *spec;  /* borrowed */
	size_t                  nspec;
	const char            **pos;          /* owns the array */
	size_t                  npos;
	struct roostctl_optval *opt;          /* owns the array, in order */
	size_t                  nopt;
};

/* Splits argv (the words after the subcommand) into options and
 * positional arguments; "--" ends the options, "-" is positional.
 * 0: parsed; 1: --help or -h was given; -1: unknown option, missing or
 * stray value, a repeated single option, a bad size or a missing required
 * option, with the reason in err. Call roostctl_args_free() in every
 * case. */
int roostctl_args_parse(struct roostctl_args *a,
                        const struct roostctl_optspec *spec, size_t nspec,
                        int argc, char *const *argv, struct rs_err *err)
	RS_MUST_CHECK;
/* Frees the arrays (not the strings); a may be parsed again afterwards. */
void roostctl_args_free(struct roostctl_args *a);

/* True if the option was given. */
bool roostctl_args_has(const struct roostctl_args *a, const char *name);
/* The option's value (borrowed), or NULL when absent. For a repeatable
 * option, the i-th value (i counts from 0). */
const char *roostctl_args_get(const struct roostctl_args *a,
                              const char *name);
const char *roostctl_args_get_nth(const struct roostctl_args *a,
                                  const char *name, size_t i);
/* How many times the option was given. */
size_t roostctl_args_count(const struct roostctl_args *a, const char *name);
/* The bytes of a ROOSTCTL_OPT_SIZE option: true and *v_r if given. */
bool roostctl_args_get_size(const struct roostctl_args *a, const char *name,
                            uint64_t *v_r);

/* Largest size an option takes: JSON integers are signed 64-bit. */
#define ROOSTCTL_ARGS_SIZE_MAX ((uint64_t)INT64_MAX)

/* Parses a size: bytes ("1048576") or a number with K, M or G (powers of
 * 1024, either case, as in the configuration file), at most
 * ROOSTCTL_ARGS_SIZE_MAX. 0 or RS_EINVAL. */
int roostctl_args_size(const char *s, uint64_t *v_r) RS_MUST_CHECK;

/* Formats a size for people into buf: "0", "512", "1.5K", "10M", "2G";
 * at most 3 significant digits, one decimal below 10 units, no decimal
 * when exact. buf should hold 8 bytes; returns buf. */
char *roostctl_args_size_str(uint64_t v, char *buf, size_t size);

/* Checks a --node value: HOST:PORT or [V6ADDR]:PORT, port 1..65535, no
 * spaces, slashes or other URL parts. 0 or -1 with the reason in err. */
int roostctl_args_node(const char *s, struct rs_err *err) RS_MUST_CHECK;

/* Cuts s (len bytes in a buffer of at least len + 1) at its first line end
 * and strips spaces and tabs at both ends, in place, NUL-terminated;
 * returns the new length. */
size_t roostctl_args_first_line(char *s, size_t len);

#endif
