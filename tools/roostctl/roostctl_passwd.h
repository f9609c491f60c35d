/* roostctl_passwd.h: getting a password from the person or the pipe,
 * never from argv. The caller wipes the buffer (explicit_bzero) after use. */
#ifndef ROOST_TOOLS_ROOSTCTL_PASSWD_H
#define ROOST_TOOLS_ROOSTCTL_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rs_err.h"

#define ROOSTCTL_PASSWD_MAX 1024      /* as the node's PASSWD_MAX */

/* Reads the first line of stdin, without its "\n" or "\r\n", into buf
 * (size > ROOSTCTL_PASSWD_MAX). 0, or -1 if stdin is empty, the line is
 * empty or longer than ROOSTCTL_PASSWD_MAX, or reading fails. */
int roostctl_passwd_stdin(char *buf, size_t size, struct rs_err *err)
	RS_MUST_CHECK;

/* True if stdin is a terminal, so that roostctl_passwd_prompt can ask. */
bool roostctl_passwd_can_prompt(void);

/* Prompts "Password:" and "Repeat:" on stderr with echo off, and requires
 * the same non-empty answer twice. Echo is restored on return and when a
 * signal ends the process meanwhile. 0 or -1 with err. */
int roostctl_passwd_prompt(char *buf, size_t size, struct rs_err *err)
	RS_MUST_CHECK;

#endif
