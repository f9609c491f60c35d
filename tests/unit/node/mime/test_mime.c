/* test_mime.c: mime_parse() on a table of real-world-like messages,
 * compared with the ENVELOPE, BODYSTRUCTURE and BODY texts IMAP servers
 * give (the "dovecot-" cases were checked against Dovecot 2.3.19). Known
 * differences with Dovecot, on purpose: RFC 2231 values are decoded; a
 * multipart without a usable boundary is text/plain; an invalid
 * Content-Type is text/plain; sizes are octets as stored (Dovecot counts
 * a bare LF as CRLF). */
#include <stdlib.h>

#include "node/mime/mime.h"
#include "tests/unit/test.h"

#define HDR1 "From: John Doe <jdoe@machine.example>\r\n" \
	"To: Mary Smith <mary@example.net>\r\n" \
	"Subject: Saying Hello\r\n" \
	"Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n" \
	"Message-ID: <1234@local.machine.example>\r\n"
#define ENV1 "(\"Fri, 21 Nov 1997 09:55:06 -0600\" \"Saying Hello\" " \
	"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) " \
	"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) " \
	"((\"John Doe\" NIL \"jdoe\" \"machine.example\")) " \
	"((\"Mary Smith\" NIL \"mary\" \"example.net\")) NIL NIL NIL " \
	"\"<1234@local.machine.example>\")"
#define ENV_X "(NIL NIL ((NIL NIL \"x\" \"y.org\")) " \
	"((NIL NIL \"x\" \"y.org\")) ((NIL NIL \"x\" \"y.org\")) " \
	"NIL NIL NIL NIL NIL)"

static const struct mime_case {
	const char *name, *msg;
	const char *want_env, *want_bs, *want_body;
	unsigned want_flags;
} cases[] = {
	{ "simple", HDR1 "\r\nThis is a message just to say hello.\r\n"
	  "So, \"Hello\".\r\n", ENV1,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 52 2 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 52 2)",
	  0 },
	{ "bare-lf", "From: x@y.org\n\nline 1\nline 2\n", ENV_X,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2)",
	  MIME_SUMMARY_BARE_LF },
	{ "no-body", "From: x@y.org\r\n\r\n", ENV_X,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
	  0 },
	{ "header-only", "From: x@y.org\r\n", ENV_X,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
	  0 },
	{ "empty", "", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)",
	  0 },
	{ "alternative", "From: x@y.org\r\nMIME-Version: 1.0\r\n"
	  "Content-Type: multipart/alternative; boundary=\"XX\"\r\n\r\n"
	  "preamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	  "hello\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>hello</p>\r\n"
	  "--XX--\r\nepilogue\r\n", ENV_X,
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 0 "
	  "NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
	  "\"quoted-printable\" 12 0 NIL NIL NIL NIL) \"alternative\" "
	  "(\"boundary\" \"XX\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 0)"
	  "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
	  "\"quoted-printable\" 12 0) \"alternative\")", 0 },
	{ "attachment-2231", "From: x@y.org\r\n"
	  "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
	  "--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
	  "--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
	  "Content-Transfer-Encoding: base64\r\n"
	  "Content-Disposition: attachment;\r\n"
	  " filename*0*=utf-8''%C3%A4rger;\r\n filename*1=\".pdf\"\r\n"
	  "Content-Language: en, de\r\n\r\n"
	  "JVBERi0=\r\n--b1--\r\n", ENV_X,
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 "
	  "NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL "
	  "\"base64\" 8 NIL (\"attachment\" (\"filename\" {10}\r\n\xc3\xa4rger.pdf))"
	  " (\"en\" \"de\") NIL) \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0)"
	  "(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" 8) "
	  "\"mixed\")", 0 },
	{ "rfc822", "From: x@y.org\r\n"
	  "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n"
	  "--o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
	  "--o\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n"
	  "\r\nFrom: Inner <in@ner.org>\r\nSubject: inner\r\n\r\ninner body\r\n"
	  "--o--\r\n", ENV_X,
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 "
	  "NIL NIL NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 54 "
	  "(NIL \"inner\" ((\"Inner\" NIL \"in\" \"ner.org\")) "
	  "((\"Inner\" NIL \"in\" \"ner.org\")) ((\"Inner\" NIL \"in\" \"ner.org\"))"
	  " NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	  "NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL (\"inline\" NIL) NIL NIL)"
	  " \"mixed\" (\"boundary\" \"o\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0)"
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 54 "
	  "(NIL \"inner\" ((\"Inner\" NIL \"in\" \"ner.org\")) "
	  "((\"Inner\" NIL \"in\" \"ner.org\")) ((\"Inner\" NIL \"in\" \"ner.org\"))"
	  " NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	  "NIL NIL \"7bit\" 10 0) 3) \"mixed\")", 0 },
	{ "digest", "From: x@y.org\r\n"
	  "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	  "--d\r\n\r\nSubject: one\r\n\r\nbody1\r\n"
	  "--d\r\nContent-Type: text/plain\r\n\r\nnot a message\r\n--d--\r\n",
	  ENV_X,
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 "
	  "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 "
	  "NIL NIL NIL NIL) 2 NIL NIL NIL NIL)(\"text\" \"plain\" "
	  "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL) "
	  "\"digest\" (\"boundary\" \"d\") NIL NIL NIL)",
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 21 "
	  "(NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) "
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0) 2)"
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0)"
	  " \"digest\")", 0 },
	{ "no-boundary", "From: x@y.org\r\nContent-Type: multipart/mixed\r\n"
	  "\r\nhello\r\n", ENV_X,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1)",
	  0 },
	{ "boundary-absent-in-body", "From: x@y.org\r\n"
	  "Content-Type: multipart/mixed; boundary=zz\r\n\r\nhello\r\n--z\r\n",
	  ENV_X,
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 2 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 2)",
	  0 },
	{ "groups", "From: x@y.org\r\n"
	  "To: A Group: a@x.org, \"B, b\" <b@y.org>; , c@z.org (C C)\r\n"
	  "Cc: undisclosed-recipients:;\r\n"
	  "Bcc: <@r1,@r2:d@e.f>, nodomain\r\n\r\n",
	  "(NIL NIL ((NIL NIL \"x\" \"y.org\")) ((NIL NIL \"x\" \"y.org\")) "
	  "((NIL NIL \"x\" \"y.org\")) ((NIL NIL \"A Group\" NIL)"
	  "(NIL NIL \"a\" \"x.org\")(\"B, b\" NIL \"b\" \"y.org\")"
	  "(NIL NIL NIL NIL)(\"C C\" NIL \"c\" \"z.org\")) "
	  "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	  "((NIL \"@r1,@r2\" \"d\" \"e.f\")(NIL NIL \"nodomain\" "
	  "\"MISSING_DOMAIN\")) NIL NIL)", NULL, NULL, 0 },
	{ "encoded-words", "From: =?utf-8?q?J=C3=B6rg?= <j@x.de>\r\n"
	  "Subject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6k=?=\r\n"
	  "Sender:\r\nReply-To: \"Max\" <m@x.de>\r\n\r\nhi\r\n",
	  "(NIL \"=?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6k=?=\" "
	  "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")) "
	  "((\"=?utf-8?q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")) "
	  "((\"Max\" NIL \"m\" \"x.de\")) NIL NIL NIL NIL NIL)", NULL, NULL, 0 },
	{ "8bit-subject", "Subject: caf\xc3\xa9 \"q\"\r\nIn-Reply-To: <a@b>\r\n"
	  "\r\n", "(NIL {9}\r\ncaf\xc3\xa9 \"q\" NIL NIL NIL NIL NIL NIL "
	  "\"<a@b>\" NIL)", NULL, NULL, 0 },
	{ "quoted-specials", "Subject: a \"b\" \\c\r\n folded\r\n\r\n",
	  "(NIL \"a \\\"b\\\" \\\\c folded\" NIL NIL NIL NIL NIL NIL NIL NIL)",
	  NULL, NULL, 0 },
	/* Repeated fields: the last string counts (Dovecot). Without
	 * MIME-Version or Content-Type, Content-* fields do not count. */
	{ "dovecot-dup", "Subject: x\r\nMessage-ID: <:06 -0600\r\n"
	  "Message-ID: <c@d>\r\nIn-Reply-To: junk\r\n\r\nx",
	  "(NIL \"x\" NIL NIL NIL NIL NIL NIL \"junk\" \"<c@d>\")",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 "
	  "NIL NIL NIL NIL)", NULL, 0 },
	{ "dovecot-not-mime", "Content-Transfer-Encoding: base64\r\n"
	  "Content-ID: <i>\r\n\r\nx", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 "
	  "NIL NIL NIL NIL)", NULL, 0 },
	{ "dovecot-mime-version", "MIME-Version: 1.0\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nx",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"base64\" 1 "
	  "0 NIL NIL NIL NIL)", NULL, 0 },
	{ "dovecot-inner-not-mime", "MIME-Version: 1.0\r\n"
	  "Content-Type: message/rfc822\r\n\r\nSubject: in\r\n"
	  "Content-Disposition: inline\r\n\r\nx",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 45 (NIL \"in\" NIL NIL "
	  "NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)",
	  NULL, 0 },
	/* The texts Dovecot 2.3.19 gives for the same octets (the literal
	 * Dovecot uses for a string holding '"' aside). */
	{ "dovecot-nested2",
	  "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nCont"
	  "ent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nCo"
	  "ntent-Type: text/plain\r\n\r\nx\r\n--b--\r\n--a\r\nContent-T"
	  "ype: image/gif; name=x.gif\r\nContent-ID: <id@x>\r\nContent-"
	  "Description: a picture\r\nContent-Location: http://x/y.gif\r"
	  "\nContent-Language: en\r\n\r\nGIF\r\n--a--\r\n",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7"
	  "bit\" 1 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b"
	  "\") NIL NIL NIL)(\"image\" \"gif\" (\"name\" \"x.gif\") \"<i"
	  "d@x>\" \"a picture\" \"7bit\" 3 NIL NIL (\"en\") \"http://x/"
	  "y.gif\") \"mixed\" (\"boundary\" \"a\") NIL NIL NIL)",
	  "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7"
	  "bit\" 1 0) \"alternative\")(\"image\" \"gif\" (\"name\" \"x."
	  "gif\") \"<id@x>\" \"a picture\" \"7bit\" 3) \"mixed\")", 0 },
	{ "dovecot-ctcase",
	  "Content-Type: TEXT/HTML; CHARSET=\"UTF-8\"; format=flowed\r\n"
	  "Content-Transfer-Encoding: QUOTED-PRINTABLE\r\nContent-Dispo"
	  "sition: INLINE; filename=\"a b.html\"\r\n\r\n<b>x</b>\r\n",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\" \"format\" \"flowe"
	  "d\") NIL NIL \"QUOTED-PRINTABLE\" 10 1 NIL (\"INLINE\" (\"fi"
	  "lename\" \"a b.html\")) NIL NIL)",
	  "(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\" \"format\" \"flowe"
	  "d\") NIL NIL \"QUOTED-PRINTABLE\" 10 1)", 0 },
	{ "dovecot-lang1",
	  "Content-Type: text/plain\r\nContent-Language: en\r\nContent-"
	  "Disposition: attachment\r\n\r\nx",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bi"
	  "t\" 1 0 NIL (\"attachment\" NIL) (\"en\") NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bi"
	  "t\" 1 0)", 0 },
	{ "dovecot-toprfc822",
	  "Content-Type: message/rfc822\r\n\r\nSubject: in\r\nFrom: a@b"
	  "\r\n\r\nbody",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 30 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \""
	  "a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"char"
	  "set\" \"us-ascii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL NIL) 3 "
	  "NIL NIL NIL NIL)",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 30 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \""
	  "a\" \"b\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"char"
	  "set\" \"us-ascii\") NIL NIL \"7bit\" 4 0) 3)", 0 },
	{ "dovecot-emptysubj",
	  "Subject:\r\nFrom:\r\nTo: \r\n\r\n",
	  "(NIL \"\" NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bi"
	  "t\" 0 0 NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bi"
	  "t\" 0 0)", 0 },
	{ "dovecot-addrs",
	  "From: \"Joe Q. Public\" <john.q.public@example.com>\r\nTo: M"
	  "ary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"
	  "\r\nCc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysserv"
	  "ices@example.net>\r\nBcc: Pete(A nice \\) chap) <pete(his ac"
	  "count)@silly.test(his host)>\r\nReply-To: foo\r\nDate: Thu, "
	  "13 Feb 1969 23:32:54 -0330\r\nMessage-ID:    <5678.21-Nov-19"
	  "97@example.com>  \r\nSubject:   spaced  \r\n\r\nx",
	  "(\"Thu, 13 Feb 1969 23:32:54 -0330\" \"spaced\" ((\"Joe Q. P"
	  "ublic\" NIL \"john.q.public\" \"example.com\")) ((\"Joe Q. P"
	  "ublic\" NIL \"john.q.public\" \"example.com\")) ((NIL NIL \""
	  "foo\" \"MISSING_DOMAIN\")) ((\"Mary Smith\" NIL \"mary\" \"x"
	  ".test\")(NIL NIL \"jdoe\" \"example.org\")(\"Who?\" NIL \"on"
	  "e\" \"y.test\")) ((NIL NIL \"boss\" \"nil.test\")(\"Giant; \\\""
	  "Big\\\" Box\" NIL \"sysservices\" \"example.net\")) ((\"Pete"
	  "\" NIL \"pete\" \"silly.test\")) NIL \"<5678.21-Nov-1997@exa"
	  "mple.com>\")",
	  NULL,
	  NULL, 0 },
	{ "dovecot-r_outlook",
	  "From: \"Carol (Sales)\" <carol@corp.example>\r\nTo: \"'Dave'"
	  "\" <dave@corp.example>\r\nCC: team@corp.example\r\nSubject: "
	  "RE: [EXT] FW: meeting\r\nThread-Topic: meeting\r\nDate: Wed,"
	  " 4 Mar 2026 14:22:31 +0000\r\nMessage-ID: <DB9PR01MB1234@DB9"
	  "PR01MB.eurprd01.prod.outlook.com>\r\nReferences: <x1@corp.ex"
	  "ample> <x2@corp.example>\r\nIn-Reply-To: <x2@corp.example>\r"
	  "\nContent-Language: en-GB, de-DE\r\nContent-Type: multipart/"
	  "related;\r\n\x09"
	  "boundary=\"_004_DB9PR01MB_\";\r\n\x09type=\"multipart/altern"
	  "ative\"\r\nMIME-Version: 1.0\r\n\r\n--_004_DB9PR01MB_\r\nCon"
	  "tent-Type: multipart/alternative;\r\n\x09"
	  "boundary=\"_000_DB9PR01MB_\"\r\n\r\n--_000_DB9PR01MB_\r\nCon"
	  "tent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Tra"
	  "nsfer-Encoding: quoted-printable\r\n\r\nHello=A0Dave\r\n\r\n"
	  "--_000_DB9PR01MB_\r\nContent-Type: text/html; charset=\"iso-"
	  "8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r"
	  "\n<html><img src=3D\"cid:image001.png@01D\"></html>\r\n\r\n-"
	  "-_000_DB9PR01MB_--\r\n\r\n--_004_DB9PR01MB_\r\nContent-Type:"
	  " image/png; name=\"image001.png\"\r\nContent-Description: im"
	  "age001.png\r\nContent-Disposition: inline; filename=\"image0"
	  "01.png\"; size=1234;\r\n\x09"
	  "creation-date=\"Wed, 04 Mar 2026 14:22:30 GMT\";\r\n\x09modi"
	  "fication-date=\"Wed, 04 Mar 2026 14:22:30 GMT\"\r\nContent-I"
	  "D: <image001.png@01D>\r\nContent-Transfer-Encoding: base64\r"
	  "\n\r\niVBORw0KGgo=\r\n\r\n--_004_DB9PR01MB_--\r\n",
	  "(\"Wed, 4 Mar 2026 14:22:31 +0000\" \"RE: [EXT] FW: meeting\""
	  " ((\"Carol (Sales)\" NIL \"carol\" \"corp.example\")) ((\"Ca"
	  "rol (Sales)\" NIL \"carol\" \"corp.example\")) ((\"Carol (Sa"
	  "les)\" NIL \"carol\" \"corp.example\")) ((\"'Dave'\" NIL \"d"
	  "ave\" \"corp.example\")) ((NIL NIL \"team\" \"corp.example\""
	  ")) NIL \"<x2@corp.example>\" \"<DB9PR01MB1234@DB9PR01MB.eurp"
	  "rd01.prod.outlook.com>\")",
	  "(((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \""
	  "quoted-printable\" 14 1 NIL NIL NIL NIL)(\"text\" \"html\" ("
	  "\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 49 "
	  "1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"_000_DB9P"
	  "R01MB_\") NIL NIL NIL)(\"image\" \"png\" (\"name\" \"image00"
	  "1.png\") \"<image001.png@01D>\" \"image001.png\" \"base64\" "
	  "14 NIL (\"inline\" (\"filename\" \"image001.png\" \"size\" \""
	  "1234\" \"creation-date\" \"Wed, 04 Mar 2026 14:22:30 GMT\" \""
	  "modification-date\" \"Wed, 04 Mar 2026 14:22:30 GMT\")) NIL "
	  "NIL) \"related\" (\"boundary\" \"_004_DB9PR01MB_\" \"type\" "
	  "\"multipart/alternative\") NIL (\"en-GB\" \"de-DE\") NIL)",
	  "(((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \""
	  "quoted-printable\" 14 1)(\"text\" \"html\" (\"charset\" \"is"
	  "o-8859-1\") NIL NIL \"quoted-printable\" 49 1) \"alternative"
	  "\")(\"image\" \"png\" (\"name\" \"image001.png\") \"<image00"
	  "1.png@01D>\" \"image001.png\" \"base64\" 14) \"related\")", 0 },
	{ "dovecot-r_bounce",
	  "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nSub"
	  "ject: Undelivered Mail Returned to Sender\r\nTo: user@exampl"
	  "e.org\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r"
	  "\nContent-Type: multipart/report; report-type=delivery-statu"
	  "s;\r\n\x09"
	  "boundary=\"B1\"\r\n\r\n--B1\r\nContent-Description: Notifica"
	  "tion\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nI'"
	  "m sorry.\r\n\r\n--B1\r\nContent-Description: Delivery report"
	  "\r\nContent-Type: message/delivery-status\r\n\r\nReporting-M"
	  "TA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\nA"
	  "ction: failed\r\n\r\n--B1\r\nContent-Description: Undelivere"
	  "d Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r"
	  "\nFrom: user@example.org\r\nSubject: hi\r\n\r\n--B1\r\nConte"
	  "nt-Type: message/rfc822\r\n\r\nFrom: user@example.org\r\nTo:"
	  " x@y\r\nSubject: hi\r\nDate: Mon, 2 Mar 2026 10:00:00 -0500\r"
	  "\n\r\nbody\r\n\r\n--B1--\r\n",
	  "(NIL \"Undelivered Mail Returned to Sender\" ((\"Mail Delive"
	  "ry System\" NIL \"MAILER-DAEMON\" \"mx.example\")) ((\"Mail "
	  "Delivery System\" NIL \"MAILER-DAEMON\" \"mx.example\")) ((\""
	  "Mail Delivery System\" NIL \"MAILER-DAEMON\" \"mx.example\")"
	  ") ((NIL NIL \"user\" \"example.org\")) NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL \"Notifi"
	  "cation\" \"7bit\" 12 1 NIL NIL NIL NIL)(\"message\" \"delive"
	  "ry-status\" NIL NIL \"Delivery report\" \"7bit\" 80 NIL NIL "
	  "NIL NIL)(\"text\" \"rfc822-headers\" (\"charset\" \"us-ascii"
	  "\") NIL \"Undelivered Message Headers\" \"7bit\" 37 2 NIL NI"
	  "L NIL NIL)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 92 (\""
	  "Mon, 2 Mar 2026 10:00:00 -0500\" \"hi\" ((NIL NIL \"user\" \""
	  "example.org\")) ((NIL NIL \"user\" \"example.org\")) ((NIL N"
	  "IL \"user\" \"example.org\")) ((NIL NIL \"x\" \"y\")) NIL NI"
	  "L NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NI"
	  "L NIL \"7bit\" 6 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL) \"rep"
	  "ort\" (\"report-type\" \"delivery-status\" \"boundary\" \"B1"
	  "\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL \"Notifi"
	  "cation\" \"7bit\" 12 1)(\"message\" \"delivery-status\" NIL "
	  "NIL \"Delivery report\" \"7bit\" 80)(\"text\" \"rfc822-heade"
	  "rs\" (\"charset\" \"us-ascii\") NIL \"Undelivered Message He"
	  "aders\" \"7bit\" 37 2)(\"message\" \"rfc822\" NIL NIL NIL \""
	  "7bit\" 92 (\"Mon, 2 Mar 2026 10:00:00 -0500\" \"hi\" ((NIL N"
	  "IL \"user\" \"example.org\")) ((NIL NIL \"user\" \"example.o"
	  "rg\")) ((NIL NIL \"user\" \"example.org\")) ((NIL NIL \"x\" "
	  "\"y\")) NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \""
	  "us-ascii\") NIL NIL \"7bit\" 6 1) 6) \"report\")", 0 },
	{ "dovecot-r_thunderbird",
	  "Return-Path: <alice@example.org>\r\nReceived: from mx.exampl"
	  "e.org ([192.0.2.1])\r\n\x09"
	  "by mail.example.net with ESMTPS id 12345\r\n\x09"
	  "for <bob@example.net>; Tue, 3 Mar 2026 10:00:00 +0100\r\nMes"
	  "sage-ID: <a1b2c3@example.org>\r\nDate: Tue, 3 Mar 2026 09:59"
	  ":58 +0100\r\nMIME-Version: 1.0\r\nUser-Agent: Mozilla Thunde"
	  "rbird\r\nContent-Language: en-US\r\nTo: Bob <bob@example.net"
	  ">, \"M\xc3\xbcller, J\xc3\xb6rg\" <joerg@example.de>\r\nFrom"
	  ": Alice <alice@example.org>\r\nSubject: =?UTF-8?Q?Quarterly_"
	  "report_=E2=80=93_draft?=\r\nContent-Type: multipart/mixed;\r"
	  "\n boundary=\"------------abc123\"\r\n\r\nThis is a multi-pa"
	  "rt message in MIME format.\r\n--------------abc123\r\nConten"
	  "t-Type: multipart/alternative;\r\n boundary=\"------------de"
	  "f456\"\r\n\r\n\r\n--------------def456\r\nContent-Type: text"
	  "/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Enc"
	  "oding: 8bit\r\n\r\nHi Bob,\r\n\r\nsee attached \xe2\x80\x93 "
	  "thanks.\r\n\r\n--------------def456\r\nContent-Type: text/ht"
	  "ml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	  "<html><body><p>Hi Bob,</p></body></html>\r\n\r\n------------"
	  "--def456--\r\n--------------abc123\r\nContent-Type: applicat"
	  "ion/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r"
	  "\n name=\"Q1 report.xlsx\"\r\nContent-Disposition: attachmen"
	  "t;\r\n filename=\"Q1 report.xlsx\"\r\nContent-Transfer-Encod"
	  "ing: base64\r\n\r\nUEsDBBQABgAIAAAAIQBi7p1oXgEAAJAEAAATAAgCW"
	  "0NvbnRlbnRfVHlwZXNdLnhtbCCiBAIooAAC\r\nAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\r"
	  "\n--------------abc123--\r\n",
	  "(\"Tue, 3 Mar 2026 09:59:58 +0100\" \"=?UTF-8?Q?Quarterly_re"
	  "port_=E2=80=93_draft?=\" ((\"Alice\" NIL \"alice\" \"example"
	  ".org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Ali"
	  "ce\" NIL \"alice\" \"example.org\")) ((\"Bob\" NIL \"bob\" \""
	  "example.net\")({14}\r\nM\xc3\xbcller, J\xc3\xb6rg NIL \"joer"
	  "g\" \"example.de\")) NIL NIL NIL \"<a1b2c3@example.org>\")",
	  "(((\"text\" \"plain\" (\"charset\" \"UTF-8\" \"format\" \"fl"
	  "owed\") NIL NIL \"8bit\" 37 3 NIL NIL NIL NIL)(\"text\" \"ht"
	  "ml\" (\"charset\" \"UTF-8\") NIL NIL \"8bit\" 42 1 NIL NIL N"
	  "IL NIL) \"alternative\" (\"boundary\" \"------------def456\""
	  ") NIL NIL NIL)(\"application\" \"vnd.openxmlformats-officedo"
	  "cument.spreadsheetml.sheet\" (\"name\" \"Q1 report.xlsx\") N"
	  "IL NIL \"base64\" 156 NIL (\"attachment\" (\"filename\" \"Q1"
	  " report.xlsx\")) NIL NIL) \"mixed\" (\"boundary\" \"--------"
	  "----abc123\") NIL (\"en-US\") NIL)",
	  "(((\"text\" \"plain\" (\"charset\" \"UTF-8\" \"format\" \"fl"
	  "owed\") NIL NIL \"8bit\" 37 3)(\"text\" \"html\" (\"charset\""
	  " \"UTF-8\") NIL NIL \"8bit\" 42 1) \"alternative\")(\"applic"
	  "ation\" \"vnd.openxmlformats-officedocument.spreadsheetml.sh"
	  "eet\" (\"name\" \"Q1 report.xlsx\") NIL NIL \"base64\" 156) "
	  "\"mixed\")", 0 },
};

/* Parses msg and opens its summary; meta must be freed by the caller. */
static int
parse_open(const char *msg, size_t len, struct rs_buf *meta,
           struct mime_summary *s)
{
	struct rs_err err;

	memset(s, 0, sizeof(*s));
	rs_buf_init(meta, RS_BUF_UNLIMITED);
	if (mime_parse((const uint8_t *)msg, len, meta, &err) != 0)
		return -1;
	return mime_summary_open(meta->data, meta->len, s);
}

static void
check_str(size_t idx, const char *name, struct rs_str got, const char *want)
{
	char *g = rs_str_dup(got);

	if (want != NULL && strcmp(g, want) != 0)
		test_fail(__FILE__, __LINE__, "case %zu (%s):\n got  %s\n want %s",
		          idx, name, g, want);
	free(g);
}

void
test_mime_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mime_case *c = &cases[i];
		struct rs_buf meta;
		struct mime_summary s;

		TEST_ASSERT_IDX(parse_open(c->msg, strlen(c->msg), &meta, &s) == 0,
		                i);
		check_str(i, c->name, mime_summary_envelope(&s), c->want_env);
		check_str(i, c->name, mime_summary_bodystructure(&s), c->want_bs);
		check_str(i, c->name, mime_summary_body(&s), c->want_body);
		TEST_ASSERT_IDX(s.flags == c->want_flags, i);
		TEST_ASSERT_IDX(s.msg_size == strlen(c->msg), i);
		rs_buf_free(&meta);
	}
}

/* An RFC 2231 value in a legacy charset long enough that its UTF-8 form
 * makes the scratch buffer grow while the raw octets are still being
 * read from it (a use after free before, found by fuzz_mime; ASan in
 * ./tests/run.sh catches it). 100 x %E9 in ISO-8859-1 is 100 x U+00E9,
 * 200 octets of UTF-8. */
void
test_mime_param_charset_growth(void)
{
	struct rs_buf msg, want;
	struct mime_summary s;
	struct rs_buf meta;
	char *bs;

	rs_buf_init(&msg, RS_BUF_UNLIMITED);
	rs_buf_init(&want, RS_BUF_UNLIMITED);
	TEST_ASSERT(rs_buf_append_str(&msg, "From: x@y.org\r\nContent-Type: "
	                              "application/pdf; name*=iso-8859-1''")
	            == 0);
	TEST_ASSERT(rs_buf_append_str(&want, "(\"name\" {200}\r\n") == 0);
	for (int i = 0; i < 100; i++) {
		TEST_ASSERT(rs_buf_append_str(&msg, "%E9") == 0);
		TEST_ASSERT(rs_buf_append_str(&want, "\xc3\xa9") == 0);
	}
	TEST_ASSERT(rs_buf_append_str(&want, ")") == 0);
	TEST_ASSERT(rs_buf_append_str(&msg, "\r\n\r\nbody\r\n") == 0);
	TEST_ASSERT(parse_open((const char *)msg.data, msg.len, &meta, &s) == 0);
	bs = rs_str_dup(mime_summary_bodystructure(&s));
	TEST_ASSERT(strstr(bs, (const char *)want.data) != NULL);
	free(bs);
	rs_buf_free(&meta);
	rs_buf_free(&want);
	rs_buf_free(&msg);
}
