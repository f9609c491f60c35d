/* roostctl_etcd.h: creating a key in etcd if it does not exist, for
 * cluster init (the only command that talks to etcd instead of a node). */
#ifndef ROOST_TOOLS_ROOSTCTL_ETCD_H
#define ROOST_TOOLS_ROOSTCTL_ETCD_H

#include "lib/rs_err.h"

/* endpoints: comma-separated http(s) URLs, tried in order until one
 * answers. 0: key created with value; RS_ECONFLICT: it exists (nothing
 * written); -1 with err: no endpoint answered, or a bad answer. */
int roostctl_etcd_create(const char *endpoints, const char *key,
                         const char *value, struct rs_err *err)
	RS_MUST_CHECK;

#endif
