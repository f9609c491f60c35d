/* cidr_list.h: a list of IPv4 and IPv6 networks, parsed from a setting
 * such as "192.0.2.0/24, 2001:db8::/32, 127.0.0.2", and the test whether
 * a peer address falls in one of them. Pure: no I/O. An IPv4 peer seen
 * through an IPv6 socket (::ffff:a.b.c.d) matches the IPv4 networks. */
#ifndef ROOST_NODE_CORE_CIDR_LIST_H
#define ROOST_NODE_CORE_CIDR_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/rs_err.h"

struct cidr_list;

/* Comma-separated "address/prefix" entries (spaces around them ignored;
 * no prefix means the one address). Host bits beyond the prefix are an
 * error, not silently cleared: "10.0.0.1/8" is a typo an admin wants to
 * hear about. Empty text gives an empty list. 0 with *r (returns owned),
 * or -1 with err naming the bad entry and *r untouched. */
int cidr_list_parse(const char *text, struct cidr_list **r,
                    struct rs_err *err) RS_MUST_CHECK;
/* Frees *pp, sets it to NULL; NULL-safe. */
void cidr_list_free(struct cidr_list **pp);
/* Whether sa (AF_INET or AF_INET6) is in the list; false for a NULL or
 * empty list and for other families. */
bool cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa);
/* Entries in the list (0 for NULL). */
size_t cidr_list_count(const struct cidr_list *l);

#endif
