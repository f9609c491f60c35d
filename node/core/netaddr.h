/* netaddr.h: socket address helpers (formatting, loopback test). */
#ifndef ROOST_NODE_CORE_NETADDR_H
#define ROOST_NODE_CORE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/rs_err.h"

#define NETADDR_TEXT_MAX 64     /* "[ffff:…:ffff]:65535" fits */

/* "1.2.3.4:25" or "[::1]:25"; returns buf. */
const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t size);
/* The address alone, "1.2.3.4" or "::1"; returns buf. */
const char *netaddr_ip(const struct sockaddr *sa, char *buf, size_t size);
/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. */
bool netaddr_is_loopback(const struct sockaddr *sa);
/* Parses "host" (numeric IPv4 or IPv6) and port into ss. 0 or RS_EINVAL. */
int netaddr_parse(const char *host, unsigned port,
                  struct sockaddr_storage *ss, socklen_t *len_r)
	RS_MUST_CHECK;

#endif
