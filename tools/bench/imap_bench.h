/* imap_bench.h: internals shared by imap_bench's files (imap_bench.c, the
 * options, users and the run; imap_bench_conn.c, one IMAP client
 * connection; imap_bench_resp.c, reading responses with their literals;
 * imap_bench_report.c, the summary). Nothing outside tools/bench/ includes
 * this. */
#ifndef ROOST_TOOLS_IMAP_BENCH_H
#define ROOST_TOOLS_IMAP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tools/bench/bench_common.h"

struct event_base;
struct evbuffer;
struct ibench_conn;

/* A response line (without its literals) longer than this is a protocol
 * error: SEARCH answers for big mailboxes are the longest lines. */
#define IBENCH_MAX_LINE ((size_t)1 << 20)
/* A literal larger than this is a protocol error (they are counted and
 * dropped, never held, so this bounds nothing but sanity). */
#define IBENCH_MAX_LITERAL ((uint64_t)1 << 32)

/* What a latency sample measures. CONNECT is connect() to the greeting,
 * IDLE is the IDLE command to the server's "+" continuation, SESSION is
 * connect() to the tagged OK of LOGOUT; the others are command to tagged
 * completion. */
enum ibench_cmd {
	IBENCH_CMD_CONNECT,
	IBENCH_CMD_LOGIN,
	IBENCH_CMD_SELECT,
	IBENCH_CMD_FETCH,
	IBENCH_CMD_STORE,
	IBENCH_CMD_SEARCH,
	IBENCH_CMD_LOGOUT,
	IBENCH_CMD_IDLE,
	IBENCH_CMD_SESSION,
	IBENCH_NCMD,
};

struct ibench_opts {
	const char *host;          /* borrowed from argv */
	const char *port;
	const char *domain;
	const char *pass;
	const char *user_file;     /* NULL: user1..userU@domain */
	const char *mailbox;
	const char *fetch_items;   /* "" skips FETCH */
	const char *store_items;   /* "" skips STORE */
	const char *search;        /* "" skips SEARCH */
	uint64_t    sessions;      /* -S */
	uint64_t    seed;
	unsigned    conns;         /* -c */
	unsigned    users;         /* -u; from the file with --user-file */
	unsigned    window;        /* -m: messages per FETCH */
	unsigned    idle;          /* --idle N; 0 = sessions mode */
	unsigned    ramp;          /* idle mode: connections not yet idling */
	unsigned    hold_s;        /* --hold: idle mode, 0 = until a signal */
	unsigned    timeout_s;     /* per response */
	bool        window_seq;    /* --window seq: consecutive per user */
	bool        json;
};

struct ibench_user {
	char *name;                /* owns */
	char *pass;                /* owns; never printed */
	uint32_t next_uid;         /* --window seq: where the next window starts */
};

/* Latency samples in microseconds; grows as needed. */
struct ibench_lat {
	uint32_t *us;              /* owns */
	size_t    n, cap;
};

struct ibench_cmd_stats {
	uint64_t sent;
	uint64_t ok, no, bad;      /* tagged results */
	struct ibench_lat lat;     /* OK results only */
};

/* One response being read: its first line (up to the first literal) is
 * kept; literal data is counted and dropped. */
struct ibench_resp {
	char    *line;             /* owns: the first line, NUL-ended */
	size_t   line_len;
	uint64_t literal_left;     /* octets of the current literal to skip */
	uint64_t literal_bytes;    /* literal octets of this response */
	bool     continuing;       /* past a literal: the next line continues */
};

struct ibench {
	const struct ibench_opts *opt;    /* borrowed */
	struct event_base        *base;   /* owns */
	struct sockaddr_storage   addr;
	socklen_t                 addrlen;
	struct ibench_user       *users;  /* owns; opt->users of them */
	struct ibench_conn      **conns;  /* owns the array and each conn */
	unsigned                  nconns;
	unsigned                  live;   /* connections still working */
	bool                      stopping;
	uint64_t                  rnd;    /* xorshift64 state */

	/* sessions mode */
	uint64_t next_session;     /* next session index to hand out */
	uint64_t sessions_ok;      /* ended with LOGOUT's tagged OK */
	uint64_t sessions_failed;
	uint64_t fetched;          /* untagged FETCH responses to FETCH */
	uint64_t fetch_literal_bytes;
	uint64_t search_hits;      /* numbers in SEARCH responses */
	uint64_t empty_mailboxes;  /* SELECT found nothing to fetch */

	/* idle mode */
	unsigned next_idle;        /* next connection to open */
	unsigned opening;          /* opened, not yet idling or closed */
	unsigned idling;
	unsigned held;             /* idling when announced or stopped */
	unsigned dropped;          /* idling connections the server closed */
	unsigned idle_failed;      /* closed or refused before idling */
	bool     announced;
	uint64_t t_all_idle_us;

	uint64_t bytes_in;         /* every octet read */
	uint64_t conn_errors;      /* connect, I/O, timeout, protocol, BYE */
	uint64_t timeouts;
	struct ibench_cmd_stats cmd[IBENCH_NCMD];

	uint64_t t_start_us;       /* first connect */
	uint64_t t_last_us;        /* last session completed */
	uint64_t t_end_us;         /* event loop finished */
};

/* Uniform-ish in [0, n) from the run's xorshift64 (n > 0). */
uint64_t ibench_rand(struct ibench *b, uint64_t n);

void ibench_lat_add(struct ibench_lat *l, uint64_t us);
void ibench_lat_free(struct ibench_lat *l);

/* Never returns NULL. Sessions mode: starts the connection's first
 * session if one is left. Idle mode: an unstarted slot, see
 * ibench_conn_start(). */
struct ibench_conn *ibench_conn_new(struct ibench *b, unsigned id);
/* Connects (idle mode); failure shows up as a closed connection. */
void ibench_conn_start(struct ibench_conn *c);
/* Frees *cp (closing the socket) and sets it to NULL; NULL-safe. */
void ibench_conn_free(struct ibench_conn **cp);
/* Stop: an idling connection sends DONE and LOGOUT; one still opening
 * is closed; one inside a session finishes it (sessions mode). */
void ibench_conn_stop(struct ibench_conn *c);
/* Idle mode: starts connections while fewer than opt->ramp are opening. */
void ibench_idle_ramp(struct ibench *b);

void ibench_resp_init(struct ibench_resp *r);
void ibench_resp_free(struct ibench_resp *r);
/* Reads from in until one whole response (first line, literals and
 * continuation lines) has arrived: 1 (r->line holds its first line; call
 * ibench_resp_reset() once done with it), 0 when more input is needed,
 * -1 on a line or literal past the limits. Adds every octet consumed to
 * *bytes_r. */
int ibench_resp_read(struct ibench_resp *r, struct evbuffer *in,
                     uint64_t *bytes_r);
void ibench_resp_reset(struct ibench_resp *r);
/* The size of the literal a line announces ("... {123}" or "~{123}"), or
 * -1 if it announces none, -2 if the number is malformed or too big. */
int64_t ibench_resp_literal(const char *line, size_t len);

/* Prints the summary block to stdout, and the JSON line with --json. */
void ibench_report_print(struct ibench *b);
/* Prints the idle-mode summary. */
void ibench_report_idle(struct ibench *b);

#endif
