/* rs_time.h: clocks and the date formats mail needs. */
#ifndef ROOST_LIB_RS_TIME_H
#define ROOST_LIB_RS_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Monotonic milliseconds, for timeouts and latency. */
uint64_t rs_mono_ms(void);
/* Monotonic microseconds, for latency that milliseconds would round away. */
uint64_t rs_mono_us(void);
/* Wall-clock milliseconds since the epoch. */
int64_t rs_wall_ms(void);
/* RFC 5322 section 3.3 date-time in UTC: "Sat, 28 Nov 2026 01:58:18 +0000".
 * buf must hold 40 bytes; returns buf. */
char *rs_time_rfc5322(char *buf, size_t size, time_t t);

#endif
