/* imap_cmd_msg_table.c: the message commands (FETCH, SEARCH, SORT, STORE,
 * COPY, MOVE, APPEND, EXPUNGE, QUOTA): one entry each, looked up after
 * imap_cmds[] by imap_session.c. This initial table is empty. */
#include <stddef.h>

#include "node/imap/imap_int.h"

const struct imap_cmd_def imap_msg_cmds[] = {
	{ .name = NULL },
};
