/* coord_etcd_int.h: what the files of the etcd backend share; nothing
 * outside cluster/coord_etcd*.c includes it.
 *   coord_etcd_http.c   libcurl's multi handle on the libevent loop
 *   coord_etcd_call.c   one request: endpoints, retries, backoff, auth
 *   coord_etcd_json.c   the gateway's JSON: base64, int64 strings, errors
 *   coord_etcd.c        the coord ops: range, get, txn, leases
 *   coord_etcd_watch.c  watch streams, resume and reset */
#ifndef ROOST_CLUSTER_COORD_ETCD_INT_H
#define ROOST_CLUSTER_COORD_ETCD_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/coord.h"
#include "lib/rs_buf.h"
#include "lib/rs_err.h"

struct event;
struct event_base;

#define CE_TIMEOUT_MS      5000u
#define CE_PAGE_SIZE       2000u
#define CE_BACKOFF_MIN_MS  100u
#define CE_BACKOFF_MAX_MS  5000u
#define CE_BODY_MAX        ((size_t)256 * 1024 * 1024)
#define CE_STREAM_MAX      ((size_t)64 * 1024 * 1024)
/* A range key: a key plus the NUL that starts the next page after it. */
#define CE_RKEY_MAX        (COORD_KEY_MAX + 1)

/* gRPC status codes the gateway reports in "code". */
#define CE_GRPC_NOT_FOUND        5
#define CE_GRPC_OUT_OF_RANGE     11
#define CE_GRPC_UNAVAILABLE      14
#define CE_GRPC_UNAUTHENTICATED  16

struct coord_etcd;
struct ce_xfer;

/* The transfer ended and its easy handle is gone; cc is curl's result. */
typedef void ce_xfer_done_fn(struct ce_xfer *x, CURLcode cc);

/* One HTTP request to one endpoint (an easy handle in the multi). */
struct ce_xfer {
	struct coord_etcd *c;
	CURL              *easy;       /* owns; NULL when not running */
	struct curl_slist *hdrs;       /* owns */
	struct rs_buf      resp;       /* owns: the body received so far */
	bool               overflow;   /* resp hit its max: transfer aborted */
	bool               sent;       /* request bytes went out (at end) */
	long               status;     /* HTTP status (at end) */
	char               errbuf[CURL_ERROR_SIZE];
	ce_xfer_done_fn   *done;
};

enum ce_retry {
	CE_RETRY_SAFE,     /* reads, compare txns, leases: retry anywhere */
	CE_RETRY_UNSENT,   /* a txn without compares: only if never sent */
};

enum ce_call_state {
	CE_CALL_IDLE,
	CE_CALL_AUTH,      /* waits for a token */
	CE_CALL_RUNNING,
	CE_CALL_BACKOFF,
};

struct ce_call;
/* rc 0: res is the answer (borrowed: valid during the call). The owner
 * then frees the call or starts it again (a range's next page). */
typedef void ce_call_fn(struct ce_call *k, int rc, const struct rs_err *err,
                        json_t *res);

/* A request with its endpoint rotation; embedded first in its owner. */
struct ce_call {
	struct ce_xfer      x;          /* first: cast from the transfer */
	const char         *path;       /* static: "/v3/kv/range" */
	char               *body;       /* owns: the JSON request */
	enum ce_retry       retry;
	enum ce_call_state  state;
	bool                noauth;     /* the authenticate call itself */
	bool                reauthed;   /* already retried for a stale token */
	bool                resent;     /* an attempt failed after sending */
	size_t              ep;         /* endpoint of the current attempt */
	size_t              tried;      /* endpoints tried in this round */
	uint64_t            start_ms;   /* for the call's deadline */
	unsigned            backoff_ms;
	unsigned            token_gen;  /* the token the attempt carried */
	struct event       *retry_ev;   /* owns */
	ce_call_fn         *fn;
	void              (*free_fn)(struct ce_call *k); /* frees the owner */
	struct ce_call     *prev, *next; /* in c->calls */
};

struct ce_sock;
struct ce_watch;

struct coord_etcd {
	struct coord        base;       /* first: cast from struct coord */
	struct event_base  *evb;        /* borrowed: outlives the coord */
	CURLM              *multi;      /* owns */
	struct event       *timer;      /* owns: the one timer curl asks for */
	char              **eps;        /* owns: "http://host:port", no '/' */
	size_t              neps;
	size_t              cur;        /* the endpoint tried first */
	char               *ca_file, *cert_file, *key_file; /* owns */
	char               *user, *password;                /* owns */
	unsigned            timeout_ms;
	unsigned            page_size;
	enum coord_state    state;
	bool                state_seen; /* a state was logged once */
	char               *token;      /* owns; NULL: none yet, "": off */
	unsigned            token_gen;  /* bumped per new token */
	struct ce_call     *auth;       /* the authenticate call in flight */
	struct ce_call     *calls;      /* owns: every live call */
	struct ce_watch    *watches;    /* owns */
	struct ce_sock     *socks;      /* owns: the sockets curl watches */
	unsigned            busy;       /* our frames on the stack */
	bool                destroyed;  /* freed when busy drops to 0 */
};

/* coord_etcd_http.c */
int coord_etcd__http_init(struct coord_etcd *c, struct rs_err *err);
void coord_etcd__http_free(struct coord_etcd *c);
#define CE_XFER_STREAM  1u   /* a watch: no overall timeout, 64 MiB cap */
#define CE_XFER_NOAUTH  2u   /* no token header: the authenticate call */
/* Starts x on endpoint ep: POST path with body (borrowed until x is
 * done or stopped) and the coord's token. 0, or -1 with err; x->done
 * runs later, never synchronously. */
int coord_etcd__xfer_start(struct ce_xfer *x, size_t ep, const char *path,
                           const char *body, unsigned flags,
                           struct rs_err *err);
/* Stops a running transfer without calling done; keeps x->resp. */
void coord_etcd__xfer_stop(struct ce_xfer *x);
/* A frame of ours that may call back into the owner starts with enter;
 * leave frees the coord if it was destroyed meanwhile (then returns
 * true: touch nothing). */
void coord_etcd__enter(struct coord_etcd *c);
bool coord_etcd__leave(struct coord_etcd *c);
/* A new evtimer on the coord's loop; never NULL. */
struct event *coord_etcd__timer_new(struct coord_etcd *c,
                                    void (*fn)(int, short, void *),
                                    void *arg);
void coord_etcd__timer_arm(struct event *ev, unsigned ms);

/* coord_etcd_call.c */
void coord_etcd__call_init(struct coord_etcd *c, struct ce_call *k,
                           const char *path, enum ce_retry retry,
                           ce_call_fn *fn, void (*free_fn)(struct ce_call *));
/* Sends k->body (which the call owns) as a fresh call: a new deadline,
 * endpoints from the preferred one. 0, or -1 with err (fn not called). */
int coord_etcd__call_start(struct ce_call *k, struct rs_err *err);
/* Unlinks and stops k, then calls its free_fn. */
void coord_etcd__call_free(struct ce_call *k);
/* Asks for a token if none is there nor asked for; 0 or -1 with err. */
int coord_etcd__auth_need(struct coord_etcd *c, struct rs_err *err);
/* Forgets the token if it is still generation gen (etcd refused it). */
void coord_etcd__auth_stale(struct coord_etcd *c, unsigned gen);
void coord_etcd__set_up(struct coord_etcd *c, size_t ep);
void coord_etcd__set_down(struct coord_etcd *c, const char *why);
void coord_etcd__endpoint_failed(struct coord_etcd *c, size_t ep);
/* The next delay of a backoff that starts at CE_BACKOFF_MIN_MS. */
unsigned coord_etcd__backoff_next(unsigned *backoff_ms);

/* coord_etcd_json.c */
/* Returns a new JSON string: base64 of p[0..n). */
json_t *coord_etcd__b64(const void *p, size_t n);
/* Returns a new JSON string of an int64 as the gateway writes them. */
json_t *coord_etcd__i64_new(int64_t v);
/* obj.name as int64 (a decimal string or a number; absent: 0). 0 or
 * RS_EIO. */
int coord_etcd__i64(const json_t *obj, const char *name, int64_t *v_r)
	RS_MUST_CHECK;
/* Returns owned JSON text of o and drops the reference to o. */
char *coord_etcd__dump(json_t *o);
/* Decodes one "kv" object: key and value owned (value NUL-ended, never
 * NULL). 0 or -1 with RS_EIO in err. */
int coord_etcd__kv_parse(const json_t *kv, struct coord_kv *out,
                         struct rs_err *err) RS_MUST_CHECK;
void coord_etcd__kv_free(struct coord_kv *kv);
/* etcd's end of the prefix range into out (CE_RKEY_MAX bytes); its
 * length. "\0" (length 1) means "to the end". */
size_t coord_etcd__prefix_end(const char *prefix, uint8_t *out);
/* If root is an error answer (a gRPC status body), its code and message
 * (borrowed from root) and true. */
bool coord_etcd__grpc_error(const json_t *root, int *code_r,
                            const char **msg_r);
/* The rs_err code for a gRPC status from etcd. */
int coord_etcd__grpc_rc(int code, const char *msg);

/* coord_etcd_watch.c */
int coord_etcd__watch(struct coord *cc, const char *prefix,
                      int64_t after_rev, coord_watch_fn *cb,
                      coord_reset_fn *reset, void *arg, struct rs_err *err);
/* Delivers what the streams received; runs after curl did I/O. */
void coord_etcd__watch_drain(struct coord_etcd *c);
/* The token request ended (rc 0: there is a token now). */
void coord_etcd__watch_auth_done(struct coord_etcd *c, int rc);
void coord_etcd__watch_free_all(struct coord_etcd *c);

/* coord_etcd.c */
/* A range over [prefix, prefix end), or the one key when exact; cb as
 * coord_range. Used by the watch's reset. */
int coord_etcd__range(struct coord_etcd *c, const char *prefix, bool exact,
                      coord_range_fn *cb, void *arg, struct rs_err *err);

#endif
