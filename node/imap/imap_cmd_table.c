/* imap_cmd_table.c: the session and mailbox commands, where each is valid
 * (RFC 9051 6.1-6.4 and the extensions named at each line) and how the
 * engine treats it. The message commands are in imap_cmd_msg_table.c. */
#include <stddef.h>

#include "node/imap/imap_int.h"

const struct imap_cmd_def imap_cmds[] = {
	/* RFC 9051 6.1: any state. */
	{ "CAPABILITY", IMAP_STATES_ANY, 0, imap_misc__capability_cmd,
	  NULL, NULL },
	{ "NOOP", IMAP_STATES_ANY, 0, imap_misc__noop, NULL, NULL },
	{ "LOGOUT", IMAP_STATES_ANY, IMAP_CMD_F_NO_SYNC, imap_misc__logout,
	  NULL, NULL },
	/* RFC 2971: any state. */
	{ "ID", IMAP_STATES_ANY, 0, imap_misc__id, NULL, NULL },
	/* RFC 9051 6.2: not authenticated. */
	{ "LOGIN", IMAP_STATE_NOT_AUTH, 0, imap_auth__login, NULL, NULL },
	{ "AUTHENTICATE", IMAP_STATE_NOT_AUTH, 0, imap_auth__authenticate,
	  NULL, NULL },
	/* RFC 5161 3.1 (and RFC 6855 3: before SELECT): authenticated. */
	{ "ENABLE", IMAP_STATE_AUTH, 0, imap_misc__enable, NULL, NULL },
	/* RFC 9051 6.3: authenticated or selected. */
	{ "NAMESPACE", IMAP_STATES_AUTHED, 0, imap_misc__namespace, NULL,
	  NULL },
	{ "SELECT", IMAP_STATES_AUTHED, IMAP_CMD_F_NO_SYNC,
	  imap_select__select, NULL, NULL },
	{ "EXAMINE", IMAP_STATES_AUTHED, IMAP_CMD_F_NO_SYNC,
	  imap_select__examine, NULL, NULL },
	{ "CREATE", IMAP_STATES_AUTHED, 0, imap_mailbox__create, NULL, NULL },
	{ "DELETE", IMAP_STATES_AUTHED, 0, imap_mailbox__delete, NULL, NULL },
	{ "RENAME", IMAP_STATES_AUTHED, 0, imap_mailbox__rename, NULL, NULL },
	{ "SUBSCRIBE", IMAP_STATES_AUTHED, 0, imap_mailbox__subscribe, NULL,
	  NULL },
	{ "UNSUBSCRIBE", IMAP_STATES_AUTHED, 0, imap_mailbox__unsubscribe,
	  NULL, NULL },
	{ "LIST", IMAP_STATES_AUTHED, 0, imap_list__list, NULL, NULL },
	/* RFC 3501 6.3.9; gone from IMAP4rev2 but clients still send it. */
	{ "LSUB", IMAP_STATES_AUTHED, 0, imap_list__lsub, NULL, NULL },
	{ "STATUS", IMAP_STATES_AUTHED, 0, imap_mailbox__status, NULL, NULL },
	/* RFC 2177 / RFC 9051 6.3.13. */
	{ "IDLE", IMAP_STATES_AUTHED, 0, imap_select__idle, NULL, NULL },
	/* RFC 9051 6.4: selected. CLOSE answers without updates: the
	 * mailbox is gone from the session when it replies. */
	{ "CLOSE", IMAP_STATE_SELECTED, IMAP_CMD_F_NO_SYNC,
	  imap_select__close_cmd, NULL, NULL },
	{ "UNSELECT", IMAP_STATE_SELECTED, IMAP_CMD_F_NO_SYNC,
	  imap_select__unselect, NULL, NULL },
	/* RFC 3501 6.4.1: a NOOP in IMAP4rev2 terms. */
	{ "CHECK", IMAP_STATE_SELECTED, 0, imap_select__check, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL },
};
