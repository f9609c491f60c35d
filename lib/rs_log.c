/* rs_log.c: one-line key=value event logging. A line is formatted into a
 * stack buffer and written with one write(2), so lines from threads never
 * interleave. */
#include "lib/rs_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/rs_rand.h"

static enum rs_log_level rs_log_min = RS_LOG_INFO;
static int rs_log_fd = 2;

static const char *const rs_log_names[] = { "debug", "info", "warn", "error" };

void
rs_log_setup(enum rs_log_level min, int fd)
{
	rs_log_min = min;
	rs_log_fd = fd;
}

int
rs_log_level_parse(const char *s, enum rs_log_level *lvl_r)
{
	for (size_t i = 0; i < sizeof(rs_log_names) / sizeof(rs_log_names[0]); i++) {
		if (strcasecmp(s, rs_log_names[i]) == 0) {
			*lvl_r = (enum rs_log_level)i;
			return 0;
		}
	}
	return RS_EINVAL;
}

int
rs_log_enabled(enum rs_log_level lvl)
{
	return lvl >= rs_log_min;
}

void
rs_log_ctx_init(struct rs_log_ctx *ctx, const char *peer)
{
	rs_rand_hex(ctx->sid, sizeof(ctx->sid));
	snprintf(ctx->peer, sizeof(ctx->peer), "%s", peer != NULL ? peer : "");
}

static void rs_log_emit(const struct rs_log_ctx *ctx, enum rs_log_level lvl,
                        const char *event, const char *fmt, va_list ap)
	RS_PRINTF(4, 0);

static void
rs_log_emit(const struct rs_log_ctx *ctx, enum rs_log_level lvl,
            const char *event, const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int w;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03dZ %s ",
	             (int)(tv.tv_usec / 1000), rs_log_names[lvl]);
	n += (size_t)w;
	if (ctx != NULL) {
		w = snprintf(line + n, sizeof(line) - n, "sid=%s ", ctx->sid);
		n += (size_t)w;
		if (ctx->peer[0] != '\0') {
			w = snprintf(line + n, sizeof(line) - n, "peer=%s ",
			             ctx->peer);
			n += (size_t)w;
		}
	}
	w = snprintf(line + n, sizeof(line) - n, "%s", event);
	n += (size_t)w;
	if (fmt != NULL && fmt[0] != '\0' && n < sizeof(line) - 2) {
		line[n++] = ' ';
		w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (w > 0)
			n += (size_t)w;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;          /* truncated: keep the newline */
	line[n++] = '\n';
	if (write(rs_log_fd, line, n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}

void
rs_log(enum rs_log_level lvl, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (lvl < rs_log_min)
		return;
	va_start(ap, fmt);
	rs_log_emit(NULL, lvl, event, fmt, ap);
	va_end(ap);
}

void
rs_logc(const struct rs_log_ctx *ctx, enum rs_log_level lvl,
        const char *event, const char *fmt, ...)
{
	va_list ap;

	if (lvl < rs_log_min)
		return;
	va_start(ap, fmt);
	rs_log_emit(ctx, lvl, event, fmt, ap);
	va_end(ap);
}

const char *
rs_log_val(char *buf, size_t size, const char *s, size_t n)
{
	size_t o = 0;

	if (size == 0)
		return buf;
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t')
			buf[o++] = '_';
		else if (c < 0x21 || c > 0x7e || c == '"' || c == '=')
			buf[o++] = '?';
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}
