/* rpc_tls.c: TLS 1.3 between nodes, keyed by the cluster's pre-shared key
 * as an external PSK (RFC 8446 section 2.2): the key becomes an
 * SSL_SESSION both ends offer under the cluster's identity, with
 * (EC)DHE on top for forward secrecy. No certificates: a peer without
 * the key cannot finish a handshake. What runs over TLS is rpc_conn.c's. */
#include <openssl/err.h>
#include <string.h>

#include "cluster/rpc_int.h"

/* TLS_AES_128_GCM_SHA256 (RFC 8446 appendix B.4): the PSK's hash is
 * SHA-256, so the key is bound to this suite. */
static const unsigned char rpc_tls_suite[2] = { 0x13, 0x01 };

static struct rpc *
rpc_tls_rpc(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

static void
rpc_tls_refuse(SSL *ssl, const char *why)
{
	struct rpc_conn *c = SSL_get_app_data(ssl);

	if (c != NULL)
		c->why = why;
}

/* Server: the client named identity; hand OpenSSL the key (it takes the
 * reference). Another name gets no key, and without a certificate the
 * handshake then fails (handshake_failure, not internal_error). */
static int
rpc_tls_find_session(SSL *ssl, const unsigned char *identity, size_t len,
                     SSL_SESSION **sess)
{
	struct rpc *r = rpc_tls_rpc(ssl);

	*sess = NULL;
	if (len != strlen(r->identity) ||
	    memcmp(identity, r->identity, len) != 0) {
		rpc_tls_refuse(ssl, "unknown_identity");
		return 1;
	}
	if (!SSL_SESSION_up_ref(r->psk))
		return 0;
	*sess = r->psk;
	return 1;
}

/* Client: offer the key under the cluster's identity. Called again with
 * md set after a HelloRetryRequest; the key only fits SHA-256. */
static int
rpc_tls_use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id,
                    size_t *idlen, SSL_SESSION **sess)
{
	struct rpc *r = rpc_tls_rpc(ssl);
	const SSL_CIPHER *cipher = SSL_SESSION_get0_cipher(r->psk);

	*sess = NULL;
	if (md != NULL && md != SSL_CIPHER_get_handshake_digest(cipher))
		return 1;                       /* no PSK: fails */
	if (!SSL_SESSION_up_ref(r->psk))
		return 0;
	*sess = r->psk;
	*id = (const unsigned char *)r->identity;
	*idlen = strlen(r->identity);
	return 1;
}

static SSL_CTX *
rpc_tls_ctx(struct rpc *r, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256")) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_app_data(ctx, r);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* No SSL_MODE_RELEASE_BUFFERS: peer links are few and long-lived
	 * and carry streams of records, and releasing the record buffers
	 * whenever they empty freed and allocated 16 KiB once or twice per
	 * record (the top of a relaying node's profile). */
	/* Read ahead: one read() takes the records that have arrived (up
	 * to RPC_TLS_READ_BUF), where OpenSSL otherwise reads each record's
	 * header and then its body. rpc_conn.c makes libevent see them. */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_default_read_buffer_len(ctx, RPC_TLS_READ_BUF);
	if (server) {
		/* Resumption tickets are of no use: the key is always at
		 * hand. */
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_psk_find_session_callback(ctx,
		                                      rpc_tls_find_session);
	} else {
		SSL_CTX_set_psk_use_session_callback(ctx, rpc_tls_use_session);
	}
	return ctx;
}

/* The key as a TLS 1.3 session. */
static SSL_SESSION *
rpc_tls_session(SSL_CTX *ctx, const uint8_t *psk)
{
	SSL *ssl = SSL_new(ctx);
	const SSL_CIPHER *cipher;
	SSL_SESSION *sess;

	if (ssl == NULL)
		return NULL;
	cipher = SSL_CIPHER_find(ssl, rpc_tls_suite);
	sess = cipher == NULL ? NULL : SSL_SESSION_new();
	SSL_free(ssl);
	if (sess == NULL)
		return NULL;
	if (!SSL_SESSION_set1_master_key(sess, psk, RPC_PSK_LEN) ||
	    !SSL_SESSION_set_cipher(sess, cipher) ||
	    !SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION)) {
		SSL_SESSION_free(sess);
		return NULL;
	}
	return sess;
}

int
rpc_tls__init(struct rpc *r, const uint8_t *psk, struct rs_err *err)
{
	char why[160];

	r->ssl_server = rpc_tls_ctx(r, true);
	r->ssl_client = rpc_tls_ctx(r, false);
	if (r->ssl_server != NULL && r->ssl_client != NULL)
		r->psk = rpc_tls_session(r->ssl_client, psk);
	if (r->psk == NULL) {
		rpc_tls__error(why, sizeof(why));
		rpc_tls__free(r);
		return rs_err_set(err, RS_EIO, "rpc: TLS setup: %s", why);
	}
	return 0;
}

void
rpc_tls__free(struct rpc *r)
{
	SSL_SESSION_free(r->psk);
	SSL_CTX_free(r->ssl_server);
	SSL_CTX_free(r->ssl_client);
	r->psk = NULL;
	r->ssl_server = r->ssl_client = NULL;
}

SSL *
rpc_tls__ssl(struct rpc *r, struct rpc_conn *c, bool server)
{
	SSL *ssl = SSL_new(server ? r->ssl_server : r->ssl_client);

	if (ssl != NULL)
		SSL_set_app_data(ssl, c);
	return ssl;
}

const char *
rpc_tls__error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	const char *reason;

	if (e == 0) {
		snprintf(buf, size, "unknown");
	} else {
		reason = ERR_reason_error_string(e);
		snprintf(buf, size, "%s", reason != NULL ? reason : "unknown");
	}
	ERR_clear_error();
	return buf;
}
