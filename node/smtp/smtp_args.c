/* smtp_args.c: MAIL, RCPT, BDAT and HELO arguments. Paths are handed to
 * rs_addr_parse_path once their end and the parameters after them are
 * known; this file only adds the SMTP framing around them. */
#include "node/smtp/smtp_args.h"

#include <string.h>

static const struct smtp_reject smtp_rej_mail_syntax = {
	501, "5.5.4", "syntax", "Syntax: MAIL FROM:<address>" };
static const struct smtp_reject smtp_rej_rcpt_syntax = {
	501, "5.5.4", "syntax", "Syntax: RCPT TO:<address>" };
static const struct smtp_reject smtp_rej_from_addr = {
	501, "5.1.7", "bad_address", "Bad sender address syntax" };
static const struct smtp_reject smtp_rej_to_addr = {
	501, "5.1.3", "bad_address", "Bad recipient address syntax" };
/* RFC 6531 section 3.5: 553 5.6.7 for a UTF-8 address without the
 * SMTPUTF8 parameter (RFC 6533 section 5 defines 5.6.7). */
static const struct smtp_reject smtp_rej_utf8 = {
	553, "5.6.7", "utf8_without_smtputf8",
	"Must declare SMTPUTF8 to send a UTF-8 address" };
/* RFC 5321 section 4.1.1.11 / RFC 3463 5.5.4: parameter not recognised. */
static const struct smtp_reject smtp_rej_param_unknown = {
	555, "5.5.4", "unknown_parameter", "Unsupported parameter" };
static const struct smtp_reject smtp_rej_param_syntax = {
	501, "5.5.4", "bad_parameter", "Bad parameter syntax" };
static const struct smtp_reject smtp_rej_param_dup = {
	501, "5.5.4", "bad_parameter", "Duplicate parameter" };
static const struct smtp_reject smtp_rej_size = {
	501, "5.5.4", "bad_parameter", "Bad SIZE parameter" };
static const struct smtp_reject smtp_rej_body = {
	501, "5.5.4", "bad_parameter", "Unsupported BODY type" };
static const struct smtp_reject smtp_rej_helo_syntax = {
	501, "5.5.4", "syntax", "Syntax: EHLO hostname" };
static const struct smtp_reject smtp_rej_helo_name = {
	501, "5.5.2", "bad_helo", "Invalid EHLO/HELO hostname" };

static int
smtp_reject_set(struct smtp_reject *rej, const struct smtp_reject *r)
{
	*rej = *r;
	return -1;
}

static bool
smtp_args_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* Octets of the path "<...>" at s (a quoted local part may hold '>'), or
 * 0 if there is none. Paths past RS_ADDR_PATH_MAX are left for
 * rs_addr_parse_path to refuse, but the scan stops somewhere. */
static size_t
smtp_args_path_len(const char *s, size_t n)
{
	bool q = false;

	if (n == 0 || s[0] != '<')
		return 0;
	if (n > RS_ADDR_PATH_MAX + 64)
		n = RS_ADDR_PATH_MAX + 64;
	for (size_t i = 1; i < n; i++) {
		if (q && s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			q = !q;
		} else if (!q && s[i] == '>') {
			return i + 1;
		}
	}
	return 0;
}

static bool
smtp_args_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* "FROM:" or "TO:" and the path after it. RFC 5321 wants no space after
 * the colon, but many clients send one ("MAIL FROM: <a@b>"). */
static size_t
smtp_args_prefix(struct rs_str args, const char *prefix, struct rs_str *rest)
{
	size_t i = strlen(prefix);

	if (!rs_str_istarts(args, prefix))
		return 0;
	while (i < args.len && args.p[i] == ' ')
		i++;
	*rest = rs_str_make(args.p + i, args.len - i);
	return smtp_args_path_len(rest->p, rest->len);
}

/* One "keyword[=value]" of RFC 5321 section 4.1.2 esmtp-param. */
static int
smtp_args_param(struct rs_str kw, struct rs_str val, bool has_val,
                struct smtp_mail *m, struct smtp_reject *rej)
{
	m->has_params = true;
	if (rs_str_ieq_cstr(kw, "SIZE")) {
		/* RFC 1870 section 3: size-value ::= 1*20DIGIT. */
		if (m->has_size)
			return smtp_reject_set(rej, &smtp_rej_param_dup);
		if (!has_val || rs_str_to_u64(val, UINT64_MAX, &m->size) != 0)
			return smtp_reject_set(rej, &smtp_rej_size);
		m->has_size = true;
		return 0;
	}
	if (rs_str_ieq_cstr(kw, "BODY")) {
		/* RFC 6152 section 2; BINARYMIME (RFC 3030) is not offered. */
		if (m->body != SMTP_BODY_NONE)
			return smtp_reject_set(rej, &smtp_rej_param_dup);
		if (has_val && rs_str_ieq_cstr(val, "7BIT"))
			m->body = SMTP_BODY_7BIT;
		else if (has_val && rs_str_ieq_cstr(val, "8BITMIME"))
			m->body = SMTP_BODY_8BITMIME;
		else
			return smtp_reject_set(rej, &smtp_rej_body);
		return 0;
	}
	if (rs_str_ieq_cstr(kw, "SMTPUTF8")) {
		/* RFC 6531 section 3.4: no value. */
		if (m->smtputf8)
			return smtp_reject_set(rej, &smtp_rej_param_dup);
		if (has_val)
			return smtp_reject_set(rej, &smtp_rej_param_syntax);
		m->smtputf8 = true;
		return 0;
	}
	return smtp_reject_set(rej, &smtp_rej_param_unknown);
}

/* The parameters after a path: (SP esmtp-param)*, runs of spaces
 * tolerated. m NULL: none is supported (RCPT). */
static int
smtp_args_params(const char *s, size_t n, struct smtp_mail *m,
                 struct smtp_reject *rej)
{
	size_t i = 0;

	if (n > 0 && s[0] != ' ')
		return smtp_reject_set(rej, &smtp_rej_param_syntax);
	while (i < n) {
		size_t k, v = 0, vlen = 0;
		bool has_val = false;

		if (s[i] == ' ') {
			i++;
			continue;
		}
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		k = i;
		if (!smtp_args_alnum((unsigned char)s[i]))
			return smtp_reject_set(rej, &smtp_rej_param_syntax);
		while (i < n && (smtp_args_alnum((unsigned char)s[i]) ||
		                 s[i] == '-'))
			i++;
		if (i < n && s[i] == '=') {
			/* esmtp-value = 1*(%d33-60 / %d62-126) */
			has_val = true;
			v = ++i;
			while (i < n && s[i] != ' ') {
				unsigned char c = (unsigned char)s[i];

				if (c < 33 || c > 126 || c == '=')
					return smtp_reject_set(
					    rej, &smtp_rej_param_syntax);
				i++;
			}
			vlen = i - v;
			if (vlen == 0)
				return smtp_reject_set(rej,
				                       &smtp_rej_param_syntax);
		} else if (i < n && s[i] != ' ') {
			return smtp_reject_set(rej, &smtp_rej_param_syntax);
		}
		if (m == NULL)
			return smtp_reject_set(rej, &smtp_rej_param_unknown);
		if (smtp_args_param(rs_str_make(s + k, (has_val ? v - 1 : i) - k),
		                    rs_str_make(s + v, vlen), has_val, m,
		                    rej) != 0)
			return -1;
	}
	return 0;
}

int
smtp_args_mail(struct rs_str args, struct smtp_mail *m,
               struct smtp_reject *rej)
{
	struct rs_str rest = { NULL, 0 };
	struct rs_err err;
	size_t plen, used = 0;
	unsigned flags = RS_ADDR_ALLOW_NULL;

	memset(m, 0, sizeof(*m));
	if (!rs_str_istarts(args, "FROM:"))
		return smtp_reject_set(rej, &smtp_rej_mail_syntax);
	if ((plen = smtp_args_prefix(args, "FROM:", &rest)) == 0)
		return smtp_reject_set(rej, rest.len == 0 ? &smtp_rej_mail_syntax
		                                          : &smtp_rej_from_addr);
	if (smtp_args_params(rest.p + plen, rest.len - plen, m, rej) != 0)
		return -1;
	if (m->smtputf8)
		flags |= RS_ADDR_UTF8;
	else if (smtp_args_8bit(rest.p, plen))
		return smtp_reject_set(rej, &smtp_rej_utf8);
	if (rs_addr_parse_path(rest.p, plen, flags, &m->from, &used, &err) != 0 ||
	    used != plen)
		return smtp_reject_set(rej, &smtp_rej_from_addr);
	return 0;
}

int
smtp_args_rcpt(struct rs_str args, bool utf8, struct smtp_rcpt *r,
               struct smtp_reject *rej)
{
	struct rs_str rest = { NULL, 0 };
	struct rs_err err;
	size_t plen, used = 0;

	memset(r, 0, sizeof(*r));
	if (!rs_str_istarts(args, "TO:"))
		return smtp_reject_set(rej, &smtp_rej_rcpt_syntax);
	if ((plen = smtp_args_prefix(args, "TO:", &rest)) == 0)
		return smtp_reject_set(rej, rest.len == 0 ? &smtp_rej_rcpt_syntax
		                                          : &smtp_rej_to_addr);
	if (smtp_args_params(rest.p + plen, rest.len - plen, NULL, rej) != 0)
		return -1;
	/* RFC 5321 section 4.1.1.3: "<Postmaster>" without a domain must
	 * be accepted, case-insensitively. */
	if (rs_str_ieq_cstr(rs_str_make(rest.p, plen), "<postmaster>")) {
		r->postmaster = true;
		memcpy(r->to.local, "postmaster", sizeof("postmaster"));
		return 0;
	}
	if (!utf8 && smtp_args_8bit(rest.p, plen))
		return smtp_reject_set(rej, &smtp_rej_utf8);
	if (rs_addr_parse_path(rest.p, plen, utf8 ? RS_ADDR_UTF8 : 0, &r->to,
	                       &used, &err) != 0 || used != plen)
		return smtp_reject_set(rej, &smtp_rej_to_addr);
	return 0;
}

int
smtp_args_bdat(struct rs_str args, uint64_t *size_r, bool *last_r)
{
	size_t i = 0;

	/* RFC 3030 section 2: bdat-cmd ::= "BDAT" SP chunk-size
	 * [ SP end-marker ] CR LF; chunk-size ::= 1*DIGIT. 19 digits keep
	 * the value below 2^64. */
	while (i < args.len && args.p[i] >= '0' && args.p[i] <= '9')
		i++;
	if (i == 0 || i > 19 ||
	    rs_str_to_u64(rs_str_make(args.p, i), UINT64_MAX, size_r) != 0)
		return -1;
	*last_r = false;
	if (i == args.len)
		return 0;
	if (args.p[i] != ' ')
		return -1;
	while (i < args.len && args.p[i] == ' ')
		i++;
	if (!rs_str_ieq_cstr(rs_str_make(args.p + i, args.len - i), "LAST"))
		return -1;
	*last_r = true;
	return 0;
}

int
smtp_args_helo(struct rs_str args, struct smtp_reject *rej)
{
	if (args.len == 0)
		return smtp_reject_set(rej, &smtp_rej_helo_syntax);
	if (args.len > SMTP_HELO_MAX)
		return smtp_reject_set(rej, &smtp_rej_helo_name);
	/* RFC 5321 section 4.1.1.1 wants a domain or an address literal;
	 * real clients send worse, so only what would corrupt the Received:
	 * header we write it into (RFC 5322 section 3.6.7) is refused. */
	for (size_t i = 0; i < args.len; i++) {
		unsigned char c = (unsigned char)args.p[i];

		if (c <= 32 || c >= 127 || strchr("()<>;,\"\\", c) != NULL)
			return smtp_reject_set(rej, &smtp_rej_helo_name);
	}
	return 0;
}
