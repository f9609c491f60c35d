/* imap_cmd_msg_table.c: the message commands (FETCH, SEARCH, SORT, STORE,
 * COPY, MOVE, APPEND, EXPUNGE, QUOTA): one entry each, looked up after
 * imap_cmds[] by imap_session.c. The UID forms are the same entries with
 * struct imap_cmd.uid set. */
#include <stddef.h>

#include "node/imap/imap_fetch_util.h"

/* RFC 9051 7.5.1: no untagged EXPUNGE during FETCH, STORE and SEARCH
 * (their UID forms may have them). */
#define IMAP_MSG_NOEXP (IMAP_CMD_F_UID_OK | IMAP_CMD_F_NO_EXPUNGE_RESPONSES)

const struct imap_cmd_def imap_msg_cmds[] = {
	{ .name = "FETCH", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_MSG_NOEXP, .run = imap_fetch__run },
	{ .name = "STORE", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_MSG_NOEXP | IMAP_CMD_F_READ_WRITE,
	  .run = imap_store_cmd__run },
	{ .name = "SEARCH", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_MSG_NOEXP, .run = imap_search_cmd__run },
	{ .name = "SORT", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_MSG_NOEXP, .run = imap_sort__run },
	{ .name = "COPY", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_F_UID_OK, .run = imap_copy__copy },
	{ .name = "MOVE", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_F_UID_OK | IMAP_CMD_F_READ_WRITE,
	  .run = imap_copy__move },
	{ .name = "EXPUNGE", .states = IMAP_STATE_SELECTED,
	  .flags = IMAP_CMD_F_UID_OK | IMAP_CMD_F_READ_WRITE,
	  .run = imap_expunge__run },
	{ .name = "APPEND", .states = IMAP_STATES_AUTHED,
	  .run = imap_append__run, .literal = imap_append__literal,
	  .data = imap_append__data },
	{ .name = "GETQUOTAROOT", .states = IMAP_STATES_AUTHED,
	  .run = imap_quota__getquotaroot },
	{ .name = "GETQUOTA", .states = IMAP_STATES_AUTHED,
	  .run = imap_quota__getquota },
	{ .name = "SETQUOTA", .states = IMAP_STATES_AUTHED,
	  .run = imap_quota__setquota },
	{ .name = NULL },
};
