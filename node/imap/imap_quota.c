/* imap_quota.c: GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208). An
 * account has one quota root, "", over all its mailboxes, with the
 * STORAGE limit from the directory (and MESSAGE when set); usage is the
 * store's account counters. Admins change limits through roostctl, so
 * SETQUOTA is refused. */
#include <inttypes.h>
#include <string.h>

#include "node/imap/imap_fetch_util.h"

/* Octets to KiB, rounded up (RFC 9208 5: STORAGE is in units of 1024). */
static uint64_t
imap_quota_kib(uint64_t bytes)
{
	return bytes / 1024 + (bytes % 1024 != 0);
}

static bool
imap_quota_limited(const struct imap_session *s)
{
	return s->quota.bytes != 0 || s->quota.messages != 0;
}

/* "* QUOTA "" (STORAGE used limit MESSAGE n limit)". 0, or -1 after the
 * tagged NO. */
static int
imap_quota_send(struct imap_session *s)
{
	struct store_account_info info;
	struct evbuffer *out = imap_out(s);
	struct rs_err err;
	bool sp = false;

	rs_err_clear(&err);
	if (store_account_get(imap_store(s), s->acct, &info, &err) != 0) {
		rs_logc(&s->log, RS_LOG_WARN, "imap.quota_failed",
		        "error=\"%s\"", err.msg);
		imap_reply(s, IMAP_NO, "[SERVERBUG] Cannot read the usage");
		return -1;
	}
	evbuffer_add_printf(out, "* QUOTA \"\" (");
	if (s->quota.bytes != 0) {
		evbuffer_add_printf(out, "STORAGE %" PRIu64 " %" PRIu64,
		                    imap_quota_kib(info.bytes),
		                    s->quota.bytes / 1024);
		sp = true;
	}
	if (s->quota.messages != 0)
		evbuffer_add_printf(out, "%sMESSAGE %" PRIu64 " %" PRIu64,
		                    sp ? " " : "", info.messages,
		                    s->quota.messages);
	evbuffer_add(out, ")\r\n", 3);
	return 0;
}

int
imap_quota__getquotaroot(struct imap_session *s, const struct imap_cmd *cmd)
{
	char name[STORE_MAILBOX_NAME_MAX + 1];
	struct store_mailbox mb;
	struct rs_err err;
	int rc;

	if (cmd->nargs != 1) {
		imap_reply(s, IMAP_BAD, "GETQUOTAROOT takes a mailbox name");
		return IMAP_RUN_DONE;
	}
	if ((rc = imap_mailbox_name_in(s, &cmd->args[0], name,
	                               sizeof(name))) != 0) {
		imap_mailbox__name_refuse(s, rc, false, "GETQUOTAROOT takes a "
		                          "mailbox name");
		return IMAP_RUN_DONE;
	}
	rs_err_clear(&err);
	rc = store_mailbox_find(imap_store(s), s->acct, name, &mb, &err);
	if (rc == RS_ENOTFOUND) {
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return IMAP_RUN_DONE;
	}
	if (rc != 0) {
		imap_reply(s, IMAP_NO, "[SERVERBUG] Cannot read the mailbox");
		return IMAP_RUN_DONE;
	}
	evbuffer_add_printf(imap_out(s), "* QUOTAROOT ");
	imap_mailbox_name_out(s, imap_out(s), name);
	/* RFC 9208 4.3.1: no roots when nothing limits the mailbox. */
	if (!imap_quota_limited(s)) {
		evbuffer_add(imap_out(s), "\r\n", 2);
		imap_reply(s, IMAP_OK, "GETQUOTAROOT completed");
		return IMAP_RUN_DONE;
	}
	evbuffer_add_printf(imap_out(s), " \"\"\r\n");
	if (imap_quota_send(s) == 0)
		imap_reply(s, IMAP_OK, "GETQUOTAROOT completed");
	return IMAP_RUN_DONE;
}

int
imap_quota__getquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 1 || !imap_arg_is_string(&cmd->args[0])) {
		imap_reply(s, IMAP_BAD, "GETQUOTA takes a quota root");
		return IMAP_RUN_DONE;
	}
	if (cmd->args[0].str.len != 0 || !imap_quota_limited(s)) {
		imap_reply(s, IMAP_NO, "[NONEXISTENT] No such quota root");
		return IMAP_RUN_DONE;
	}
	if (imap_quota_send(s) == 0)
		imap_reply(s, IMAP_OK, "GETQUOTA completed");
	return IMAP_RUN_DONE;
}

int
imap_quota__setquota(struct imap_session *s, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 2 || !imap_arg_is_string(&cmd->args[0]) ||
	    cmd->args[1].type != IMAP_ARG_LIST) {
		imap_reply(s, IMAP_BAD, "SETQUOTA takes a root and a list");
		return IMAP_RUN_DONE;
	}
	/* RFC 9208 4.1.3: limits are the administrator's (roostctl). */
	imap_reply(s, IMAP_NO, "[CANNOT] Quotas are set by the administrator");
	return IMAP_RUN_DONE;
}
