/*
 * The SSH backend of a worker: libssh2 on the connection the parent made.
 * Handshake, authentication, then one operation at a time: execute on an
 * exec channel, list, download and upload over SFTP.  The SFTP subsystem
 * is started lazily by the first file operation, so that a session used
 * only to execute commands never starts an sftp-server on the remote.
 *
 * libssh2 runs in blocking mode with a timeout for the handshake, the
 * authentication and the SFTP requests; execute switches to non-blocking
 * mode and polls the socket against the command's deadline.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"
#include "worker.h"

#define SSH_TIMEOUT_DEF		30	/* handshake and auth, seconds */
#define SSH_EXEC_TIMEOUT_DEF	60	/* execute, seconds */
#define SSH_IDLE_MS		120000	/* SFTP request, upload body */
#define SSH_CLOSE_MS		2000	/* saying goodbye */
#define SSH_ABANDON_MS		200	/* waiting for a channel's close */
#define SSH_ZOMBIES		8	/* channels waiting for their close */
#define SSH_KBD_ROUNDS		4	/* keyboard-interactive prompts */
#define SSH_IOSIZE		(1024 * 1024)	/* SFTP read and write */
#define SSH_BUFSIZE		(SSH_IOSIZE + DC_MAX_RECORD)
#define SSH_LISTBATCH		(64 * 1024)	/* DC_ENTRY records */
#define SSH_EXECCHUNK		(32 * 1024)
#define SSH_LIST_MAX		200000	/* entries in one listing */

struct ssh_state {
	LIBSSH2_SESSION	*ss_sess;
	LIBSSH2_SFTP	*ss_sftp;
	struct worker	*ss_w;
	char		*ss_buf;	/* SSH_BUFSIZE bytes */
	/* Channels whose command outlived its operation. */
	LIBSSH2_CHANNEL	*ss_zombie[SSH_ZOMBIES];
	uint64_t	 ss_deadline;	/* handshake and auth, mono ms */
	const char	*ss_kbdpass;	/* keyboard-interactive answer */
	int		 ss_kbdrounds;
	int		 ss_wipe;	/* wipe what libssh2 frees */
	int		 ss_keybad;	/* the private key did not decode */
	int		 ss_ready;	/* logged in */
	int		 ss_sftpbad;	/* restart SFTP before the next use */
	int		 ss_dead;	/* the remote connection is gone */
};

/* Records packed into one write (DC_ENTRY). */
struct ssh_batch {
	char		*b_buf;
	size_t		 b_len;
	size_t		 b_cap;
	int		 b_fd;
};

/* An upload in progress. */
struct ssh_up {
	LIBSSH2_SFTP_HANDLE *u_h;
	char		 u_target[DC_PATH_MAX];
	char		 u_tmp[DC_PATH_MAX];
	long		 u_mode;
	int		 u_exists;	/* the target exists: replace it */
	int		 u_end;		/* DC_END seen */
	size_t		 u_start;	/* ss_buf: first byte not acked */
	size_t		 u_fill;	/* ss_buf: end of data */
	uint64_t	 u_recv;	/* bytes from the data channel */
	uint64_t	 u_written;	/* bytes acked by the remote */
};

/* An execute in progress. */
struct ssh_exec {
	LIBSSH2_CHANNEL	*x_ch;
	uint64_t	 x_deadline;
	uint64_t	 x_left[2];	/* capture left: stdout, stderr */
	uint64_t	 x_sent;
	int		 x_eof[2];
	uint32_t	 x_trunc;
	int		 x_dc;
	int		 x_dcdead;	/* the front went away */
	int		 x_timedout;
};

static int	ssh_global(void);
static int	ssh_preinit(struct worker *);
static int	ssh_handshake(struct worker *, struct msg_w_hostkey *,
		    struct dc_result *);
static int	ssh_auth(struct worker *, struct msg_w_auth *,
		    struct dc_result *);
static void	ssh_list(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ssh_download(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ssh_upload(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ssh_exec(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static int	ssh_keepalive(struct worker *);
static void	ssh_close(struct worker *);

const struct worker_backend worker_ssh_backend = {
	.wb_name = "ssh",
	.wb_global = ssh_global,
	.wb_preinit = ssh_preinit,
	.wb_handshake = ssh_handshake,
	.wb_auth = ssh_auth,
	.wb_list = ssh_list,
	.wb_download = ssh_download,
	.wb_upload = ssh_upload,
	.wb_exec = ssh_exec,
	.wb_keepalive = ssh_keepalive,
	.wb_close = ssh_close,
};

/*
 * Memory for libssh2.  While credentials are in flight every block is
 * wiped before it is freed: libssh2 copies passwords and keyboard-
 * interactive answers into buffers it frees without clearing them.
 */
static void *
ssh_alloc(size_t n, void **abstract)
{
	(void)abstract;
	return malloc(n);
}

static void
ssh_free(void *p, void **abstract)
{
	struct ssh_state	*ss = *abstract;

	if (p != NULL && ss->ss_wipe)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
ssh_realloc(void *p, size_t n, void **abstract)
{
	struct ssh_state	*ss = *abstract;
	void			*q;
	size_t			 old;

	if (p == NULL || !ss->ss_wipe)
		return realloc(p, n);
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	ssh_free(p, abstract);
	return q;
}

/* Socket I/O for libssh2, counting bytes and noticing a dead peer. */
static ssize_t
ssh_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct ssh_state	*ss = *abstract;
	ssize_t			 n;

	if ((n = recv(fd, buf, len, flags)) > 0) {
		ss->ss_w->w_bytes_in += n;
		return n;
	}
	if (n == 0) {
		ss->ss_dead = 1;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno != EINTR)
		ss->ss_dead = 1;
	return -errno;
}

static ssize_t
ssh_send(libssh2_socket_t fd, const void *buf, size_t len, int flags,
    void **abstract)
{
	struct ssh_state	*ss = *abstract;
	ssize_t			 n;

	if ((n = send(fd, buf, len, flags | MSG_NOSIGNAL)) >= 0) {
		ss->ss_w->w_bytes_out += n;
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno != EINTR)
		ss->ss_dead = 1;
	return -errno;
}

/*
 * Before the sandbox: everything that opens files on first use.  OpenSSL
 * 3 reads openssl.cnf lazily, during the first key exchange or key
 * parsing (the only file they open, under strace); load it now.  Drawing
 * random bytes and fetching a digest once also sets up the DRBG (seeded
 * by getrandom(2)) and the default provider here rather than later.
 */
static int
ssh_global(void)
{
	EVP_MD_CTX		*md;
	unsigned char		 rnd[16];

	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG |
	    OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, NULL))
		fatalx("OpenSSL initialisation failed");
	if (libssh2_init(0) != 0)
		fatalx("libssh2_init failed");
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("OpenSSL random generator failed");
	/* The first digest fetched loads the default provider. */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("OpenSSL digest initialisation failed");
	EVP_MD_CTX_free(md);
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

/* This session's state, and its socket's options. */
static int
ssh_preinit(struct worker *w)
{
	struct ssh_state	*ss;
	int			 one = 1;

	if (ssh_global() == -1)
		return -1;

	/* Nagle delays every small request by an ACK round trip. */
	if (w->w_sock != -1 && setsockopt(w->w_sock, IPPROTO_TCP,
	    TCP_NODELAY, &one, sizeof(one)) == -1)
		log_warn("TCP_NODELAY");

	if ((ss = calloc(1, sizeof(*ss))) == NULL ||
	    (ss->ss_buf = malloc(SSH_BUFSIZE)) == NULL)
		fatal("calloc");
	ss->ss_w = w;
	w->w_state = ss;
	return 0;
}

/* Milliseconds left until deadline, at least 1. */
static long
ssh_ms_left(uint64_t deadline)
{
	uint64_t	 now = mono_ms();

	if (now >= deadline)
		return 1;
	if (deadline - now > LONG_MAX)
		return LONG_MAX;
	return (long)(deadline - now);
}

/* True when the last libssh2 error leaves the connection unusable. */
static int
ssh_err_fatal(struct ssh_state *ss, int err)
{
	if (ss->ss_dead)
		return 1;
	switch (err) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case LIBSSH2_ERROR_INVALID_MAC:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_PROTO:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_ENCRYPT:
	case LIBSSH2_ERROR_BAD_SOCKET:
	case LIBSSH2_ERROR_ZLIB:
	case LIBSSH2_ERROR_COMPRESS:
		return 1;
	}
	return 0;
}

/*
 * Free the abandoned channels whose remote close has come since: a
 * server may hold its close until the command has exited.
 */
static void
ssh_reap(struct ssh_state *ss)
{
	int	 blocking, i, rc;

	blocking = libssh2_session_get_blocking(ss->ss_sess);
	libssh2_session_set_blocking(ss->ss_sess, 0);
	for (i = 0; i < SSH_ZOMBIES && !ss->ss_dead; i++) {
		if (ss->ss_zombie[i] == NULL)
			continue;
		rc = libssh2_channel_free(ss->ss_zombie[i]);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			log_debug("channel freed (%d)", rc);
			ss->ss_zombie[i] = NULL;
		}
	}
	libssh2_session_set_blocking(ss->ss_sess, blocking);
}

/*
 * Fill r from the session's last error.  Once the connection is gone
 * (or a blocking call timed out half-way through a packet) the session
 * is lost; other errors leave it usable and are reported after "what".
 */
static void
ssh_fail(struct worker *w, struct dc_result *r, const char *what)
{
	struct ssh_state	*ss = w->w_state;
	const char		*how;
	char			*msg = NULL;
	int			 err;

	err = libssh2_session_last_error(ss->ss_sess, &msg, NULL, 0);
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	how = ss->ss_ready ? "Connection lost" : "Connection failed";
	if (ss->ss_dead)
		msg = "connection closed by the remote host";
	if (err == LIBSSH2_ERROR_TIMEOUT ||
	    err == LIBSSH2_ERROR_SOCKET_TIMEOUT) {
		ss->ss_dead = r->r_session_lost = 1;
		dc_result_set(r, 504, "timeout", "Connection error: timed out");
	} else if (ssh_err_fatal(ss, err)) {
		ss->ss_dead = r->r_session_lost = 1;
		dc_result_set(r, 502, "connection_failed", "%s: %s", how,
		    msg);
	} else
		dc_result_set(r, 502, "connection_failed", "%s: %s", what,
		    msg);
	log_debug("%s (libssh2 error %d: %s)", r->r_message, err, msg);
}

/* Encode len bytes as base64 without padding, as OpenSSH prints keys. */
static void
ssh_b64(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, o = 0;
	uint32_t		 v;

	for (i = 0; i < len && o + 5 <= outlen; i += 3) {
		v = p[i] << 16;
		if (i + 1 < len)
			v |= p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 0x3f];
		out[o++] = b64[(v >> 12) & 0x3f];
		if (i + 1 < len)
			out[o++] = b64[(v >> 6) & 0x3f];
		if (i + 2 < len)
			out[o++] = b64[v & 0x3f];
	}
	out[o] = '\0';
}

static const char *
ssh_hostkey_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return "ssh-ed25519";
	}
	return "unknown";
}

/* Fill hk with the type and SHA-256 fingerprint of the host key. */
static int
ssh_hostkey(struct ssh_state *ss, struct msg_w_hostkey *hk)
{
	const char	*hash;
	size_t		 len;
	int		 type;

	memset(hk, 0, sizeof(*hk));
	if (libssh2_session_hostkey(ss->ss_sess, &len, &type) == NULL ||
	    (hash = libssh2_hostkey_hash(ss->ss_sess,
	    LIBSSH2_HOSTKEY_HASH_SHA256)) == NULL)
		return -1;
	strlcpy(hk->type, ssh_hostkey_name(type), sizeof(hk->type));
	ssh_b64((const unsigned char *)hash, 32, hk->sha256,
	    sizeof(hk->sha256));
	return 0;
}

/* Key exchange on w_sock; hk receives the host key for the parent. */
static int
ssh_handshake(struct worker *w, struct msg_w_hostkey *hk,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	unsigned int		 timeout;

	timeout = w->w_start.timeout ? w->w_start.timeout : SSH_TIMEOUT_DEF;
	ss->ss_deadline = mono_ms() + timeout * 1000ULL;
	ss->ss_sess = libssh2_session_init_ex(ssh_alloc, ssh_free,
	    ssh_realloc, ss);
	if (ss->ss_sess == NULL) {
		dc_result_set(r, 500, "internal", "Cannot start SSH session");
		return -1;
	}
	libssh2_session_callback_set(ss->ss_sess, LIBSSH2_CALLBACK_RECV,
	    (void *)ssh_recv);
	libssh2_session_callback_set(ss->ss_sess, LIBSSH2_CALLBACK_SEND,
	    (void *)ssh_send);
	libssh2_session_set_blocking(ss->ss_sess, 1);
	libssh2_session_set_timeout(ss->ss_sess, ssh_ms_left(ss->ss_deadline));

	if (libssh2_session_handshake(ss->ss_sess, w->w_sock) != 0) {
		ssh_fail(w, r, "Connection failed");
		return -1;
	}
	if (ssh_hostkey(ss, hk) == -1) {
		dc_result_set(r, 502, "connection_failed",
		    "Connection failed: no host key");
		return -1;
	}
	log_debug("host key %s SHA256:%s", hk->type, hk->sha256);
	return 1;
}

/* Answer every keyboard-interactive prompt with the password. */
static void
ssh_kbdint(const char *name, int namelen, const char *instr, int instrlen,
    int nprompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
    LIBSSH2_USERAUTH_KBDINT_RESPONSE *res, void **abstract)
{
	struct ssh_state	*ss = *abstract;
	const char		*ans;
	int			 i;

	(void)name;
	(void)namelen;
	(void)instr;
	(void)instrlen;
	(void)prompts;

	/* A server asking again and again gets empty answers. */
	ans = ss->ss_kbdrounds++ < SSH_KBD_ROUNDS ? ss->ss_kbdpass : "";
	for (i = 0; i < nprompts; i++) {
		res[i].text = strdup(ans);
		res[i].length = res[i].text != NULL ? strlen(ans) : 0;
	}
}

/* True when the comma separated list has method m. */
static int
ssh_has_method(const char *list, const char *m)
{
	size_t		 len = strlen(m);
	const char	*p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, m, len) == 0 && (p[len] == ',' ||
		    p[len] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

/* True for errors of the connection itself, not of what was sent on it. */
static int
ssh_err_socket(struct ssh_state *ss, int err)
{
	return ss->ss_dead || err == LIBSSH2_ERROR_SOCKET_NONE ||
	    err == LIBSSH2_ERROR_SOCKET_SEND ||
	    err == LIBSSH2_ERROR_SOCKET_RECV ||
	    err == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
	    err == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
	    err == LIBSSH2_ERROR_TIMEOUT || err == LIBSSH2_ERROR_BAD_SOCKET;
}

/*
 * The outcome of one method: 1 authenticated, 0 refused, -1 when the
 * connection failed (r set).  A private key is decoded before anything
 * is sent, so its other errors are about the key.
 */
static int
ssh_auth_result(struct worker *w, int rc, const char *method,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	char			*msg = NULL;
	int			 err, key;

	if (rc == 0 && libssh2_userauth_authenticated(ss->ss_sess))
		return 1;
	err = libssh2_session_last_error(ss->ss_sess, &msg, NULL, 0);
	key = strcmp(method, "publickey") == 0;
	if (key ? ssh_err_socket(ss, err) : ssh_err_fatal(ss, err)) {
		ssh_fail(w, r, "Connection failed");
		return -1;
	}
	if (key && err != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
	    err != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		ss->ss_keybad = 1;
	log_info("%s refused: %s", method, msg != NULL ? msg : "");
	return 0;
}

/* Public key, then password, then keyboard-interactive. */
static int
ssh_auth_try(struct worker *w, struct msg_w_auth *a, const char *methods,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SESSION		*s = ss->ss_sess;
	unsigned int		 ulen = strlen(a->username);
	int			 rc;

	if (a->private_key[0] != '\0' &&
	    ssh_has_method(methods, "publickey")) {
		/* Never NULL: OpenSSL would prompt on the terminal. */
		rc = libssh2_userauth_publickey_frommemory(s, a->username,
		    ulen, NULL, 0, a->private_key, strlen(a->private_key),
		    a->passphrase);
		if ((rc = ssh_auth_result(w, rc, "publickey", r)) != 0)
			return rc;
	}
	if (a->password[0] == '\0')
		return 0;
	if (ssh_has_method(methods, "password")) {
		libssh2_session_set_timeout(s, ssh_ms_left(ss->ss_deadline));
		rc = libssh2_userauth_password_ex(s, a->username, ulen,
		    a->password, strlen(a->password), NULL);
		if ((rc = ssh_auth_result(w, rc, "password", r)) != 0)
			return rc;
	}
	if (ssh_has_method(methods, "keyboard-interactive")) {
		libssh2_session_set_timeout(s, ssh_ms_left(ss->ss_deadline));
		ss->ss_kbdpass = a->password;
		rc = libssh2_userauth_keyboard_interactive_ex(s, a->username,
		    ulen, ssh_kbdint);
		ss->ss_kbdpass = NULL;
		return ssh_auth_result(w, rc, "keyboard-interactive", r);
	}
	return 0;
}

/* Log in with the credentials in a, then wipe them. */
static int
ssh_auth(struct worker *w, struct msg_w_auth *a, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	char			*methods;
	int			 rc = 0;

	ss->ss_wipe = 1;
	libssh2_session_set_timeout(ss->ss_sess, ssh_ms_left(ss->ss_deadline));
	methods = libssh2_userauth_list(ss->ss_sess, a->username,
	    strlen(a->username));
	if (methods == NULL && !libssh2_userauth_authenticated(ss->ss_sess)) {
		ssh_fail(w, r, "Connection failed");
		rc = -1;
	} else if (methods != NULL) {
		log_debug("methods %s", methods);
		if ((rc = ssh_auth_try(w, a, methods, r)) == 0) {
			dc_result_set(r, 401, "auth_failed",
			    "Authentication failed%s", ss->ss_keybad ?
			    ": the private key could not be read (wrong "
			    "passphrase or unsupported format)" : "");
			rc = -1;
		} else if (rc == 1)
			rc = 0;
	}
	explicit_bzero(a->password, sizeof(a->password));
	explicit_bzero(a->private_key, sizeof(a->private_key));
	explicit_bzero(a->passphrase, sizeof(a->passphrase));
	ss->ss_wipe = 0;
	if (rc == -1)
		return -1;

	ss->ss_ready = 1;
	libssh2_session_set_timeout(ss->ss_sess, SSH_IDLE_MS);
	if (w->w_start.keepalive > 0)
		libssh2_keepalive_config(ss->ss_sess, 1, w->w_start.keepalive);
	return 0;
}

/* Start the SFTP subsystem on first use. */
static int
ssh_sftp(struct worker *w, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;

	ssh_reap(ss);
	if (ss->ss_sftp != NULL && ss->ss_sftpbad) {
		libssh2_sftp_shutdown(ss->ss_sftp);
		ss->ss_sftp = NULL;
	}
	ss->ss_sftpbad = 0;
	if (ss->ss_sftp != NULL)
		return 0;
	if ((ss->ss_sftp = libssh2_sftp_init(ss->ss_sess)) == NULL) {
		ssh_fail(w, r, "SFTP unavailable");
		return -1;
	}
	return 0;
}

/*
 * Fill r for a failed SFTP request on path.  A status from the server
 * maps to an HTTP status; anything else is the session's error, and the
 * SFTP channel is restarted by the next operation (handles still open
 * must be closed before it goes).
 */
static void
ssh_sftp_fail(struct worker *w, struct dc_result *r, const char *path)
{
	struct ssh_state	*ss = w->w_state;
	unsigned long		 st;

	if (libssh2_session_last_errno(ss->ss_sess) !=
	    LIBSSH2_ERROR_SFTP_PROTOCOL) {
		ssh_fail(w, r, "SFTP failed");
		ss->ss_sftpbad = 1;
		return;
	}
	switch ((st = libssh2_sftp_last_error(ss->ss_sftp))) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		dc_result_set(r, 404, "not_found", "Path not found: %s", path);
		break;
	case LIBSSH2_FX_PERMISSION_DENIED:
	case LIBSSH2_FX_WRITE_PROTECT:
		dc_result_set(r, 403, "permission_denied",
		    "Permission denied: %s", path);
		break;
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		dc_result_set(r, 400, "invalid_request",
		    "Not a directory: %s", path);
		break;
	case LIBSSH2_FX_BAD_MESSAGE:	/* OpenSSH: ENAMETOOLONG, EINVAL */
	case LIBSSH2_FX_INVALID_FILENAME:
		dc_result_set(r, 400, "invalid_request", "Invalid path: %s",
		    path);
		break;
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		dc_result_set(r, 500, "internal",
		    "No space left on the remote host: %s", path);
		break;
	default:
		/* The server refused; nothing on our side failed. */
		dc_result_set(r, 400, "invalid_request",
		    "The remote host refused the operation on %s (SFTP "
		    "status %lu)", path, st);
		break;
	}
}

/* stat(2) on the remote, following links; -1 with the error pending. */
static int
ssh_stat(struct ssh_state *ss, const char *path, int how,
    LIBSSH2_SFTP_ATTRIBUTES *st)
{
	memset(st, 0, sizeof(*st));
	if (libssh2_sftp_stat_ex(ss->ss_sftp, path, strlen(path), how,
	    st) != 0)
		return -1;
	return 0;
}

static int
ssh_isdir(const LIBSSH2_SFTP_ATTRIBUTES *st)
{
	return (st->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	    LIBSSH2_SFTP_S_ISDIR(st->permissions);
}

/* The remote's canonical absolute form of path ("" = login directory). */
static int
ssh_realpath(struct ssh_state *ss, const char *path, char *out, size_t len)
{
	int	 n;

	if (*path == '\0')
		path = ".";
	n = libssh2_sftp_symlink_ex(ss->ss_sftp, path, strlen(path), out,
	    len, LIBSSH2_SFTP_REALPATH);
	if (n < 0)
		return -1;
	if ((size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[n] = '\0';
	return 0;
}

/* Join dir and name with one slash; -1 when it does not fit. */
static int
ssh_join(char *out, size_t len, const char *dir, const char *name)
{
	size_t	 dl = strlen(dir);
	int	 n;

	n = snprintf(out, len, "%s%s%s", dir,
	    dl > 0 && dir[dl - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* Send all of buf on the data channel; EPIPE when the front went away. */
static int
ssh_dc_send(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static int
ssh_batch_flush(struct ssh_batch *b)
{
	int	 rc = 0;

	if (b->b_len > 0)
		rc = ssh_dc_send(b->b_fd, b->b_buf, b->b_len);
	b->b_len = 0;
	return rc;
}

/* Append one three-part record to the batch, flushing when full. */
static int
ssh_batch_add(struct ssh_batch *b, uint32_t kind, const void *p1,
    size_t l1, const void *p2, size_t l2, const void *p3, size_t l3)
{
	struct dc_hdr	 hdr;
	size_t		 need = sizeof(hdr) + l1 + l2 + l3;

	if (l1 + l2 + l3 > DC_MAX_RECORD || need > b->b_cap) {
		errno = EMSGSIZE;
		return -1;
	}
	if (b->b_len + need > b->b_cap && ssh_batch_flush(b) == -1)
		return -1;
	hdr.kind = kind;
	hdr.len = l1 + l2 + l3;
	memcpy(b->b_buf + b->b_len, &hdr, sizeof(hdr));
	b->b_len += sizeof(hdr);
	memcpy(b->b_buf + b->b_len, p1, l1);
	b->b_len += l1;
	memcpy(b->b_buf + b->b_len, p2, l2);
	b->b_len += l2;
	memcpy(b->b_buf + b->b_len, p3, l3);
	b->b_len += l3;
	return 0;
}

static uint32_t
ssh_list_type(unsigned long perm)
{
	if (LIBSSH2_SFTP_S_ISREG(perm))
		return DC_T_FILE;
	if (LIBSSH2_SFTP_S_ISDIR(perm))
		return DC_T_DIR;
	if (LIBSSH2_SFTP_S_ISLNK(perm))
		return DC_T_LINK;
	return DC_T_OTHER;
}

/* One DC_ENTRY for name in dir, with the link target for a symlink. */
static int
ssh_list_entry(struct ssh_state *ss, struct ssh_batch *b, const char *dir,
    const char *name, size_t namelen, const LIBSSH2_SFTP_ATTRIBUTES *st)
{
	struct dc_entry	 e;
	char		 path[DC_PATH_MAX], target[DC_PATH_MAX];
	int		 n = 0;

	memset(&e, 0, sizeof(e));
	if (st->flags & LIBSSH2_SFTP_ATTR_SIZE)
		e.e_size = st->filesize;
	if (st->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)
		e.e_mtime = st->mtime;
	if (st->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) {
		e.e_mode = st->permissions;
		e.e_type = ssh_list_type(st->permissions);
	} else
		e.e_type = DC_T_OTHER;
	if (st->flags & LIBSSH2_SFTP_ATTR_UIDGID) {
		e.e_uid = st->uid;
		e.e_gid = st->gid;
		e.e_flags |= DC_E_HASID;
	}
	if (e.e_type == DC_T_LINK && ssh_join(path, sizeof(path), dir,
	    name) == 0) {
		n = libssh2_sftp_symlink_ex(ss->ss_sftp, path, strlen(path),
		    target, sizeof(target), LIBSSH2_SFTP_READLINK);
		/* An unreadable link is listed without its target. */
		if (n < 0 || (size_t)n >= sizeof(target))
			n = 0;
	}
	e.e_namelen = namelen;
	e.e_targetlen = n;
	return ssh_batch_add(b, DC_ENTRY, &e, sizeof(e), name, namelen,
	    target, n);
}

/*
 * Why opendir failed: OpenSSH's sftp-server reports ENOTDIR as "no such
 * file", other servers as a plain failure.
 */
static void
ssh_list_fail(struct worker *w, const char *path, const char *shown,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_ATTRIBUTES	 st;

	ssh_sftp_fail(w, r, shown);
	if ((r->r_status != 404 && r->r_status != 500) || ss->ss_sftpbad)
		return;
	if (ssh_stat(ss, path, LIBSSH2_SFTP_STAT, &st) == 0 && !ssh_isdir(&st))
		dc_result_set(r, 400, "invalid_request", "Not a directory: %s",
		    shown);
}

/* Read the open directory h into DC_ENTRY records. */
static void
ssh_list_read(struct worker *w, LIBSSH2_SFTP_HANDLE *h, int dc,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	struct ssh_batch	 b;
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	char			 name[DC_NAME_MAX];
	uint64_t		 count = 0;
	int			 n;

	b.b_buf = ss->ss_buf;
	b.b_cap = SSH_LISTBATCH;
	b.b_len = 0;
	b.b_fd = dc;
	for (;;) {
		memset(&st, 0, sizeof(st));
		n = libssh2_sftp_readdir_ex(h, name, sizeof(name), NULL, 0,
		    &st);
		if (n == LIBSSH2_ERROR_BUFFER_TOO_SMALL) {
			/* Longer than any Linux name. */
			dc_result_set(r, 500, "internal",
			    "Remote sent an overlong name in %s", r->r_path);
			return;
		}
		if (n < 0) {
			ssh_sftp_fail(w, r, r->r_path);
			return;
		}
		if (n == 0)
			break;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (ssh_list_entry(ss, &b, r->r_path, name, n, &st) == -1)
			goto lost;
		if (++count == SSH_LIST_MAX) {
			r->r_truncated = 1;
			break;
		}
	}
	if (ssh_batch_flush(&b) == -1)
		goto lost;
	r->r_size = count;
	dc_result_set(r, 200, "", "%llu entries", (unsigned long long)count);
	return;
 lost:
	dc_result_set(r, 500, "internal", "Data channel closed: %s",
	    strerror(errno));
}

/* List directory op->path ("" = the login directory). */
static void
ssh_list(struct worker *w, const struct msg_op *op, int dc,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_HANDLE	*h;
	const char		*shown = op->path[0] ? op->path : ".";

	if (ssh_sftp(w, r) == -1)
		return;
	if (ssh_realpath(ss, op->path, r->r_path, sizeof(r->r_path)) == -1) {
		ssh_sftp_fail(w, r, shown);
		r->r_path[0] = '\0';
		return;
	}
	if ((h = libssh2_sftp_opendir(ss->ss_sftp, r->r_path)) == NULL) {
		ssh_list_fail(w, r->r_path, shown, r);
		return;
	}
	ssh_list_read(w, h, dc, r);
	if (libssh2_sftp_closedir(h) != 0 && r->r_status < 300)
		ssh_sftp_fail(w, r, shown);
}

/* The last component of path, without trailing slashes. */
static void
ssh_basename(const char *path, char *out, size_t len)
{
	const char	*p;
	size_t		 n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (p = path + n; p > path && p[-1] != '/'; p--)
		;
	n -= p - path;
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/*
 * Send what is in ss_buf as DATA records of at most DC_MAX_RECORD, all
 * of it when all is set; keep a short tail at the start of the buffer.
 * *sent counts the bytes sent.
 */
static int
ssh_dl_flush(struct ssh_state *ss, int dc, size_t *fill, int all,
    uint64_t *sent)
{
	size_t	 off = 0, n;

	while (*fill - off >= DC_MAX_RECORD || (all && off < *fill)) {
		n = *fill - off;
		if (n > DC_MAX_RECORD)
			n = DC_MAX_RECORD;
		if (dc_write(dc, DC_DATA, ss->ss_buf + off, n) == -1)
			return -1;
		off += n;
		*sent += n;
	}
	if (off > 0 && off < *fill)
		memmove(ss->ss_buf, ss->ss_buf + off, *fill - off);
	*fill -= off;
	return 0;
}

/* Copy the open file h to the data channel, no more than announced. */
static void
ssh_dl_copy(struct worker *w, LIBSSH2_SFTP_HANDLE *h, int dc,
    const struct dc_fileinfo *fi, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	uint64_t		 got = 0;
	size_t			 fill = 0;
	ssize_t			 n;
	int			 known = fi->f_flags & DC_F_SIZEKNOWN, done;

	do {
		n = libssh2_sftp_read(h, ss->ss_buf + fill, SSH_IOSIZE);
		if (n < 0) {
			ssh_sftp_fail(w, r, r->r_path);
			if (r->r_status < 500)
				r->r_status = 502;
			return;
		}
		/* The front has sent the length: a growing file is cut. */
		if (known && got + n > fi->f_size)
			n = fi->f_size - got;
		fill += n;
		got += n;
		done = n == 0 || (known && got == fi->f_size);
		if (ssh_dl_flush(ss, dc, &fill, done, &r->r_size) == -1) {
			dc_result_set(r, 500, "internal",
			    "Data channel closed: %s", strerror(errno));
			return;
		}
	} while (!done);

	if (known && got != fi->f_size)
		dc_result_set(r, 502, "connection_failed",
		    "File shrank during download: %s", r->r_path);
	else
		dc_result_set(r, 200, "", "%llu bytes",
		    (unsigned long long)r->r_size);
}

/* Stream file op->path: one FILEINFO record, then DATA records. */
static void
ssh_download(struct worker *w, const struct msg_op *op, int dc,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	LIBSSH2_SFTP_HANDLE	*h;
	struct dc_fileinfo	 fi;

	if (op->path[0] == '\0') {
		dc_result_set(r, 400, "invalid_request", "No path given");
		return;
	}
	if (ssh_sftp(w, r) == -1)
		return;
	strlcpy(r->r_path, op->path, sizeof(r->r_path));
	if (ssh_stat(ss, op->path, LIBSSH2_SFTP_STAT, &st) == -1) {
		ssh_sftp_fail(w, r, op->path);
		return;
	}
	if (ssh_isdir(&st)) {
		dc_result_set(r, 400, "invalid_request", "Is a directory: %s",
		    op->path);
		return;
	}
	if ((h = libssh2_sftp_open(ss->ss_sftp, op->path, LIBSSH2_FXF_READ,
	    0)) == NULL) {
		ssh_sftp_fail(w, r, op->path);
		return;
	}
	if (op->path[0] != '/')
		(void)ssh_realpath(ss, op->path, r->r_path, sizeof(r->r_path));

	memset(&fi, 0, sizeof(fi));
	ssh_basename(op->path, fi.f_name, sizeof(fi.f_name));
	/* Files under /proc and the like say 0 and have more. */
	if ((st.flags & LIBSSH2_SFTP_ATTR_SIZE) && st.filesize > 0) {
		fi.f_size = st.filesize;
		fi.f_flags |= DC_F_SIZEKNOWN;
	}
	if (dc_write(dc, DC_FILEINFO, &fi, sizeof(fi)) == -1)
		dc_result_set(r, 500, "internal", "Data channel closed: %s",
		    strerror(errno));
	else
		ssh_dl_copy(w, h, dc, &fi, r);
	/* Closing flushes the reads libssh2 sent ahead. */
	if (!ss->ss_dead)
		libssh2_sftp_close(h);
}

/* A file name from the client: no slash, not "." or "..". */
static int
ssh_up_name_ok(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/*
 * Split a non-directory path into its directory and name, resolve the
 * directory to an absolute path (it must exist) and join them into
 * u_target.
 */
static int
ssh_up_split(struct worker *w, const char *path, struct ssh_up *up,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	char			 dir[DC_PATH_MAX], abs[DC_PATH_MAX];
	char			 name[DC_NAME_MAX];
	const char		*slash;
	size_t			 len = strlen(path);

	if (len > 0 && path[len - 1] == '/') {
		dc_result_set(r, 404, "not_found", "Path not found: %s", path);
		return -1;
	}
	ssh_basename(path, name, sizeof(name));
	if ((slash = strrchr(path, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (slash == path)
		strlcpy(dir, "/", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);

	if (ssh_stat(ss, dir, LIBSSH2_SFTP_STAT, &st) == -1) {
		ssh_sftp_fail(w, r, dir);
		return -1;
	}
	if (!ssh_isdir(&st)) {
		dc_result_set(r, 400, "invalid_request", "Not a directory: %s",
		    dir);
		return -1;
	}
	if (ssh_realpath(ss, dir, abs, sizeof(abs)) == -1 ||
	    ssh_join(up->u_target, sizeof(up->u_target), abs, name) == -1) {
		ssh_sftp_fail(w, r, dir);
		return -1;
	}
	return 0;
}

/* Note whether u_target exists (to be replaced) and its mode. */
static int
ssh_up_existing(struct worker *w, struct ssh_up *up, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_ATTRIBUTES	 st;

	up->u_mode = 0644;
	if (ssh_stat(ss, up->u_target, LIBSSH2_SFTP_STAT, &st) == -1) {
		if (libssh2_session_last_errno(ss->ss_sess) ==
		    LIBSSH2_ERROR_SFTP_PROTOCOL &&
		    libssh2_sftp_last_error(ss->ss_sftp) ==
		    LIBSSH2_FX_NO_SUCH_FILE)
			return 0;
		ssh_sftp_fail(w, r, up->u_target);
		return -1;
	}
	if (ssh_isdir(&st)) {
		dc_result_set(r, 400, "invalid_request", "Is a directory: %s",
		    up->u_target);
		return -1;
	}
	up->u_exists = 1;
	if (st.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS)
		up->u_mode = st.permissions & 0777;
	return 0;
}

/*
 * Where the upload goes: into directory op->path under the client's
 * file name, or to op->path itself.  Then a temporary name beside it.
 */
static int
ssh_up_target(struct worker *w, const struct msg_op *op, struct ssh_up *up,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	LIBSSH2_SFTP_ATTRIBUTES	 st;
	const char		*path = op->path[0] ? op->path : ".";
	const char		*slash;
	char			 dir[DC_PATH_MAX];
	unsigned char		 rnd[8];
	char			 hex[sizeof(rnd) * 2 + 1];
	size_t			 i;
	int			 n;

	if (ssh_stat(ss, path, LIBSSH2_SFTP_STAT, &st) == 0 &&
	    ssh_isdir(&st)) {
		if (!ssh_up_name_ok(op->filename)) {
			dc_result_set(r, 400, "invalid_request",
			    "Invalid file name");
			return -1;
		}
		if (ssh_realpath(ss, path, dir, sizeof(dir)) == -1 ||
		    ssh_join(up->u_target, sizeof(up->u_target), dir,
		    op->filename) == -1) {
			ssh_sftp_fail(w, r, path);
			return -1;
		}
	} else if (ssh_up_split(w, path, up, r) == -1)
		return -1;
	if (ssh_up_existing(w, up, r) == -1)
		return -1;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	/* u_target is absolute: split it at its last slash. */
	slash = strrchr(up->u_target, '/');
	/* Short enough for NAME_MAX whatever the name's length. */
	n = snprintf(up->u_tmp, sizeof(up->u_tmp),
	    "%.*s.%.200s.coreastra-%s.part", (int)(slash - up->u_target + 1),
	    up->u_target, slash + 1, hex);
	if (n < 0 || (size_t)n >= sizeof(up->u_tmp)) {
		dc_result_set(r, 400, "invalid_request", "Path too long");
		return -1;
	}
	return 0;
}

/*
 * Wait for the front to send more, keeping the SSH connection alive
 * meanwhile; -1 (ETIMEDOUT) when it sends nothing for SSH_IDLE_MS.
 */
static int
ssh_up_wait(struct worker *w, int dc)
{
	struct ssh_state	*ss = w->w_state;
	struct pollfd		 pfd;
	uint64_t		 deadline = mono_ms() + SSH_IDLE_MS;
	int			 n, next;

	pfd.fd = dc;
	pfd.events = POLLIN;
	for (;;) {
		n = poll(&pfd, 1, 10 * 1000);
		if (n == -1 && errno != EINTR)
			return -1;
		if (n > 0)
			return 0;
		if (mono_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (libssh2_keepalive_send(ss->ss_sess, &next) != 0) {
			errno = EPIPE;
			return -1;
		}
	}
}

/*
 * Append the next record's bytes to ss_buf; set u_end on END.  -1 with r
 * set when the body is cut short or over the limit.
 */
static int
ssh_up_recv(struct worker *w, const struct msg_op *op, int dc,
    struct ssh_up *up, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	struct dc_hdr		 hdr;

	if (ssh_up_wait(w, dc) == -1 || dc_read_hdr(dc, &hdr) == -1 ||
	    (hdr.kind != DC_DATA && hdr.kind != DC_END) ||
	    read_all(dc, ss->ss_buf + up->u_fill, hdr.len) == -1) {
		log_debug("upload body: %s", strerror(errno));
		dc_result_set(r, 400, "invalid_request", "Upload interrupted");
		return -1;
	}
	if (hdr.kind == DC_END) {
		up->u_end = 1;
		return 0;
	}
	if (op->max_size != 0 && up->u_recv + hdr.len > op->max_size) {
		dc_result_set(r, 413, "too_large",
		    "File too large: the limit is %llu bytes",
		    (unsigned long long)op->max_size);
		return -1;
	}
	up->u_fill += hdr.len;
	up->u_recv += hdr.len;
	return 0;
}

/*
 * Move the body from the data channel to the remote file.  libssh2
 * pipelines a large write as many SFTP requests and returns once the
 * first is acknowledged; the bytes past the acknowledged ones stay in
 * ss_buf and are passed again, and it sends only what is new.  Keeping
 * about SSH_IOSIZE bytes unacknowledged keeps the pipe full.
 */
static int
ssh_up_copy(struct worker *w, const struct msg_op *op, int dc,
    struct ssh_up *up, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	ssize_t			 n;

	for (;;) {
		if (!up->u_end && up->u_fill - up->u_start < SSH_IOSIZE &&
		    SSH_BUFSIZE - up->u_fill >= DC_MAX_RECORD) {
			if (ssh_up_recv(w, op, dc, up, r) == -1)
				return -1;
			continue;
		}
		if (up->u_fill == up->u_start)
			return 0;
		n = libssh2_sftp_write(up->u_h, ss->ss_buf + up->u_start,
		    up->u_fill - up->u_start);
		if (n < 0) {
			ssh_sftp_fail(w, r, up->u_target);
			return -1;
		}
		up->u_start += n;
		up->u_written += n;
		if (up->u_start == up->u_fill)
			up->u_start = up->u_fill = 0;
		else if (SSH_BUFSIZE - up->u_fill < DC_MAX_RECORD) {
			memmove(ss->ss_buf, ss->ss_buf + up->u_start,
			    up->u_fill - up->u_start);
			up->u_fill -= up->u_start;
			up->u_start = 0;
		}
	}
}

/* Give up: close and remove the temporary file if the session allows. */
static void
ssh_up_abort(struct worker *w, struct ssh_up *up)
{
	struct ssh_state	*ss = w->w_state;

	if (ss->ss_dead || ss->ss_sftp == NULL)
		return;
	if (up->u_h != NULL)
		libssh2_sftp_close(up->u_h);
	up->u_h = NULL;
	if (libssh2_sftp_unlink(ss->ss_sftp, up->u_tmp) != 0)
		log_warnx("cannot remove %s", up->u_tmp);
}

/*
 * Put the complete temporary file in place.  SFTP version 3, which
 * OpenSSH speaks, refuses to rename onto an existing file and libssh2
 * 1.10 cannot send OpenSSH's posix-rename extension, so an existing
 * target is removed first.
 * XXX Between the two requests the target does not exist.
 */
static int
ssh_up_commit(struct worker *w, struct ssh_up *up, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	int			 rc;

	rc = libssh2_sftp_close(up->u_h);
	up->u_h = NULL;
	if (rc != 0) {
		ssh_sftp_fail(w, r, up->u_target);
		return -1;
	}
	if (up->u_exists && libssh2_sftp_unlink(ss->ss_sftp,
	    up->u_target) != 0 && (libssh2_session_last_errno(ss->ss_sess) !=
	    LIBSSH2_ERROR_SFTP_PROTOCOL || libssh2_sftp_last_error(ss->ss_sftp)
	    != LIBSSH2_FX_NO_SUCH_FILE)) {
		ssh_sftp_fail(w, r, up->u_target);
		return -1;
	}
	if (libssh2_sftp_rename_ex(ss->ss_sftp, up->u_tmp, strlen(up->u_tmp),
	    up->u_target, strlen(up->u_target), LIBSSH2_SFTP_RENAME_OVERWRITE |
	    LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE) != 0) {
		ssh_sftp_fail(w, r, up->u_target);
		return -1;
	}
	return 0;
}

/* Receive a file from the front into op->path on the remote. */
static void
ssh_upload(struct worker *w, const struct msg_op *op, int dc,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	struct ssh_up		*up;

	if (ssh_sftp(w, r) == -1)
		return;
	if ((up = calloc(1, sizeof(*up))) == NULL) {
		dc_result_set(r, 500, "internal", "Out of memory");
		return;
	}
	if (ssh_up_target(w, op, up, r) == -1)
		goto done;
	up->u_h = libssh2_sftp_open(ss->ss_sftp, up->u_tmp, LIBSSH2_FXF_WRITE |
	    LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, up->u_mode);
	if (up->u_h == NULL) {
		ssh_sftp_fail(w, r, up->u_target);
		goto done;
	}
	if (ssh_up_copy(w, op, dc, up, r) == -1 ||
	    ssh_up_commit(w, up, r) == -1) {
		ssh_up_abort(w, up);
		goto done;
	}
	strlcpy(r->r_path, up->u_target, sizeof(r->r_path));
	r->r_size = up->u_written;
	dc_result_set(r, 201, "", "%llu bytes",
	    (unsigned long long)up->u_written);
 done:
	free(up);
}

/*
 * Wait until the socket is ready the way libssh2 wants it, or until
 * deadline (ETIMEDOUT).
 */
static int
ssh_wait(struct worker *w, uint64_t deadline)
{
	struct ssh_state	*ss = w->w_state;
	struct pollfd		 pfd;
	uint64_t		 now;
	int			 dir, n;

	dir = libssh2_session_block_directions(ss->ss_sess);
	pfd.fd = w->w_sock;
	pfd.events = 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	for (;;) {
		if ((now = mono_ms()) >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX :
		    (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/* ssh_wait for the command's deadline, noting when it passes. */
static int
ssh_exec_wait(struct worker *w, struct ssh_exec *x)
{
	if (ssh_wait(w, x->x_deadline) == 0)
		return 0;
	if (errno == ETIMEDOUT)
		x->x_timedout = 1;
	return -1;
}

/* Pass up to x_left bytes of one stream to the front, drop the rest. */
static void
ssh_exec_emit(struct ssh_exec *x, int i, const char *buf, size_t n)
{
	if (n > x->x_left[i]) {
		x->x_trunc |= 1U << i;
		n = x->x_left[i];
	}
	if (n == 0 || x->x_dcdead)
		return;
	if (dc_write(x->x_dc, i == 0 ? DC_DATA : DC_STDERR, buf, n) == -1)
		x->x_dcdead = 1;
	x->x_left[i] -= n;
	x->x_sent += n;
}

/*
 * Read what stdout and stderr have; 1 at EOF on both, 0 when libssh2
 * would block, -1 on a session error.
 */
static int
ssh_exec_pump(struct worker *w, struct ssh_exec *x)
{
	struct ssh_state	*ss = w->w_state;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < 2 && !x->x_dcdead; i++) {
		while (!x->x_eof[i] && !x->x_dcdead) {
			n = libssh2_channel_read_ex(x->x_ch, i == 0 ? 0 :
			    SSH_EXTENDED_DATA_STDERR, ss->ss_buf,
			    SSH_EXECCHUNK);
			if (n == LIBSSH2_ERROR_EAGAIN)
				break;
			if (n < 0)
				return -1;
			if (n == 0)
				x->x_eof[i] = 1;
			else
				ssh_exec_emit(x, i, ss->ss_buf, n);
		}
	}
	if (ss->ss_dead)
		return -1;
	return x->x_eof[0] && x->x_eof[1];
}

/* Open a session channel and start command on it. */
static int
ssh_exec_start(struct worker *w, struct ssh_exec *x, const char *command)
{
	struct ssh_state	*ss = w->w_state;
	int			 rc;

	while ((x->x_ch = libssh2_channel_open_session(ss->ss_sess)) ==
	    NULL) {
		if (libssh2_session_last_errno(ss->ss_sess) !=
		    LIBSSH2_ERROR_EAGAIN || ssh_exec_wait(w, x) == -1)
			return -1;
	}
	while ((rc = libssh2_channel_exec(x->x_ch, command)) ==
	    LIBSSH2_ERROR_EAGAIN) {
		if (ssh_exec_wait(w, x) == -1)
			return -1;
	}
	return rc == 0 ? 0 : -1;
}

/* Exit status or signal, once the remote has closed the channel. */
static void
ssh_exec_status(struct worker *w, struct ssh_exec *x, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	char			*sig = NULL;
	size_t			 siglen = 0;

	r->r_exit_code = libssh2_channel_get_exit_status(x->x_ch);
	if (libssh2_channel_get_exit_signal(x->x_ch, &sig, &siglen, NULL,
	    NULL, NULL, NULL) == 0 && sig != NULL) {
		snprintf(r->r_exit_signal, sizeof(r->r_exit_signal), "%.*s",
		    (int)siglen, sig);
		r->r_exit_code = -1;
	}
	if (sig != NULL)
		libssh2_free(ss->ss_sess, sig);
}

/*
 * Close and free the channel.  When the command still runs (timed out,
 * or the front went away) the remote may close its side only when the
 * command exits: keep the channel and free it later.  libssh2 1.10
 * cannot send a signal to the command.
 */
static void
ssh_exec_abandon(struct worker *w, struct ssh_exec *x, struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	uint64_t		 deadline = mono_ms() + SSH_ABANDON_MS;
	int			 i, rc;

	if (x->x_ch == NULL)
		return;
	while ((rc = libssh2_channel_free(x->x_ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(w, deadline) == -1)
			break;
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		for (i = 0; i < SSH_ZOMBIES; i++)
			if (ss->ss_zombie[i] == NULL) {
				ss->ss_zombie[i] = x->x_ch;
				break;
			}
		if (i == SSH_ZOMBIES) {
			log_warnx("too many commands still running");
			ss->ss_dead = r->r_session_lost = 1;
		}
	} else if (rc != 0 && ssh_err_fatal(ss,
	    libssh2_session_last_errno(ss->ss_sess)))
		ss->ss_dead = r->r_session_lost = 1;
	x->x_ch = NULL;
}

/* Read output until EOF on both streams and the remote's close. */
static int
ssh_exec_run(struct worker *w, struct ssh_exec *x)
{
	int	 rc;

	while ((rc = ssh_exec_pump(w, x)) == 0 && !x->x_dcdead)
		if (ssh_exec_wait(w, x) == -1)
			return -1;
	if (rc == -1 || x->x_dcdead)
		return -1;
	while ((rc = libssh2_channel_wait_closed(x->x_ch)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if (ssh_exec_wait(w, x) == -1)
			return -1;
	return rc == 0 ? 0 : -1;
}

/* Run op->command; stdout and stderr go to the front as they come. */
static void
ssh_exec(struct worker *w, const struct msg_op *op, int dc,
    struct dc_result *r)
{
	struct ssh_state	*ss = w->w_state;
	struct ssh_exec		 x;
	uint64_t		 start = mono_ms();
	unsigned int		 timeout;

	timeout = op->timeout ? op->timeout : SSH_EXEC_TIMEOUT_DEF;
	memset(&x, 0, sizeof(x));
	x.x_deadline = start + timeout * 1000ULL;
	x.x_left[0] = x.x_left[1] = op->max_output ? op->max_output :
	    UINT64_MAX;
	x.x_dc = dc;
	r->r_exit_code = -1;

	libssh2_session_set_blocking(ss->ss_sess, 0);
	ssh_reap(ss);
	if (ssh_exec_start(w, &x, op->command) == -1 ||
	    ssh_exec_run(w, &x) == -1) {
		if (x.x_dcdead)
			dc_result_set(r, 500, "internal",
			    "Data channel closed");
		else if (x.x_timedout && !ss->ss_dead)
			dc_result_set(r, 504, "timeout",
			    "Command timed out after %u s", timeout);
		else
			ssh_fail(w, r, "Execute failed");
	} else {
		ssh_exec_status(w, &x, r);
		dc_result_set(r, 200, "", "exit %d", r->r_exit_code);
	}
	if (!ss->ss_dead)
		ssh_exec_abandon(w, &x, r);
	libssh2_session_set_blocking(ss->ss_sess, 1);

	r->r_truncated = x.x_trunc;
	r->r_size = x.x_sent;
	r->r_duration_ms = mono_ms() - start;
}

/* Send a keepalive if one is due; seconds until the next, -1 if lost. */
static int
ssh_keepalive(struct worker *w)
{
	struct ssh_state	*ss = w->w_state;
	int			 next = 0;

	if (ss == NULL || ss->ss_sess == NULL || ss->ss_dead)
		return -1;
	ssh_reap(ss);
	if (w->w_start.keepalive == 0)
		return 3600;
	if (libssh2_keepalive_send(ss->ss_sess, &next) != 0) {
		ss->ss_dead = 1;
		log_warnx("keepalive: connection lost");
		return -1;
	}
	return next > 0 ? next : 1;
}

/* Say goodbye to the remote host and free everything. */
static void
ssh_close(struct worker *w)
{
	struct ssh_state	*ss = w->w_state;

	if (ss == NULL)
		return;
	if (ss->ss_sess != NULL) {
		/* A dead peer must not hold the goodbye for long. */
		libssh2_session_set_timeout(ss->ss_sess, SSH_CLOSE_MS);
		if (ss->ss_sftp != NULL && !ss->ss_dead)
			libssh2_sftp_shutdown(ss->ss_sftp);
		if (!ss->ss_dead)
			libssh2_session_disconnect(ss->ss_sess,
			    "session closed");
		libssh2_session_free(ss->ss_sess);
	}
	free(ss->ss_buf);
	free(ss);
	w->w_state = NULL;
	libssh2_exit();
}
