/* rs_config.h: the "key = value" configuration file and "--set key=value"
 * overrides. Later definitions win, so overrides are applied after the
 * file. The parser is pure (fuzzed by tests/fuzz/fuzz_config.c); typed
 * getters check ranges and name the key in their errors.
 *
 * Syntax: one "key = value" per line; blank lines ignored; keys are
 * [a-z0-9_.-]; '#' starts a comment at the start of a line or after a
 * space or tab ("log_level = info   # or debug"); a value may be wrapped
 * in double quotes to keep leading or trailing spaces or a " #" (it
 * ends at the next '"', and only a comment may follow). */
#ifndef ROOST_LIB_RS_CONFIG_H
#define ROOST_LIB_RS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"

#define RS_CONFIG_MAX_FILE   (1024 * 1024)
#define RS_CONFIG_MAX_LINE   4096
#define RS_CONFIG_MAX_KEYS   1024

struct rs_config;

/* Never returns NULL. */
struct rs_config *rs_config_new(void);
/* Frees *pp and sets it to NULL; NULL-safe. */
void rs_config_free(struct rs_config **pp);

/* Parses a whole text. On error nothing after the bad line is applied and
 * err says "origin:line: why". 0 or -1. */
int rs_config_parse(struct rs_config *c, const char *text, size_t len,
                    const char *origin, struct rs_err *err) RS_MUST_CHECK;
/* Reads and parses a file of at most RS_CONFIG_MAX_FILE bytes. */
int rs_config_load_file(struct rs_config *c, const char *path,
                        struct rs_err *err) RS_MUST_CHECK;
/* Applies one "key=value" override. */
int rs_config_set(struct rs_config *c, const char *kv, struct rs_err *err)
	RS_MUST_CHECK;
/* Sets key to value directly (program defaults, command-line flags). */
void rs_config_put(struct rs_config *c, const char *key, const char *value);

/* Borrowed (valid until the key is set again or c is freed); NULL if unset. */
const char *rs_config_get(const struct rs_config *c, const char *key);
const char *rs_config_get_str(const struct rs_config *c, const char *key,
                              const char *def);
/* Integers accept an optional size suffix k, m, g (powers of 1024). */
int rs_config_get_u64(const struct rs_config *c, const char *key,
                      uint64_t def, uint64_t min, uint64_t max,
                      uint64_t *v_r, struct rs_err *err) RS_MUST_CHECK;
/* Durations: a number with s, ms, m or h (bare numbers are seconds). */
int rs_config_get_ms(const struct rs_config *c, const char *key,
                     uint64_t def_ms, uint64_t *v_r, struct rs_err *err)
	RS_MUST_CHECK;
/* yes/no, true/false, on/off, 1/0. */
int rs_config_get_bool(const struct rs_config *c, const char *key, bool def,
                       bool *v_r, struct rs_err *err) RS_MUST_CHECK;

/* Iteration over all keys, in first-definition order. */
size_t rs_config_count(const struct rs_config *c);
const char *rs_config_key_at(const struct rs_config *c, size_t i);

/* Parses a size such as "50M" into bytes; 0 or RS_EINVAL. */
int rs_config_parse_size(const char *s, uint64_t *v_r) RS_MUST_CHECK;

#endif
