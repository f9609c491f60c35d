/* test_mime_summary.c: damaged summaries are refused by
 * mime_summary_open() (every octet flipped, every truncation) or, when
 * the damage is made consistent again, never lead a reader out of
 * bounds; the limits of mime.h on parts, depth and header size. */
#include <stdio.h>
#include <stdlib.h>

#include "node/mime/mime.h"
#include "storage/store.h"
#include "tests/unit/test.h"

static const char small[] = "From: a@b.c\r\nSubject: s\r\n"
	"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
	"--x\r\n\r\none\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
	"Subject: in\r\n\r\nin\r\n--x--\r\n";

static uint32_t
fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Walks every part of an opened summary: all inside msg_size. */
static void
walk_all(const struct mime_summary *s)
{
	struct mime_part_iter it;
	struct mime_part p, q;
	uint32_t n = 0;

	mime_summary_iter_init(&it, s);
	while (mime_summary_iter_next(&it, &p) == 1) {
		TEST_ASSERT(p.body_off + p.body_len <= s->msg_size);
		TEST_ASSERT(p.hdr_off + p.hdr_len == p.body_off);
		TEST_ASSERT(p.msg_hdr_off + p.msg_hdr_len <= s->msg_size);
		TEST_ASSERT(p.msg_text_off + p.msg_text_len <= s->msg_size);
		TEST_ASSERT(strlen(p.section) <= MIME_SECTION_MAX);
		TEST_ASSERT(mime_summary_part(s, p.section, &q) == 0);
		TEST_ASSERT(++n <= s->nparts);
	}
	TEST_ASSERT(s->envelope.p >= (const char *)s->meta &&
	            s->envelope.p + s->envelope.len <=
	            (const char *)s->meta + s->len);
}

void
test_mime_summary_damage(void)
{
	struct rs_buf meta;
	struct mime_summary s;
	uint8_t *copy;

	rs_buf_init(&meta, RS_BUF_UNLIMITED);
	TEST_ASSERT(mime_parse((const uint8_t *)small, sizeof(small) - 1, &meta,
	                       NULL) == 0);
	TEST_ASSERT(mime_summary_open(meta.data, meta.len, &s) == 0);
	TEST_ASSERT(s.nparts == 4);
	walk_all(&s);
	copy = malloc(meta.len);
	for (size_t len = 0; len < meta.len; len++) {
		memcpy(copy, meta.data, len);
		TEST_ASSERT_IDX(mime_summary_open(copy, len, &s) == RS_EIO, len);
	}
	for (size_t i = 0; i < meta.len; i++) {
		for (unsigned x = 1; x < 256; x <<= 1) {
			memcpy(copy, meta.data, meta.len);
			copy[i] ^= (uint8_t)x;
			TEST_ASSERT_IDX(mime_summary_open(copy, meta.len, &s) ==
			                RS_EIO, i);
			/* The same damage behind a valid checksum: open may
			 * accept it, but then every read stays inside. */
			if (i < 8)
				continue;
			uint32_t h = fnv(copy + 8, meta.len - 8);

			for (int k = 0; k < 4; k++)
				copy[4 + k] = (uint8_t)(h >> (8 * k));
			if (mime_summary_open(copy, meta.len, &s) == 0)
				walk_all(&s);
		}
	}
	TEST_ASSERT(mime_summary_open(NULL, 0, &s) == RS_EIO);
	free(copy);
	rs_buf_free(&meta);
}

static char *
build_parts(size_t nparts, size_t desc_len, size_t *len_r)
{
	struct rs_buf b;
	char *desc = malloc(desc_len + 1);

	memset(desc, 'd', desc_len);
	desc[desc_len] = '\0';
	rs_buf_init(&b, RS_BUF_UNLIMITED);
	TEST_ASSERT(rs_buf_append_str(&b, "Subject: many\r\nContent-Type: "
	            "multipart/mixed; boundary=\"=_b\"\r\n\r\n") == 0);
	for (size_t i = 0; i < nparts; i++)
		TEST_ASSERT(rs_buf_printf(&b, "--=_b\r\nContent-Description: %s"
		            "\r\n\r\npart %zu\r\n", desc, i) == 0);
	TEST_ASSERT(rs_buf_append_str(&b, "--=_b--\r\n") == 0);
	free(desc);
	return (char *)rs_buf_steal(&b, len_r);
}

void
test_mime_summary_limits(void)
{
	static const struct {
		size_t nparts, desc;
		uint32_t want_parts;
		bool truncated;
	} cases[] = {
		{ 100, 10, 101, false },
		/* 10000 parts never fit 1 MiB: summarised with 1000. */
		{ 12000, 1, 1000, true },
		{ 5000, 300, 1000, true },
		{ 900, 2000, 64, true },        /* 8 KiB fields still too big */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *msg = build_parts(cases[i].nparts, cases[i].desc, &len);
		struct rs_buf meta;
		struct mime_summary s;
		struct mime_part p;

		rs_buf_init(&meta, RS_BUF_UNLIMITED);
		TEST_ASSERT_IDX(mime_parse((uint8_t *)msg, len, &meta, NULL) == 0,
		                i);
		TEST_ASSERT_IDX(meta.len <= STORE_META_MAX, i);
		TEST_ASSERT_IDX(mime_summary_open(meta.data, meta.len, &s) == 0,
		                i);
		if (s.nparts != cases[i].want_parts)
			test_fail(__FILE__, __LINE__, "case %zu: %u parts", i,
			          (unsigned)s.nparts);
		TEST_ASSERT_IDX(!!(s.flags & MIME_SUMMARY_TRUNCATED) ==
		                cases[i].truncated, i);
		/* The last part runs to the end of the multipart. */
		char sec[16];

		snprintf(sec, sizeof(sec), "%u", (unsigned)s.nparts - 1);
		TEST_ASSERT_IDX(mime_summary_part(&s, sec, &p) == 0, i);
		if (cases[i].truncated)
			TEST_ASSERT_IDX(p.body_off + p.body_len == len, i);
		walk_all(&s);
		rs_buf_free(&meta);
		free(msg);
	}
}

void
test_mime_summary_meta_cap(void)
{
	struct rs_buf meta;
	struct rs_err err;

	rs_buf_init(&meta, 10);
	TEST_ASSERT(mime_parse((const uint8_t *)small, sizeof(small) - 1, &meta,
	                       &err) == RS_ETOOBIG);
	TEST_ASSERT(meta.len == 0);
	rs_buf_free(&meta);
}

/* 50 levels of multiparts and of messages: cut at MIME_DEPTH_MAX. */
void
test_mime_summary_depth(void)
{
	for (int kind = 0; kind < 2; kind++) {
		struct rs_buf b, meta;
		struct mime_summary s;
		struct mime_part_iter it;
		struct mime_part p;
		size_t maxsec = 0;

		rs_buf_init(&b, RS_BUF_UNLIMITED);
		for (int d = 0; d < 50; d++)
			TEST_ASSERT((kind == 0 ? rs_buf_printf(&b,
			            "Content-Type: multipart/mixed; boundary=b%d\r\n"
			            "\r\n--b%d\r\n", d, d) : rs_buf_append_str(&b,
			            "Content-Type: message/rfc822\r\n\r\n")) == 0);
		TEST_ASSERT(rs_buf_append_str(&b, "\r\nleaf\r\n") == 0);
		rs_buf_init(&meta, RS_BUF_UNLIMITED);
		TEST_ASSERT(mime_parse(b.data, b.len, &meta, NULL) == 0);
		TEST_ASSERT(mime_summary_open(meta.data, meta.len, &s) == 0);
		TEST_ASSERT(s.flags & MIME_SUMMARY_TRUNCATED);
		TEST_ASSERT(s.nparts == MIME_DEPTH_MAX + 1);
		mime_summary_iter_init(&it, &s);
		while (mime_summary_iter_next(&it, &p) == 1)
			if (strlen(p.section) > maxsec)
				maxsec = strlen(p.section);
		TEST_ASSERT(maxsec > 0 && maxsec <= MIME_SECTION_MAX);
		walk_all(&s);
		rs_buf_free(&meta);
		rs_buf_free(&b);
	}
}

/* A header of 1.6 MB: fields past its first 1 MiB are not read; a 5 MB
 * body is skipped by the boundary search. */
void
test_mime_summary_huge(void)
{
	struct rs_buf b, meta;
	struct mime_summary s;
	struct mime_part p;

	rs_buf_init(&b, RS_BUF_UNLIMITED);
	TEST_ASSERT(rs_buf_append_str(&b, "From: a@b.c\r\n") == 0);
	for (int i = 0; i < 200000; i++)
		TEST_ASSERT(rs_buf_append_str(&b, "X-A: b\r\n") == 0);
	TEST_ASSERT(rs_buf_append_str(&b, "Subject: late\r\nContent-Type: "
	            "multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\n") == 0);
	for (int i = 0; i < 5 * 1024 * 1024 / 64; i++)
		TEST_ASSERT(rs_buf_append_str(&b, "--q-not-quite "
		            "01234567890123456789012345678901234567890123456\r\n") == 0);
	rs_buf_init(&meta, RS_BUF_UNLIMITED);
	TEST_ASSERT(mime_parse(b.data, b.len, &meta, NULL) == 0);
	TEST_ASSERT(mime_summary_open(meta.data, meta.len, &s) == 0);
	TEST_ASSERT(s.flags & MIME_SUMMARY_TRUNCATED);
	TEST_ASSERT(s.keys.base_subject.len == 0);
	TEST_ASSERT(s.envelope.len > 0 && memcmp(s.envelope.p, "(NIL NIL ((", 11) == 0);
	/* Content-Type came too late too: one text/plain part. */
	TEST_ASSERT(s.nparts == 1);
	TEST_ASSERT(mime_summary_part(&s, "1", &p) == 0);
	TEST_ASSERT(p.body_off + p.body_len == b.len);
	rs_buf_free(&meta);
	rs_buf_free(&b);
}

/* NUL octets: flagged, and never sent in an IMAP string. */
void
test_mime_summary_nul(void)
{
	static const char m[] = "Subject: a\0b\r\nX: y\r\n\r\nbo\0dy\r\n";
	struct rs_buf meta;
	struct mime_summary s;

	rs_buf_init(&meta, RS_BUF_UNLIMITED);
	TEST_ASSERT(mime_parse((const uint8_t *)m, sizeof(m) - 1, &meta,
	                       NULL) == 0);
	TEST_ASSERT(mime_summary_open(meta.data, meta.len, &s) == 0);
	TEST_ASSERT(s.flags == MIME_SUMMARY_NUL);
	TEST_ASSERT(s.envelope.len > 8 &&
	            memcmp(s.envelope.p, "(NIL \"ab\" NIL", 13) == 0);
	TEST_ASSERT(memchr(s.bodystructure.p, '\0', s.bodystructure.len) == NULL);
	rs_buf_free(&meta);
}
