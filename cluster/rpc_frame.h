/* rpc_frame.h: the framing of peer RPC: a 4-octet big-endian length, then
 * one roost.RpcFrame (proto/rpc.proto) packed. Pure: no I/O, no libevent;
 * an incremental decoder fed chunks of any size, and the encoder.
 * Fuzzed by tests/fuzz/fuzz_rpc_frame.c. */
#ifndef ROOST_CLUSTER_RPC_FRAME_H
#define ROOST_CLUSTER_RPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rs_err.h"
#include "proto/rpc.pb-c.h"

#define RPC_FRAME_HDR 4               /* the length prefix */
#define RPC_FRAME_LEN_MAX 0xffffffffu /* what the prefix can say */
/* A TLS record's most plaintext (RFC 8446 section 5.1), and the most
 * payload a STREAM_DATA frame may carry to fit in one record whatever
 * its id: the prefix, then kind (2 octets), id (11) and the payload's
 * tag and length (3: a length under 2^14). A frame one octet longer takes two records: two
 * writes for the sender and four reads for the receiver. */
#define RPC_FRAME_RECORD 16384u
#define RPC_FRAME_DATA_FIT (RPC_FRAME_RECORD - RPC_FRAME_HDR - 16u)

struct rpc_frame_dec;                 /* opaque */

/* A decoder accepting frames of at most max octets (after the prefix).
 * Never returns NULL. */
struct rpc_frame_dec *rpc_frame_dec_new(size_t max);
/* Frees *dp (and a partial frame), sets it to NULL; NULL-safe. */
void rpc_frame_dec_free(struct rpc_frame_dec **dp);
/* Changes the limit for the frames whose prefix is not read yet. */
void rpc_frame_dec_set_max(struct rpc_frame_dec *d, size_t max);
/* Octets of a partial frame held (prefix included). */
size_t rpc_frame_dec_pending(const struct rpc_frame_dec *d);

/* Feeds in[0..len). *used_r = octets consumed (all of them unless a frame
 * ends before). 1: *frame_r is a frame (returns owned: rpc_frame_free),
 * the octets after it are not consumed; 0: need more; -1: err says why
 * (RS_ETOOBIG: the prefix announces more than max; RS_EINVAL: the frame
 * does not unpack or has no known kind). After -1 every feed fails. */
int rpc_frame_dec_feed(struct rpc_frame_dec *d, const uint8_t *in,
                       size_t len, size_t *used_r, Roost__RpcFrame **frame_r,
                       struct rs_err *err) RS_MUST_CHECK;

/* Frees *fp (a decoded frame), sets it to NULL; NULL-safe. */
void rpc_frame_free(Roost__RpcFrame **fp);

/* *size_r = octets of f on the wire, prefix included. 0, or RS_ETOOBIG
 * when the packed frame is over max. */
int rpc_frame_size(const Roost__RpcFrame *f, size_t max, size_t *size_r,
                   struct rs_err *err) RS_MUST_CHECK;
/* Writes f to out[0..size), size from rpc_frame_size. */
void rpc_frame_encode(const Roost__RpcFrame *f, uint8_t *out, size_t size);

/* The most octets rpc_frame_data_head writes. */
#define RPC_FRAME_DATA_HEAD (RPC_FRAME_HDR + 2 + 11 + 6)
/* Writes to out the octets of a STREAM_DATA frame of stream id that come
 * before its n octets of payload (n > 0), the same octets
 * rpc_frame_encode writes for that frame, so that the payload can be
 * copied in place from where it is (an evbuffer) instead of gathered
 * first. Returns how many (at most RPC_FRAME_DATA_HEAD); the frame is
 * that plus n octets. */
size_t rpc_frame_data_head(uint64_t id, size_t n, uint8_t *out);

/* "REQUEST"…, for logs; never NULL. */
const char *rpc_frame_kind_name(int kind);

#endif
