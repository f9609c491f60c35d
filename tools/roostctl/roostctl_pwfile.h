/* roostctl_pwfile.h: lines of a Dovecot passwd-file, for "roostctl user
 * import": user:password:uid:gid:gecos:home:shell:extra_fields. Only the
 * address, the password hash, the gecos (a display name) and a quota
 * rule in the extra fields matter here. Pure: no I/O, so the unit tests
 * link it alone (tests/unit/tools/test_roostctl_pwfile.c). */
#ifndef ROOST_TOOLS_ROOSTCTL_PWFILE_H
#define ROOST_TOOLS_ROOSTCTL_PWFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/rs_err.h"

struct roostctl_pwent {
	const char *addr;        /* borrowed from the line */
	const char *hash;        /* borrowed: "{SCHEME}…" or "$id$…" */
	const char *name;        /* borrowed; NULL: no gecos */
	bool        has_quota;
	uint64_t    quota;       /* bytes, when has_quota */
};

/* Parses one line (its end of line may still be there) in place: the
 * fields are cut at their colons. 1: *e is filled; 0: a blank line or a
 * '#' comment; -1: err (RS_EINVAL) says what is wrong: no '@' in the
 * user, no password, a password that is no hash. The node checks the
 * hash's scheme itself.
 * The quota comes from "userdb_quota_rule=*:storage=SIZE" (or
 * "quota_rule=…") in the extra fields, SIZE in kilobytes or with a
 * b/k/M/G/T suffix as Dovecot reads it; "*:bytes=N" counts bytes.
 * Relative rules ("+10%") are ignored. */
int roostctl_pwfile_parse(char *line, struct roostctl_pwent *e,
                          struct rs_err *err) RS_MUST_CHECK;

#endif
