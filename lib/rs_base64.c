/* rs_base64.c: base64 encode and strict decode. */
#include "lib/rs_base64.h"

static const char rs_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
rs_base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		             in[i + 2];
		out[o++] = rs_b64[v >> 18];
		out[o++] = rs_b64[(v >> 12) & 63];
		out[o++] = rs_b64[(v >> 6) & 63];
		out[o++] = rs_b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = rs_b64[v >> 18];
		out[o++] = rs_b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? rs_b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int
rs_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
rs_base64_decode(const char *in, size_t n, uint8_t *out, size_t *len_r)
{
	size_t o = 0;

	if (n % 4 != 0)
		return RS_EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int a = rs_b64_val(in[i]), b = rs_b64_val(in[i + 1]);
		int c = rs_b64_val(in[i + 2]), d = rs_b64_val(in[i + 3]);
		int last = (i + 4 == n);

		if (a < 0 || b < 0)
			return RS_EINVAL;
		if (c < 0 || d < 0) {
			/* Padding only at the very end: "xx==" or "xxx=". */
			if (!last || in[i + 3] != '=' ||
			    (c < 0 && in[i + 2] != '='))
				return RS_EINVAL;
			out[o++] = (uint8_t)(a << 2 | b >> 4);
			if (c >= 0)
				out[o++] = (uint8_t)(b << 4 | c >> 2);
			break;
		}
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	*len_r = o;
	return 0;
}
