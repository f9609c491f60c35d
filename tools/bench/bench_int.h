/* bench_int.h: internals shared by smtp_bench's files (smtp_bench.c, the
 * options and the run; bench_conn.c, one SMTP client connection;
 * bench_msg.c, message text; bench_report.c, the summary). Nothing outside
 * tools/bench/ includes this. */
#ifndef ROOST_TOOLS_BENCH_INT_H
#define ROOST_TOOLS_BENCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tools/bench/bench_common.h"

struct event_base;
struct evbuffer;
struct bench_conn;

/* SMTP reply codes are three digits (RFC 5321 4.2); index = code. */
#define BENCH_NCODES 1000

struct bench_opts {
	const char *host;          /* borrowed from argv */
	const char *port;          /* one port, or several: "P1,P2,..." */
	const char *domain;
	const char *from;
	const char *helo;
	const char *wait_cmd;      /* --wait-stored; NULL when not given */
	uint64_t    messages;      /* -n */
	size_t      size;          /* -s: bytes per message, headers included */
	unsigned    conns;         /* -c */
	unsigned    users;         /* -u */
	unsigned    idle;          /* --idle N; 0 = send mail */
	unsigned    hold_s;        /* --hold: idle mode hold time, 0 = signal */
	unsigned    timeout_s;     /* per reply */
	unsigned    wait_timeout_s;
	bool        pipelining;
	bool        json;
};

/* The filler text: lines of at most 78 characters plus CRLF, none
 * starting with '.', so no dot-stuffing is ever needed. */
struct bench_msg {
	char   *filler;            /* owns */
	size_t  filler_len;
	size_t *line_end;          /* owns: offset after each line's CRLF */
	size_t  nlines;
	char    tag[17];           /* per-run random part of Message-IDs */
};

struct bench_stored {
	bool     done;             /* the count reached the target */
	uint64_t baseline;         /* what CMD printed before the run */
	uint64_t count;            /* last count minus baseline */
	uint64_t elapsed_us;       /* from the first connect */
};

struct bench {
	const struct bench_opts *opt;     /* borrowed */
	struct event_base       *base;    /* owns */
	/* owns: one per --port entry; connection i uses addrs[i % naddrs] */
	struct bench_common_addr *addrs;
	unsigned                 naddrs;
	struct bench_msg         msg;
	struct bench_conn      **conns;   /* owns the array and each conn */
	unsigned                 nconns;
	unsigned                 live;    /* connections not yet closed */
	unsigned                 ready;   /* idle mode: past EHLO */
	unsigned                 held;    /* idle mode: ready at the stop */
	bool                     stopping;

	uint64_t next_msg;         /* next message index to hand out */
	uint64_t accepted;         /* final 250 after DATA */
	uint64_t *port_accepted;   /* owns: accepted per addrs entry */
	uint64_t refused;          /* a reply in the transaction failed */
	uint64_t lost;             /* in flight when the connection died */
	uint64_t conn_errors;      /* connect, I/O, timeout, protocol */
	uint64_t pipelined_conns;  /* sessions that used PIPELINING */
	uint64_t codes[BENCH_NCODES];  /* non-2xx replies per code */
	uint32_t *lat_us;          /* owns: one sample per accepted message */
	/* owns: per accepted message, from the end of its data to the
	 * final reply: what the server spends storing it */
	uint32_t *dot_us;

	uint64_t t_start_us;       /* first connect */
	uint64_t t_last_ok_us;     /* last accepted message */
	uint64_t t_end_us;         /* event loop finished */
	struct bench_stored stored;
};

/* Never returns NULL; the connect is started at once. Failure to connect
 * shows up later as a closed connection. */
struct bench_conn *bench_conn_new(struct bench *b, unsigned id);
/* Frees *cp (closing the socket) and sets it to NULL; NULL-safe. */
void bench_conn_free(struct bench_conn **cp);
/* Idle mode: sends QUIT if the session is idle, else closes it. */
void bench_conn_quit(struct bench_conn *c);

/* Builds the filler for messages of size bytes. */
void bench_msg_init(struct bench_msg *m, size_t size);
void bench_msg_free(struct bench_msg *m);
/* Appends message number seq (headers, filler, the final ".") to out;
 * at most opt->size bytes before the terminating ".\r\n". */
void bench_msg_write(const struct bench_msg *m, const struct bench_opts *opt,
                     uint64_t seq, struct evbuffer *out);
/* The recipient of message seq: user<1 + seq % users>@domain. */
unsigned bench_msg_user(const struct bench_opts *opt, uint64_t seq);

/* Prints the summary block to stdout, and the JSON line with --json. */
void bench_report_print(struct bench *b);
/* Prints the idle-mode summary. */
void bench_report_idle(struct bench *b);

#endif
