/* rs_rand.h: cryptographically strong random bytes from the kernel. */
#ifndef ROOST_LIB_RS_RAND_H
#define ROOST_LIB_RS_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf; aborts if the kernel cannot supply randomness. */
void rs_rand_bytes(void *buf, size_t n);
/* Fills buf with size-1 lowercase hex digits and a NUL. */
void rs_rand_hex(char *buf, size_t size);
uint64_t rs_rand_u64(void);

#endif
