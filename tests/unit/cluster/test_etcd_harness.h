/* test_etcd_harness.h: a real etcd for the unit tests: /usr/bin/etcd on
 * free loopback ports with its data under test_tmpdir(), started, stopped
 * (SIGTERM or SIGKILL) and restarted on the same ports and data. Its
 * helpers block (libcurl's easy interface): call them while the loop
 * under test is not running. A missing etcd is a test failure. */
#ifndef ROOST_TESTS_UNIT_CLUSTER_TEST_ETCD_HARNESS_H
#define ROOST_TESTS_UNIT_CLUSTER_TEST_ETCD_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ETCD_HARNESS_BIN "/usr/bin/etcd"

struct etcd_harness {
	pid_t pid;                 /* 0: not running */
	int   client_port, peer_port;
	char  dir[200];            /* data, log, certificates */
	char  url[64];             /* "http://127.0.0.1:<client_port>" */
	bool  tls;                 /* https, client certificates required */
	char  ca[256];             /* tls: the test CA that signed these */
	char  cert[256], key[256]; /* etcd's */
	char  client_cert[256], client_key[256];  /* no CommonName: etcd's
	                            * gateway refuses clients that have one
	                            * once auth is on */
	int   token_ttl;           /* --auth-token-ttl; 0: etcd's default */
	char  root_pw[32];         /* set once auth is enabled */
};

/* Picks ports and a data dir, starts etcd and waits (20 s at most) until
 * it answers. tls: makes a certificate with openssl first. false after
 * recording a test failure. */
bool etcd_harness_start(struct etcd_harness *h, bool tls, int token_ttl);
/* Starts it again on the same ports and data. */
bool etcd_harness_restart(struct etcd_harness *h);
/* SIGKILL or SIGTERM, and waits for the process (10 s at most). */
void etcd_harness_stop(struct etcd_harness *h, bool kill9);

/* POSTs body to path; the HTTP status (0: no answer) and, if resp_r,
 * the answer (returns owned). */
long etcd_harness_post(struct etcd_harness *h, const char *path,
                       const char *body, char **resp_r);
/* Puts or deletes a key; the new revision, or -1. */
int64_t etcd_harness_put(struct etcd_harness *h, const char *key,
                         const char *value);
int64_t etcd_harness_del(struct etcd_harness *h, const char *key);
bool etcd_harness_compact(struct etcd_harness *h, int64_t rev);
/* Adds user root with password pw (role root) and enables auth. */
bool etcd_harness_auth_enable(struct etcd_harness *h, const char *pw);

/* A loopback port nothing listens on (bound once, then closed). */
int etcd_harness_free_port(void);

#endif
