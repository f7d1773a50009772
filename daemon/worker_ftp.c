/*
 * The FTP and FTPS backend of the worker: libcurl speaks FTP on the
 * control connection the parent opened (w_sock) and opens the passive
 * data connections itself.  One easy handle per session keeps the
 * control connection between operations; when the server has dropped
 * it, libcurl logs in again on a new socket of its own.
 *
 * URLs are built from checked parts only: the numeric address (or, for
 * FTPS, a checked host name pinned to that address with CURLOPT_RESOLVE
 * so that no resolver runs), the port, and absolute paths normalised
 * here and percent-encoded segment by segment.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "util.h"
#include "worker.h"
#include "ftplist.h"

#define FTPW_CA_MAX	(16 * 1024 * 1024)	/* CA bundle size limit */
#define FTPW_STALL	120	/* seconds without a byte: transfer dead */
#define FTPW_REPLY_MIN	30	/* seconds a server may take to reply */
#define FTPW_BUFSIZE	(256 * 1024)	/* libcurl's receive, send buffers */
#define FTPW_URL_MAX	(P_HOST_LEN + 3 * P_PATH_LEN + 64)
#define FTPW_REPLY_LEN	256
#define FTPW_TICK_MS	10	/* longest wait without asking libcurl */

/* What a callback is doing with the bytes of the current transfer. */
enum ftpw_mode {
	FTPW_M_DISCARD = 0,	/* listing at login, probes */
	FTPW_M_LIST,		/* listing lines -> DC_ENTRY records */
	FTPW_M_FIND,		/* listing lines, looking for one name */
	FTPW_M_GET,		/* file bytes -> DC_DATA records */
	FTPW_M_PUT		/* DC_DATA records -> file bytes */
};

/* Why a callback stopped the transfer. */
enum ftpw_stop {
	FTPW_S_NONE = 0,
	FTPW_S_CHANNEL,		/* data channel write or read failed */
	FTPW_S_ABORTED,		/* upload: EOF before DC_END */
	FTPW_S_PROTO,		/* upload: unexpected record */
	FTPW_S_TOOBIG		/* upload: over max_size */
};

/* What a path is on the server, as far as probing can tell. */
enum ftpw_kind {
	FTPW_K_MISSING = 0,
	FTPW_K_DIR,		/* we can change into it */
	FTPW_K_OTHER		/* listed in its parent, not enterable */
};

struct ftpw_op {
	struct worker	*o_w;
	int		 o_mode;	/* enum ftpw_mode */
	int		 o_fd;		/* data channel or -1 */
	int		 o_mlsd;	/* lines are MLSD, not LIST */
	int		 o_stop;	/* enum ftpw_stop */
	int		 o_info;	/* GET: FILEINFO written */
	int		 o_end;		/* PUT: DC_END read */
	int		 o_found;	/* FIND: entry type or -1 */
	time_t		 o_now;		/* LIST dates without a year */
	uint64_t	 o_bytes;	/* file bytes moved */
	uint64_t	 o_entries;	/* DC_ENTRY records written */
	uint64_t	 o_parsed;	/* listing lines understood */
	uint64_t	 o_bad;		/* lines not understood */
	uint64_t	 o_max;		/* PUT: limit, 0 none */
	uint64_t	 o_left;	/* PUT: payload left in record */
	const char	*o_name;	/* FIND: name; GET: base name */
	struct ftpl_lbuf o_lb;
	struct ftpl_entry o_ent;
};

struct ftpw {
	struct worker	*fw_w;
	CURLM		*fw_multi;	/* owns the connection cache */
	CURL		*fw_curl;
	struct curl_slist *fw_resolve;
	char		*fw_ca;		/* CA bundle, PEM */
	size_t		 fw_calen;
	int		 fw_sock;	/* w_sock until libcurl has it */
	int		 fw_ctl;	/* cached control connection or -1 */
	int		 fw_broken;	/* a transfer died with the server */
	int		 fw_mlsd;	/* the server lists with MLSD */
	int		 fw_nolista;	/* the server refused LIST -a */
	int		 fw_feat;	/* FEAT: 1 sent, 2 in the reply */
	uint64_t	 fw_last;	/* mono_ms of the last command */
	char		 fw_origin[P_HOST_LEN + 32];	/* scheme://host:port */
	char		 fw_home[P_PATH_LEN];	/* PWD at login */
	char		 fw_cwd[P_PATH_LEN];	/* libcurl's directory */
	char		 fw_next[P_PATH_LEN];	/* the URL's directory */
	char		 fw_reply[FTPW_REPLY_LEN];	/* last reply */
	char		 fw_err[CURL_ERROR_SIZE];
	char		 fw_url[FTPW_URL_MAX];
};

static int	ftpw_global(void);
static int	ftpw_preinit(struct worker *);
static int	ftpw_handshake(struct worker *, struct msg_w_hostkey *,
		    struct dc_result *);
static int	ftpw_auth(struct worker *, struct msg_w_auth *,
		    struct dc_result *);
static void	ftpw_list(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ftpw_download(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ftpw_upload(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static void	ftpw_exec(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
static int	ftpw_keepalive(struct worker *);
static int	ftpw_alive(struct worker *);
static void	ftpw_close(struct worker *);
static size_t	ftpw_write_cb(char *, size_t, size_t, void *);
static size_t	ftpw_read_cb(char *, size_t, size_t, void *);
static int	ftpw_list_line(const char *, size_t, void *);

/* The parent's socket, between libcurl's open and connect calls. */
static int	ftpw_preconnected = -1;

const struct worker_backend worker_ftp_backend = {
	.wb_name = "ftp",
	.wb_global = ftpw_global,
	.wb_preinit = ftpw_preinit,
	.wb_handshake = ftpw_handshake,
	.wb_auth = ftpw_auth,
	.wb_list = ftpw_list,
	.wb_download = ftpw_download,
	.wb_upload = ftpw_upload,
	.wb_exec = ftpw_exec,
	.wb_alive = ftpw_alive,
	.wb_keepalive = ftpw_keepalive,
	.wb_close = ftpw_close
};

/*
 * XXX libcurl 7.88 (Debian 12) ignores CURL_SOCKOPT_ALREADY_CONNECTED
 * and calls connect(2) on the socket the parent connected, which fails
 * (curl issue 10626, fixed in 8.0).  This definition stands in for
 * libc's connect in the whole program: every call goes to the kernel
 * unchanged except one, for the descriptor the open-socket callback
 * armed, which succeeds without a system call if it has a peer.
 */
int
connect(int fd, __CONST_SOCKADDR_ARG sa, socklen_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	if (fd != -1 && fd == ftpw_preconnected) {
		ftpw_preconnected = -1;
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0)
			return 0;
	}
	return (int)syscall(SYS_connect, fd, sa.__sockaddr__, len);
}

/* Read the CA bundle the parent opened, whole, and close it. */
static int
ftpw_read_ca(struct ftpw *fw, int fd)
{
	size_t	 size = 64 * 1024;
	ssize_t	 n;
	char	*p;

	if ((fw->fw_ca = malloc(size)) == NULL)
		return -1;
	for (;;) {
		if (fw->fw_calen == size) {
			if (size >= FTPW_CA_MAX) {
				errno = EFBIG;
				return -1;
			}
			if ((p = realloc(fw->fw_ca, size * 2)) == NULL)
				return -1;
			fw->fw_ca = p;
			size *= 2;
		}
		n = read(fd, fw->fw_ca + fw->fw_calen, size - fw->fw_calen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		fw->fw_calen += n;
	}
	return 0;
}

/* libcurl and OpenSSL initialise (and read their configuration) now. */
static int
ftpw_global(void)
{
	CURLcode	 rc;

	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		log_warnx("curl_global_init: %s", curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* Before the sandbox: the session's handles; the CA bundle into memory. */
static int
ftpw_preinit(struct worker *w)
{
	struct ftpw	*fw;

	if (ftpw_global() == -1)
		return -1;
	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		log_warn("calloc");
		return -1;
	}
	fw->fw_sock = -1;
	fw->fw_ctl = -1;
	fw->fw_w = w;
	w->w_state = fw;
	if (w->w_cafd != -1) {
		if (ftpw_read_ca(fw, w->w_cafd) == -1) {
			log_warn("CA bundle");
			close(w->w_cafd);
			w->w_cafd = -1;
			return -1;
		}
		close(w->w_cafd);
		w->w_cafd = -1;
	}
	/* The multi handle makes its wakeup socketpair now, not later. */
	if ((fw->fw_multi = curl_multi_init()) == NULL ||
	    (fw->fw_curl = curl_easy_init()) == NULL) {
		log_warnx("libcurl handles");
		return -1;
	}
	return 0;
}

/* Keep a server reply line for messages; only printable ASCII stays. */
static void
ftpw_keep_reply(struct ftpw *fw, const char *p, size_t len)
{
	size_t	 i;

	if (len >= sizeof(fw->fw_reply))
		len = sizeof(fw->fw_reply) - 1;
	for (i = 0; i < len; i++)
		fw->fw_reply[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	fw->fw_reply[len] = '\0';
}

/* Every server reply line passes here: remember it, read FEAT. */
static size_t
ftpw_header_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct ftpw	*fw = arg;
	size_t		 len = size * nitems, l = len;

	while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		l--;
	ftpw_keep_reply(fw, p, l);
	if (fw->fw_feat == 1 && l >= 4 && strncmp(p, "211-", 4) == 0)
		fw->fw_feat = 2;
	else if (fw->fw_feat == 2 && l >= 4 && strncmp(p, "211 ", 4) == 0)
		fw->fw_feat = 0;
	else if (fw->fw_feat == 2 && l >= 5 && p[0] == ' ' &&
	    strncasecmp(p + 1, "MLST", 4) == 0 &&
	    (l == 5 || p[5] == ' '))
		fw->fw_mlsd = 1;
	return len;
}

/* The first socket libcurl asks for is the one the parent connected. */
static curl_socket_t
ftpw_opensocket_cb(void *arg, curlsocktype purpose,
    struct curl_sockaddr *addr)
{
	struct ftpw	*fw = arg;
	struct worker	*w = fw->fw_w;
	int		 s;

	if (purpose == CURLSOCKTYPE_IPCXN && w->w_sock != -1) {
		fw->fw_sock = ftpw_preconnected = w->w_sock;
		w->w_sock = -1;
		return fw->fw_sock;
	}
	s = socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	    addr->protocol);
	return s == -1 ? CURL_SOCKET_BAD : s;
}

/* Tell libcurl not to connect the parent's socket again. */
static int
ftpw_sockopt_cb(void *arg, curl_socket_t s, curlsocktype purpose)
{
	struct ftpw	*fw = arg;

	(void)purpose;
	if (fw->fw_sock != -1 && s == fw->fw_sock) {
		fw->fw_sock = -1;
		return CURL_SOCKOPT_ALREADY_CONNECTED;
	}
	return CURL_SOCKOPT_OK;
}

/* A DNS name libcurl can carry in a URL and check a certificate for. */
static int
ftpw_hostname_ok(const char *h)
{
	size_t	 len = strlen(h), label = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(h[i] >= 'a' && h[i] <= 'z') &&
		    !(h[i] >= 'A' && h[i] <= 'Z') &&
		    !(h[i] >= '0' && h[i] <= '9') && h[i] != '-' &&
		    h[i] != '_')
			return 0;
		if ((label == 0 && h[i] == '-') || ++label > 63)
			return 0;
	}
	/* A numeric last label would make libcurl read an address. */
	for (i = len - label; i < len; i++)
		if (h[i] < '0' || h[i] > '9')
			return h[len - 1] != '-';
	return 0;
}

/* True for a numeric IPv4 or IPv6 address. */
static int
ftpw_numeric(const char *h)
{
	struct in6_addr	 a;

	return inet_pton(AF_INET, h, &a) == 1 ||
	    inet_pton(AF_INET6, h, &a) == 1;
}

/*
 * scheme://host:port for the session.  Plain FTP names the address;
 * FTPS names the host the client gave, for SNI and the certificate
 * check, pinned to the address so that nothing is resolved.
 */
static int
ftpw_origin(struct ftpw *fw, const struct msg_w_start *st)
{
	char		 addr[80], pin[P_HOST_LEN + 96];
	const char	*scheme, *host;

	/* Scoped IPv6 addresses would need "%25" in URLs: not supported. */
	if (!ftpw_numeric(st->addr) || strchr(st->addr, '%') != NULL) {
		errno = EINVAL;
		return -1;
	}
	snprintf(addr, sizeof(addr), strchr(st->addr, ':') != NULL ?
	    "[%s]" : "%s", st->addr);
	scheme = st->tls == FTP_TLS_IMPLICIT ? "ftps" : "ftp";
	host = addr;
	if (st->tls != FTP_TLS_NONE && !ftpw_numeric(st->host)) {
		if (ftpw_hostname_ok(st->host)) {
			host = st->host;
			snprintf(pin, sizeof(pin), "%s:%u:%s", host, st->port,
			    addr);
			if ((fw->fw_resolve = curl_slist_append(NULL,
			    pin)) == NULL)
				return -1;
		} else if (!st->insecure) {
			errno = EINVAL;
			return -1;
		}
	}
	if ((size_t)snprintf(fw->fw_origin, sizeof(fw->fw_origin),
	    "%s://%s:%u", scheme, host, st->port) >= sizeof(fw->fw_origin)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Set an option on handle c (a local of the caller) or return -1. */
#define FTPW_SET(opt, val) do {						\
	if (curl_easy_setopt(c, (opt), (val)) != CURLE_OK)		\
		return -1;						\
} while (0)

/* Options that hold for the whole session. */
static int
ftpw_setup(struct ftpw *fw, const struct msg_w_start *st)
{
	CURL	*c = fw->fw_curl;
	long	 tmo = st->timeout > 0 ? (long)st->timeout : 10;

	FTPW_SET(CURLOPT_NOSIGNAL, 1L);
	FTPW_SET(CURLOPT_NOPROGRESS, 1L);
	FTPW_SET(CURLOPT_PROTOCOLS_STR, "ftp,ftps");
	FTPW_SET(CURLOPT_ERRORBUFFER, fw->fw_err);
	FTPW_SET(CURLOPT_HEADERFUNCTION, ftpw_header_cb);
	FTPW_SET(CURLOPT_HEADERDATA, fw);
	FTPW_SET(CURLOPT_OPENSOCKETFUNCTION, ftpw_opensocket_cb);
	FTPW_SET(CURLOPT_OPENSOCKETDATA, fw);
	FTPW_SET(CURLOPT_SOCKOPTFUNCTION, ftpw_sockopt_cb);
	FTPW_SET(CURLOPT_SOCKOPTDATA, fw);
	FTPW_SET(CURLOPT_RESOLVE, fw->fw_resolve);
	FTPW_SET(CURLOPT_CONNECTTIMEOUT, tmo);
	FTPW_SET(CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    tmo > FTPW_REPLY_MIN ? tmo : (long)FTPW_REPLY_MIN);
	FTPW_SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	FTPW_SET(CURLOPT_LOW_SPEED_TIME, (long)FTPW_STALL);
	FTPW_SET(CURLOPT_TCP_KEEPALIVE, 1L);
	FTPW_SET(CURLOPT_MAXCONNECTS, 1L);
	FTPW_SET(CURLOPT_BUFFERSIZE, (long)FTPW_BUFSIZE);
	FTPW_SET(CURLOPT_UPLOAD_BUFFERSIZE, (long)FTPW_BUFSIZE);
	/* Passive only: the sandbox allows connect, not bind or listen. */
	FTPW_SET(CURLOPT_FTPPORT, NULL);
	FTPW_SET(CURLOPT_FTP_USE_EPSV, 1L);
	/* Data connections go to the control address, never elsewhere. */
	FTPW_SET(CURLOPT_FTP_SKIP_PASV_IP, 1L);
	FTPW_SET(CURLOPT_FTP_FILEMETHOD, (long)CURLFTPMETHOD_SINGLECWD);
	FTPW_SET(CURLOPT_FTP_CREATE_MISSING_DIRS,
	    (long)CURLFTP_CREATE_DIR_NONE);
	return 0;
}

/* TLS: explicit (AUTH TLS) or implicit, verified against our CA blob. */
static int
ftpw_setup_tls(struct ftpw *fw, const struct msg_w_start *st)
{
	CURL			*c = fw->fw_curl;
	struct curl_blob	 blob;

	if (st->tls == FTP_TLS_NONE)
		return 0;
	FTPW_SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	FTPW_SET(CURLOPT_FTPSSLAUTH, (long)CURLFTPAUTH_TLS);
	/*
	 * XXX TLS 1.2 only.  vsftpd and ProFTPD refuse a data connection
	 * that does not resume the control connection's TLS session, and
	 * libcurl 7.88 keeps one TLS 1.3 ticket per server, which a data
	 * connection closed before the server's new ticket arrived (an
	 * empty or small upload) leaves used: the next data connection
	 * offers it again and gets "522 session reuse required".
	 */
	FTPW_SET(CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_2 |
	    CURL_SSLVERSION_MAX_TLSv1_2));
	/* Nothing may be opened from disk once sandboxed. */
	FTPW_SET(CURLOPT_CAINFO, NULL);
	FTPW_SET(CURLOPT_CAPATH, NULL);
	if (st->insecure) {
		log_warnx("%s: TLS certificate verification disabled",
		    st->host);
		FTPW_SET(CURLOPT_SSL_VERIFYPEER, 0L);
		FTPW_SET(CURLOPT_SSL_VERIFYHOST, 0L);
		return 0;
	}
	blob.data = fw->fw_ca;
	blob.len = fw->fw_calen;
	blob.flags = CURL_BLOB_NOCOPY;
	FTPW_SET(CURLOPT_CAINFO_BLOB, &blob);
	FTPW_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	FTPW_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	return 0;
}

/* Check the start message and set the handle up; no bytes flow yet. */
static int
ftpw_handshake(struct worker *w, struct msg_w_hostkey *hk,
    struct dc_result *r)
{
	struct ftpw		*fw = w->w_state;
	const struct msg_w_start *st = &w->w_start;

	(void)hk;
	if (fw == NULL || fw->fw_curl == NULL) {
		dc_result_set(r, 500, "internal", "FTP backend not ready");
		return -1;
	}
	if (!st->passive) {
		dc_result_set(r, 400, "invalid_request",
		    "Active FTP mode is not supported");
		return -1;
	}
	if (st->tls > FTP_TLS_IMPLICIT || st->port == 0 || st->port > 65535) {
		dc_result_set(r, 400, "invalid_request", "Bad FTP settings");
		return -1;
	}
	if (st->tls != FTP_TLS_NONE && !st->insecure && fw->fw_ca == NULL) {
		dc_result_set(r, 502, "connection_failed",
		    "Connection failed: no CA bundle to verify the server");
		return -1;
	}
	if (ftpw_origin(fw, st) == -1) {
		dc_result_set(r, 400, "invalid_request",
		    "Invalid host name for TLS verification");
		return -1;
	}
	if (ftpw_setup(fw, st) == -1 || ftpw_setup_tls(fw, st) == -1) {
		log_warnx("%s: curl_easy_setopt failed", st->id);
		dc_result_set(r, 500, "internal", "FTP setup failed");
		return -1;
	}
	strlcpy(fw->fw_home, "/", sizeof(fw->fw_home));
	strlcpy(fw->fw_cwd, "/", sizeof(fw->fw_cwd));
	return 0;
}

/* Per-transfer options back to a plain download of the URL. */
static int
ftpw_reset(struct ftpw *fw, struct ftpw_op *op)
{
	CURL	*c = fw->fw_curl;

	FTPW_SET(CURLOPT_NOBODY, 0L);
	FTPW_SET(CURLOPT_UPLOAD, 0L);
	FTPW_SET(CURLOPT_CUSTOMREQUEST, NULL);
	FTPW_SET(CURLOPT_QUOTE, NULL);
	FTPW_SET(CURLOPT_POSTQUOTE, NULL);
	FTPW_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)-1);
	FTPW_SET(CURLOPT_WRITEFUNCTION, ftpw_write_cb);
	FTPW_SET(CURLOPT_WRITEDATA, op);
	FTPW_SET(CURLOPT_READFUNCTION, ftpw_read_cb);
	FTPW_SET(CURLOPT_READDATA, op);
	return 0;
}

/*
 * Per-operation state.  A data channel gets send and receive timeouts:
 * a front that stops reading or writing must not hold the worker (and
 * the FTP server) forever.
 */
static void
ftpw_op_init(struct ftpw_op *op, struct worker *w, int mode, int fd)
{
	struct timeval	 tv;

	if (fd != -1) {
		tv.tv_sec = FTPW_STALL;
		tv.tv_usec = 0;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv)) == -1 || setsockopt(fd, SOL_SOCKET,
		    SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
			log_warn("data channel timeouts");
	}
	memset(op, 0, sizeof(*op));
	op->o_w = w;
	op->o_mode = mode;
	op->o_fd = fd;
	op->o_found = -1;
	op->o_now = time(NULL);
	ftpl_lines_init(&op->o_lb);
}

/*
 * Drive one transfer.  Not curl_easy_perform: libcurl 7.88 sometimes
 * forgets to wake itself after a passive-mode reply and sleeps its full
 * second; a short wait bounds that delay.
 */
static CURLcode
ftpw_run(struct ftpw *fw)
{
	CURLMsg		*msg;
	CURLMcode	 mc;
	CURLcode	 rc = CURLE_FAILED_INIT;
	curl_socket_t	 s;
	int		 running = 1, n;

	if (curl_multi_add_handle(fw->fw_multi, fw->fw_curl) != CURLM_OK)
		return rc;
	do {
		if ((mc = curl_multi_perform(fw->fw_multi, &running)) !=
		    CURLM_OK)
			break;
		if (running)
			mc = curl_multi_wait(fw->fw_multi, NULL, 0,
			    FTPW_TICK_MS, &n);
	} while (running && mc == CURLM_OK);
	if (mc != CURLM_OK)
		log_warnx("libcurl: %s", curl_multi_strerror(mc));
	while ((msg = curl_multi_info_read(fw->fw_multi, &n)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == fw->fw_curl)
			rc = msg->data.result;
	/* libcurl forgets the connection once the handle leaves. */
	if (curl_easy_getinfo(fw->fw_curl, CURLINFO_ACTIVESOCKET,
	    &s) != CURLE_OK)
		s = CURL_SOCKET_BAD;
	fw->fw_ctl = s;
	curl_multi_remove_handle(fw->fw_multi, fw->fw_curl);
	return rc;
}

/*
 * Errors after which a fresh connection is worth one more try: the
 * server closed the reused one, maybe saying "421" (libcurl calls that
 * a timeout) on its way out.
 */
static int
ftpw_retryable(struct ftpw *fw, CURLcode rc)
{
	return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_FTP_WEIRD_SERVER_REPLY ||
	    (rc == CURLE_OPERATION_TIMEDOUT &&
	    strncmp(fw->fw_reply, "421", 3) == 0);
}

/*
 * A server that dies under a transfer ends the session; one that drops
 * an idle control connection does not (the next operation reconnects).
 */
static int
ftpw_alive(struct worker *w)
{
	struct ftpw	*fw = w->w_state;

	return !fw->fw_broken;
}

/* Did the transfer move anything the client could have seen? */
static int
ftpw_moved(const struct ftpw_op *op)
{
	return op->o_bytes > 0 || op->o_entries > 0 || op->o_info ||
	    op->o_end || op->o_stop != FTPW_S_NONE;
}

/*
 * Is the idle control connection dead?  Anything readable on it, a
 * "421" nobody asked for or the end of the stream, means the server
 * has given up on it; libcurl would only notice after sending, and an
 * operation that sends nothing (a CWD into the directory it is in)
 * makes libcurl 7.88 spin on such a connection for ever.
 */
static int
ftpw_stale(struct ftpw *fw)
{
	struct pollfd	 pfd;

	if (fw->fw_ctl == CURL_SOCKET_BAD)
		return 0;
	pfd.fd = fw->fw_ctl;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1;
}

/*
 * Run one transfer on the session's handle, on a new control connection
 * when the cached one is dead.  One that dies under a command before
 * anything moved gets one more try.
 */
static CURLcode
ftpw_perform(struct ftpw *fw, struct ftpw_op *op)
{
	CURLcode	 rc;
	long		 fresh;
	int		 try;

	for (try = 0; try < 2; try++) {
		fresh = ftpw_stale(fw);
		if (fresh)
			log_debug("control connection closed by the server");
		if (curl_easy_setopt(fw->fw_curl, CURLOPT_FRESH_CONNECT,
		    fresh) != CURLE_OK)
			return CURLE_FAILED_INIT;
		fw->fw_err[0] = '\0';
		fw->fw_reply[0] = '\0';
		rc = ftpw_run(fw);
		fw->fw_sock = ftpw_preconnected = -1;
		fw->fw_last = mono_ms();
		if (rc == CURLE_OK)
			strlcpy(fw->fw_cwd, fw->fw_next, sizeof(fw->fw_cwd));
		if (rc != CURLE_OK && ftpw_moved(op) &&
		    op->o_stop != FTPW_S_CHANNEL && (ftpw_retryable(fw, rc) ||
		    rc == CURLE_PARTIAL_FILE || rc == CURLE_UPLOAD_FAILED))
			fw->fw_broken = 1;
		if (rc == CURLE_OK || !ftpw_retryable(fw, rc) || ftpw_moved(op))
			break;
		log_debug("retrying on a new connection: %s", fw->fw_err);
	}
	if (rc != CURLE_OK && fw->fw_err[0] == '\0')
		strlcpy(fw->fw_err, curl_easy_strerror(rc),
		    sizeof(fw->fw_err));
	return rc;
}

/* Append s to the URL being built; -1 when it does not fit. */
static int
ftpw_url_add(struct ftpw *fw, size_t *off, const char *s)
{
	size_t	 n = strlen(s);

	if (*off + n >= sizeof(fw->fw_url))
		return -1;
	memcpy(fw->fw_url + *off, s, n + 1);
	*off += n;
	return 0;
}

/* Append the escaped segments of an absolute path or of one name. */
static int
ftpw_url_path(struct ftpw *fw, size_t *off, const char *p)
{
	const char	*q;
	char		*esc;
	int		 rv;

	while (*p != '\0') {
		q = strchrnul(p, '/');
		if ((esc = curl_easy_escape(fw->fw_curl, p, q - p)) == NULL)
			return -1;
		rv = ftpw_url_add(fw, off, esc);
		curl_free(esc);
		if (rv == -1 || ftpw_url_add(fw, off, "/") == -1)
			return -1;
		p = *q == '/' ? q + 1 : q;
	}
	return 0;
}

/*
 * Point the handle at directory dir (absolute), or at file name in it.
 * "%2F" makes libcurl start from the root rather than the login
 * directory; each segment is escaped; a directory URL ends in "/".
 */
static int
ftpw_url(struct ftpw *fw, const char *dir, const char *name)
{
	size_t	 off = 0;

	if (ftpw_url_add(fw, &off, fw->fw_origin) == -1 ||
	    ftpw_url_add(fw, &off, "/%2F") == -1 ||
	    ftpw_url_path(fw, &off, dir + 1) == -1)
		return -1;
	if (name != NULL) {
		if (ftpw_url_path(fw, &off, name) == -1)
			return -1;
		off--;		/* the "/" after the name */
		fw->fw_url[off] = '\0';
	}
	if (curl_easy_setopt(fw->fw_curl, CURLOPT_URL, fw->fw_url) != CURLE_OK)
		return -1;
	strlcpy(fw->fw_next, dir, sizeof(fw->fw_next));
	return 0;
}

/*
 * Turn a client path into a clean absolute one: relative paths start at
 * the login directory, "." and ".." are resolved by name.  CR, LF and
 * other control bytes would end an FTP command early: refused.
 */
static int
ftpw_path(struct ftpw *fw, const char *in, char *out, size_t size)
{
	char		 buf[2 * P_PATH_LEN];
	char		*seg, *save = NULL, *slash;
	const char	*c;
	size_t		 len;

	for (c = in; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			errno = EINVAL;
			return -1;
		}
	if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", in[0] == '/' ? "" :
	    fw->fw_home, in) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strlcpy(out, "", size);
	len = 0;
	for (seg = strtok_r(buf, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			if ((slash = strrchr(out, '/')) != NULL)
				*slash = '\0';
			len = strlen(out);
			continue;
		}
		if (len + 1 + strlen(seg) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		len += snprintf(out + len, size - len, "/%s", seg);
	}
	if (len == 0)
		strlcpy(out, "/", size);
	return 0;
}

/* Split an absolute path into its directory and last name, in place. */
static const char *
ftpw_split(char *abs, char *dir, size_t size)
{
	char	*slash = strrchr(abs, '/');

	if (slash == abs)
		strlcpy(dir, "/", size);
	else {
		*slash = '\0';
		strlcpy(dir, abs, size);
		*slash = '/';
	}
	return slash + 1;
}

/* Fill r from a libcurl failure that has no more specific meaning. */
static void
ftpw_fail(struct ftpw *fw, CURLcode rc, struct dc_result *r)
{
	curl_off_t	 pre = 0;

	switch (rc) {
	case CURLE_LOGIN_DENIED:
		dc_result_set(r, 401, "auth_failed", "Authentication failed");
		r->r_session_lost = 1;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		dc_result_set(r, 504, "timeout", "Connection error: timed out");
		/* Timed out before the transfer began: the server is gone. */
		if (curl_easy_getinfo(fw->fw_curl, CURLINFO_PRETRANSFER_TIME_T,
		    &pre) == CURLE_OK && pre == 0)
			r->r_session_lost = 1;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_FTP_WEIRD_SERVER_REPLY:
		r->r_session_lost = 1;
		/* FALLTHROUGH */
	default:
		dc_result_set(r, 502, "connection_failed",
		    "Connection failed: %s", fw->fw_err);
		break;
	}
}

/* Was the failure about a path (missing, not allowed) rather than I/O? */
static int
ftpw_path_error(CURLcode rc)
{
	return rc == CURLE_REMOTE_ACCESS_DENIED ||
	    rc == CURLE_REMOTE_FILE_NOT_FOUND ||
	    rc == CURLE_FTP_COULDNT_RETR_FILE ||
	    rc == CURLE_UPLOAD_FAILED;
}

/* Send one command (NOOP, DELE ...) on the control connection. */
static CURLcode
ftpw_command(struct worker *w, const char *cmd)
{
	struct ftpw		*fw = w->w_state;
	struct curl_slist	*q;
	struct ftpw_op		 op;
	CURLcode		 rc;

	ftpw_op_init(&op, w, FTPW_M_DISCARD, -1);
	if ((q = curl_slist_append(NULL, cmd)) == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (ftpw_reset(fw, &op) == -1 || ftpw_url(fw, fw->fw_cwd,
	    NULL) == -1 || curl_easy_setopt(fw->fw_curl, CURLOPT_NOBODY,
	    1L) != CURLE_OK || curl_easy_setopt(fw->fw_curl, CURLOPT_QUOTE,
	    q) != CURLE_OK)
		rc = CURLE_FAILED_INIT;
	else
		rc = ftpw_perform(fw, &op);
	curl_easy_setopt(fw->fw_curl, CURLOPT_QUOTE, NULL);
	curl_slist_free_all(q);
	return rc;
}

/* Can we change into abs?  One CWD, no data connection. */
static CURLcode
ftpw_cwd(struct worker *w, const char *abs)
{
	struct ftpw	*fw = w->w_state;
	struct ftpw_op	 op;

	ftpw_op_init(&op, w, FTPW_M_DISCARD, -1);
	if (ftpw_reset(fw, &op) == -1 || ftpw_url(fw, abs, NULL) == -1 ||
	    curl_easy_setopt(fw->fw_curl, CURLOPT_NOBODY, 1L) != CURLE_OK)
		return CURLE_FAILED_INIT;
	return ftpw_perform(fw, &op);
}

/* One listing of directory abs with cmd, lines parsed into op. */
static CURLcode
ftpw_list_once(struct worker *w, const char *abs, struct ftpw_op *op,
    const char *cmd)
{
	struct ftpw	*fw = w->w_state;
	CURLcode	 rc;

	op->o_mlsd = strcmp(cmd, "MLSD") == 0;
	op->o_parsed = op->o_bad = 0;
	ftpl_lines_init(&op->o_lb);
	if (ftpw_reset(fw, op) == -1 || ftpw_url(fw, abs, NULL) == -1 ||
	    curl_easy_setopt(fw->fw_curl, CURLOPT_CUSTOMREQUEST, cmd) !=
	    CURLE_OK)
		return CURLE_FAILED_INIT;
	rc = ftpw_perform(fw, op);
	if (rc == CURLE_OK && ftpl_lines_end(&op->o_lb, ftpw_list_line,
	    op) != 0)
		rc = CURLE_WRITE_ERROR;
	return rc;
}

/*
 * List directory abs into op: MLSD when the server has it, else
 * "LIST -a" (the option makes vsftpd and others show dot files).  A
 * server that refuses "-a", or whose MLSD we cannot read, gets LIST
 * from then on.
 */
static CURLcode
ftpw_list_dir(struct worker *w, const char *abs, struct ftpw_op *op)
{
	struct ftpw	*fw = w->w_state;
	CURLcode	 rc;

	if (fw->fw_mlsd) {
		rc = ftpw_list_once(w, abs, op, "MLSD");
		if (rc != CURLE_OK || op->o_parsed > 0 || op->o_bad == 0)
			return rc;
		log_warnx("MLSD output not understood, using LIST");
		fw->fw_mlsd = 0;
	}
	if (fw->fw_nolista)
		return ftpw_list_once(w, abs, op, "LIST");
	rc = ftpw_list_once(w, abs, op, "LIST -a");
	if (rc == CURLE_FTP_COULDNT_RETR_FILE && op->o_entries == 0 &&
	    ftpw_list_once(w, abs, op, "LIST") == CURLE_OK) {
		fw->fw_nolista = 1;
		rc = CURLE_OK;
	}
	return rc;
}

/*
 * What abs is, when an operation on it failed: a directory if we can
 * enter it (skipcwd: we just failed to), otherwise whatever its
 * parent's listing says; behind a parent we may not enter, it is
 * FTPW_K_OTHER of unknown type.  Anything but CURLE_OK: the connection
 * failed.  depth bounds the walk up.
 */
static CURLcode
ftpw_probe(struct worker *w, const char *abs, int skipcwd, int depth,
    enum ftpw_kind *kind, int *type)
{
	struct ftpw_op	*op;
	char		 path[P_PATH_LEN], dir[P_PATH_LEN];
	CURLcode	 rc;
	int		 ptype;

	*kind = FTPW_K_MISSING;
	*type = -1;
	if (strcmp(abs, "/") == 0 || (!skipcwd &&
	    (rc = ftpw_cwd(w, abs)) == CURLE_OK)) {
		*kind = FTPW_K_DIR;
		*type = FTPL_T_DIR;
		return CURLE_OK;
	}
	if (!skipcwd && rc != CURLE_REMOTE_ACCESS_DENIED)
		return rc;
	if ((op = malloc(sizeof(*op))) == NULL)
		return CURLE_OUT_OF_MEMORY;
	strlcpy(path, abs, sizeof(path));
	ftpw_op_init(op, w, FTPW_M_FIND, -1);
	op->o_name = ftpw_split(path, dir, sizeof(dir));
	rc = ftpw_list_dir(w, dir, op);
	if (rc == CURLE_OK && op->o_found != -1) {
		*kind = FTPW_K_OTHER;
		*type = op->o_found;
	}
	free(op);
	if (rc == CURLE_REMOTE_ACCESS_DENIED && depth > 0) {
		rc = ftpw_probe(w, dir, 1, depth - 1, kind, &ptype);
		if (*kind != FTPW_K_OTHER)
			*kind = FTPW_K_MISSING;
	}
	return rc == CURLE_OK || ftpw_path_error(rc) ? CURLE_OK : rc;
}

/* One DC_ENTRY record: the fixed part, then name and link target. */
static int
ftpw_entry_write(int fd, const struct ftpl_entry *fe)
{
	struct dc_entry	 de;
	char		 buf[2 * FTPL_NAME_MAX];
	size_t		 nl, tl;

	nl = strlen(fe->fe_name);
	tl = strlen(fe->fe_target);
	memset(&de, 0, sizeof(de));
	de.e_size = fe->fe_size;
	de.e_mtime = fe->fe_mtime;
	de.e_mode = fe->fe_mode;
	if (fe->fe_flags & FTPL_F_IDS) {
		de.e_uid = fe->fe_uid;
		de.e_gid = fe->fe_gid;
		de.e_flags |= DC_E_HASID;
	}
	switch (fe->fe_type) {
	case FTPL_T_FILE:
		de.e_type = DC_T_FILE;
		break;
	case FTPL_T_DIR:
		de.e_type = DC_T_DIR;
		break;
	case FTPL_T_LINK:
		de.e_type = DC_T_LINK;
		break;
	default:
		de.e_type = DC_T_OTHER;
		break;
	}
	de.e_namelen = nl;
	de.e_targetlen = tl;
	strlcpy(de.e_owner, fe->fe_owner, sizeof(de.e_owner));
	strlcpy(de.e_group, fe->fe_group, sizeof(de.e_group));
	memcpy(buf, fe->fe_name, nl);
	memcpy(buf + nl, fe->fe_target, tl);
	return dc_write2(fd, DC_ENTRY, &de, sizeof(de), buf, nl + tl);
}

/* One listing line: an entry for the client, or the one we look for. */
static int
ftpw_list_line(const char *line, size_t len, void *arg)
{
	struct ftpw_op		*op = arg;
	struct ftpl_entry	*fe = &op->o_ent;
	int			 rv;

	if (op->o_mlsd)
		rv = ftpl_parse_mlsd(line, len, fe);
	else
		rv = ftpl_parse_list(line, len, op->o_now, fe);
	if (rv == -1)
		op->o_bad++;
	if (rv != 1)
		return 0;
	op->o_parsed++;
	if (op->o_mode == FTPW_M_FIND) {
		if (strcmp(fe->fe_name, op->o_name) == 0)
			op->o_found = fe->fe_type;
		return 0;
	}
	if (op->o_mode == FTPW_M_LIST) {
		if (ftpw_entry_write(op->o_fd, fe) == -1) {
			op->o_stop = FTPW_S_CHANNEL;
			return -1;
		}
		op->o_entries++;
	}
	return 0;
}

/* Downloaded bytes: FILEINFO before the first, then DC_DATA records. */
static int
ftpw_get_data(struct ftpw_op *op, const char *p, size_t len)
{
	struct ftpw		*fw = op->o_w->w_state;
	struct dc_fileinfo	 fi;
	curl_off_t		 cl = -1;
	size_t			 n;

	if (!op->o_info) {
		memset(&fi, 0, sizeof(fi));
		curl_easy_getinfo(fw->fw_curl,
		    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl >= 0) {
			fi.f_size = cl;
			fi.f_flags |= DC_F_SIZEKNOWN;
		}
		strlcpy(fi.f_name, op->o_name, sizeof(fi.f_name));
		if (dc_write(op->o_fd, DC_FILEINFO, &fi, sizeof(fi)) == -1)
			return -1;
		op->o_info = 1;
	}
	while (len > 0) {
		n = len > DC_MAX_RECORD ? DC_MAX_RECORD : len;
		if (dc_write(op->o_fd, DC_DATA, p, n) == -1)
			return -1;
		p += n;
		len -= n;
		op->o_bytes += n;
		op->o_w->w_bytes_in += n;
	}
	return 0;
}

/* libcurl has bytes for us: listing lines or file data. */
static size_t
ftpw_write_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct ftpw_op	*op = arg;
	size_t		 len = size * nitems;

	switch (op->o_mode) {
	case FTPW_M_LIST:
	case FTPW_M_FIND:
		if (ftpl_lines_feed(&op->o_lb, p, len, ftpw_list_line,
		    op) != 0)
			return 0;
		break;
	case FTPW_M_GET:
		if (ftpw_get_data(op, p, len) == -1) {
			op->o_stop = FTPW_S_CHANNEL;
			return 0;
		}
		break;
	default:
		break;
	}
	return len;
}

/* Next upload record header: DATA sets o_left, END ends the body. */
static int
ftpw_put_next(struct ftpw_op *op)
{
	struct dc_hdr	 h;

	while (op->o_left == 0) {
		if (dc_read_hdr(op->o_fd, &h) == -1) {
			op->o_stop = errno == EPIPE ? FTPW_S_ABORTED :
			    FTPW_S_CHANNEL;
			return -1;
		}
		if (h.kind == DC_END && h.len == 0) {
			op->o_end = 1;
			return 0;
		}
		if (h.kind != DC_DATA) {
			op->o_stop = FTPW_S_PROTO;
			return -1;
		}
		if (op->o_max > 0 && op->o_bytes + op->o_left + h.len >
		    op->o_max) {
			op->o_stop = FTPW_S_TOOBIG;
			return -1;
		}
		op->o_left = h.len;
	}
	return 0;
}

/* True when fd has bytes to read now. */
static int
ftpw_readable(int fd)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/*
 * libcurl wants upload bytes: whole records from the data channel, as
 * many as are there already, up to what libcurl can take.
 */
static size_t
ftpw_read_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct ftpw_op	*op = arg;
	size_t		 want = size * nitems, got = 0, n1;
	ssize_t		 n;

	if (op->o_mode != FTPW_M_PUT || op->o_end)
		return 0;
	if (op->o_stop != FTPW_S_NONE)
		return CURL_READFUNC_ABORT;
	do {
		if (ftpw_put_next(op) == -1)
			return got > 0 ? got : CURL_READFUNC_ABORT;
		if (op->o_end)
			break;
		n1 = want - got > op->o_left ? op->o_left : want - got;
		while (n1 > 0) {
			n = read(op->o_fd, p + got, n1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				op->o_stop = n == 0 ? FTPW_S_ABORTED :
				    FTPW_S_CHANNEL;
				return got > 0 ? got : CURL_READFUNC_ABORT;
			}
			got += n;
			n1 -= n;
			op->o_left -= n;
			op->o_bytes += n;
			op->o_w->w_bytes_out += n;
		}
	} while (got < want && ftpw_readable(op->o_fd));
	return got;
}

/* The one transfer at open: log in, FEAT, LIST of the login directory. */
static CURLcode
ftpw_login(struct worker *w)
{
	struct ftpw		*fw = w->w_state;
	struct curl_slist	*q, *t;
	struct ftpw_op		 op;
	CURLcode		 rc;

	/*
	 * "*": a server without FEAT or MLST is no error.  MLSD servers
	 * send only some facts unless asked; unknown ones are ignored.
	 */
	if ((q = curl_slist_append(NULL, "*FEAT")) == NULL)
		return CURLE_OUT_OF_MEMORY;
	if ((t = curl_slist_append(q, "*OPTS MLST type;size;modify;"
	    "unix.mode;unix.owner;unix.group;unix.ownername;unix.groupname;"
	    "unix.uid;unix.gid;")) == NULL) {
		curl_slist_free_all(q);
		return CURLE_OUT_OF_MEMORY;
	}
	q = t;
	ftpw_op_init(&op, w, FTPW_M_DISCARD, -1);
	fw->fw_feat = 1;
	if (ftpw_reset(fw, &op) == -1 ||
	    curl_easy_setopt(fw->fw_curl, CURLOPT_URL, fw->fw_origin) !=
	    CURLE_OK || curl_easy_setopt(fw->fw_curl, CURLOPT_QUOTE, q) !=
	    CURLE_OK || curl_easy_setopt(fw->fw_curl, CURLOPT_CUSTOMREQUEST,
	    "LIST") != CURLE_OK)
		rc = CURLE_FAILED_INIT;
	else
		rc = ftpw_perform(fw, &op);
	fw->fw_feat = 0;
	curl_easy_setopt(fw->fw_curl, CURLOPT_QUOTE, NULL);
	curl_slist_free_all(q);
	return rc;
}

/* Does a login refusal say that the server wants TLS first? */
static int
ftpw_wants_tls(const char *reply)
{
	return strncmp(reply, "534", 3) == 0 ||
	    strcasestr(reply, "TLS") != NULL ||
	    strcasestr(reply, "SSL") != NULL ||
	    strcasestr(reply, "encrypt") != NULL;
}

/*
 * Log in and list the login directory once, so that bad credentials
 * and broken data connections show at open time.  FEAT tells whether
 * MLSD is there; libcurl's PWD gives the login directory.
 */
static int
ftpw_auth(struct worker *w, struct msg_w_auth *a, struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	const char	*entry = NULL;
	CURLcode	 rc;

	/*
	 * XXX libcurl keeps its own copies of the password (the handle's
	 * and the connection's) so that it can log in again when the
	 * server drops an idle control connection; they stay in this
	 * process's memory until it exits.  Only our copy is wiped.
	 */
	rc = curl_easy_setopt(fw->fw_curl, CURLOPT_USERNAME, a->username);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(fw->fw_curl, CURLOPT_PASSWORD,
		    a->password);
	explicit_bzero(a->password, sizeof(a->password));
	if (rc != CURLE_OK) {
		dc_result_set(r, 500, "internal", "FTP setup failed");
		return -1;
	}

	if ((rc = ftpw_login(w)) != CURLE_OK) {
		if (rc == CURLE_LOGIN_DENIED)
			log_info("%s: login refused: %s", w->w_start.id,
			    fw->fw_reply);
		if (rc == CURLE_LOGIN_DENIED &&
		    w->w_start.tls == FTP_TLS_NONE &&
		    ftpw_wants_tls(fw->fw_reply)) {
			/* Not the credentials: the client must ask for TLS. */
			dc_result_set(r, 502, "connection_failed",
			    "Connection failed: the server requires TLS (%s)",
			    fw->fw_reply);
			r->r_session_lost = 1;
		} else
			ftpw_fail(fw, rc, r);
		return -1;
	}
	if (curl_easy_getinfo(fw->fw_curl, CURLINFO_FTP_ENTRY_PATH,
	    &entry) == CURLE_OK && entry != NULL && entry[0] == '/')
		ftpw_path(fw, entry, fw->fw_home, sizeof(fw->fw_home));
	strlcpy(fw->fw_cwd, fw->fw_home, sizeof(fw->fw_cwd));
	log_debug("%s: logged in, home %s, %s", w->w_start.id, fw->fw_home,
	    fw->fw_mlsd ? "MLSD" : "LIST");
	return 0;
}

/* A path the client sent, made absolute, or r set to 400. */
static int
ftpw_op_path(struct ftpw *fw, const char *in, char *abs, size_t size,
    struct dc_result *r)
{
	if (ftpw_path(fw, in, abs, size) == -1) {
		dc_result_set(r, 400, "invalid_request", "Invalid path");
		return -1;
	}
	strlcpy(r->r_path, abs, sizeof(r->r_path));
	return 0;
}

/* A failed operation on abs: tell missing from forbidden from I/O. */
static void
ftpw_path_fail(struct worker *w, CURLcode rc, const char *abs, int want,
    struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	char		 msg[FTPW_REPLY_LEN];
	enum ftpw_kind	 kind;
	int		 type;

	if (!ftpw_path_error(rc)) {
		ftpw_fail(fw, rc, r);
		return;
	}
	strlcpy(msg, fw->fw_reply, sizeof(msg));
	/* A listing that failed to change into abs needs no second try. */
	rc = ftpw_probe(w, abs, want == FTPL_T_DIR &&
	    rc == CURLE_REMOTE_ACCESS_DENIED, 1, &kind, &type);
	if (rc != CURLE_OK) {
		ftpw_fail(fw, rc, r);
		return;
	}
	switch (kind) {
	case FTPW_K_MISSING:
		dc_result_set(r, 404, "not_found", "%s not found: %s",
		    want == FTPL_T_DIR ? "Directory" : "File", abs);
		break;
	case FTPW_K_DIR:
		if (want != FTPL_T_DIR) {
			dc_result_set(r, 400, "invalid_request",
			    "Path is a directory: %s", abs);
			break;
		}
		/* FALLTHROUGH */
	default:
		if (want == FTPL_T_DIR && type != -1 && type != FTPL_T_DIR &&
		    type != FTPL_T_LINK)
			dc_result_set(r, 400, "invalid_request",
			    "Not a directory: %s", abs);
		else
			dc_result_set(r, 403, "permission_denied",
			    "Permission denied: %s", msg);
		break;
	}
}

/* Listing: DC_ENTRY records as the lines arrive. */
static void
ftpw_list(struct worker *w, const struct msg_op *o, int fd,
    struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	struct ftpw_op	*op;
	char		 abs[P_PATH_LEN];
	CURLcode	 rc;

	if (ftpw_op_path(fw, o->path, abs, sizeof(abs), r) == -1)
		return;
	if ((op = malloc(sizeof(*op))) == NULL) {
		dc_result_set(r, 500, "internal", "Out of memory");
		return;
	}
	ftpw_op_init(op, w, FTPW_M_LIST, fd);
	rc = ftpw_list_dir(w, abs, op);
	if (op->o_bad > 0)
		log_debug("%s: %llu listing lines not understood", abs,
		    (unsigned long long)op->o_bad);
	if (rc == CURLE_OK)
		dc_result_set(r, 200, "", "%llu entries",
		    (unsigned long long)op->o_entries);
	else if (op->o_stop == FTPW_S_CHANNEL)
		dc_result_set(r, 500, "internal", "Data channel closed");
	else
		ftpw_path_fail(w, rc, abs, FTPL_T_DIR, r);
	free(op);
}

/*
 * Download: libcurl sends SIZE then RETR; FILEINFO goes out with the
 * first byte (or at the end for an empty file), so that a missing or
 * unreadable file still gets a clean error.
 */
static void
ftpw_download(struct worker *w, const struct msg_op *o, int fd,
    struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	struct ftpw_op	 op;
	char		 abs[P_PATH_LEN], dir[P_PATH_LEN], path[P_PATH_LEN];
	CURLcode	 rc;

	if (ftpw_op_path(fw, o->path, abs, sizeof(abs), r) == -1)
		return;
	if (strcmp(abs, "/") == 0) {
		dc_result_set(r, 400, "invalid_request",
		    "Path is a directory: /");
		return;
	}
	strlcpy(path, abs, sizeof(path));
	ftpw_op_init(&op, w, FTPW_M_GET, fd);
	op.o_name = ftpw_split(path, dir, sizeof(dir));
	if (ftpw_reset(fw, &op) == -1 || ftpw_url(fw, dir, op.o_name) == -1)
		rc = CURLE_FAILED_INIT;
	else
		rc = ftpw_perform(fw, &op);
	if (rc == CURLE_OK && !op.o_info && ftpw_get_data(&op, "", 0) == -1)
		op.o_stop = FTPW_S_CHANNEL;

	r->r_size = op.o_bytes;
	if (rc == CURLE_OK && op.o_stop == FTPW_S_NONE)
		dc_result_set(r, 200, "", "Downloaded");
	else if (op.o_stop == FTPW_S_CHANNEL)
		dc_result_set(r, 500, "internal", "Data channel closed");
	else if (op.o_info) {
		/* Bytes went out already: the front must abort. */
		dc_result_set(r, 502, "connection_failed",
		    "Connection failed: transfer interrupted: %s",
		    fw->fw_err);
	} else
		ftpw_path_fail(w, rc, abs, FTPL_T_FILE, r);
}

/* A client's file name for an upload: one plain path component. */
static int
ftpw_name_ok(const char *name)
{
	const char	*p;

	if (name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) > 255)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Where an upload goes: path/filename when path is a directory. */
static int
ftpw_put_target(struct worker *w, const struct msg_op *o, char *abs,
    size_t size, struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	char		 dir[P_PATH_LEN];
	CURLcode	 rc = CURLE_OK;

	if (ftpw_op_path(fw, o->path, dir, sizeof(dir), r) == -1)
		return -1;
	if (strcmp(dir, "/") != 0 && (rc = ftpw_cwd(w, dir)) != CURLE_OK &&
	    rc != CURLE_REMOTE_ACCESS_DENIED) {
		ftpw_fail(fw, rc, r);
		return -1;
	}
	if (rc == CURLE_OK) {
		if (!ftpw_name_ok(o->filename)) {
			dc_result_set(r, 400, "invalid_request",
			    "Invalid file name");
			return -1;
		}
		if ((size_t)snprintf(abs, size, "%s/%s", strcmp(dir, "/") ?
		    dir : "", o->filename) >= size) {
			dc_result_set(r, 400, "invalid_request",
			    "Path too long");
			return -1;
		}
	} else
		strlcpy(abs, dir, size);
	strlcpy(r->r_path, abs, sizeof(r->r_path));
	return 0;
}

/*
 * RNFR or RNTO failed.  A directory in the way is the client's mistake;
 * otherwise the server cannot rename, and we cannot upload safely.
 */
static void
ftpw_put_renamefail(struct worker *w, struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;
	char		 msg[FTPW_REPLY_LEN];
	enum ftpw_kind	 kind;
	int		 type;

	strlcpy(msg, fw->fw_reply, sizeof(msg));
	if (ftpw_probe(w, r->r_path, 0, 0, &kind, &type) == CURLE_OK &&
	    (kind == FTPW_K_DIR || type == FTPL_T_DIR)) {
		dc_result_set(r, kind == FTPW_K_DIR ? 400 : 403,
		    kind == FTPW_K_DIR ? "invalid_request" :
		    "permission_denied", "%s: %s",
		    kind == FTPW_K_DIR ? "Path is a directory" :
		    "Permission denied", r->r_path);
		return;
	}
	dc_result_set(r, 502, "connection_failed",
	    "Connection failed: the server refused to rename the uploaded "
	    "file (%s); uploads need RNFR/RNTO", msg);
}

/* The upload's result once the transfer ended. */
static void
ftpw_put_result(struct worker *w, CURLcode rc, struct ftpw_op *op,
    const char *dir, struct dc_result *r)
{
	struct ftpw	*fw = w->w_state;

	switch (op->o_stop) {
	case FTPW_S_TOOBIG:
		dc_result_set(r, 413, "too_large",
		    "File exceeds the upload limit of %llu bytes",
		    (unsigned long long)op->o_max);
		return;
	case FTPW_S_ABORTED:
		dc_result_set(r, 400, "invalid_request", "Upload aborted");
		return;
	case FTPW_S_PROTO:
		dc_result_set(r, 400, "invalid_request",
		    "Bad record on the data channel");
		return;
	case FTPW_S_CHANNEL:
		dc_result_set(r, 500, "internal", "Data channel failed");
		return;
	}
	if (rc == CURLE_QUOTE_ERROR)
		ftpw_put_renamefail(w, r);
	else if (rc == CURLE_UPLOAD_FAILED)
		dc_result_set(r, 403, "permission_denied",
		    "Permission denied: %s", fw->fw_reply);
	else
		ftpw_path_fail(w, rc, dir, FTPL_T_DIR, r);
}

/* STOR to tmp (a name in dir), then RNFR tmppath, RNTO abs. */
static CURLcode
ftpw_put_run(struct worker *w, struct ftpw_op *op, const char *dir,
    const char *tmp, const char *tmppath, const char *abs)
{
	struct ftpw		*fw = w->w_state;
	struct curl_slist	*pq = NULL, *t;
	char			 cmd[P_PATH_LEN + 8];
	CURLcode		 rc = CURLE_OUT_OF_MEMORY;

	snprintf(cmd, sizeof(cmd), "RNFR %s", tmppath);
	if ((t = curl_slist_append(pq, cmd)) == NULL)
		return rc;
	pq = t;
	snprintf(cmd, sizeof(cmd), "RNTO %s", abs);
	if ((t = curl_slist_append(pq, cmd)) == NULL)
		goto out;
	pq = t;
	if (ftpw_reset(fw, op) == -1 || ftpw_url(fw, dir, tmp) == -1 ||
	    curl_easy_setopt(fw->fw_curl, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(fw->fw_curl, CURLOPT_POSTQUOTE, pq) != CURLE_OK)
		rc = CURLE_FAILED_INIT;
	else
		rc = ftpw_perform(fw, op);
 out:
	curl_easy_setopt(fw->fw_curl, CURLOPT_POSTQUOTE, NULL);
	curl_slist_free_all(pq);
	return rc;
}

/*
 * Upload: STOR to a hidden temporary name in the target directory,
 * reading DC_DATA records as libcurl asks for bytes, then RNFR/RNTO
 * onto the real name (POSTQUOTE runs only after a complete transfer).
 * Anything else deletes the temporary file.
 */
static void
ftpw_upload(struct worker *w, const struct msg_op *o, int fd,
    struct dc_result *r)
{
	struct ftpw_op	 op;
	char		 abs[P_PATH_LEN], dir[P_PATH_LEN], tmp[64];
	char		 tmppath[P_PATH_LEN], cmd[P_PATH_LEN + 8];
	CURLcode	 rc;

	if (ftpw_put_target(w, o, abs, sizeof(abs), r) == -1)
		return;
	ftpw_split(abs, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), ".coreastra-upload-%08x.part",
	    arc4random());
	if ((size_t)snprintf(tmppath, sizeof(tmppath), "%s/%s",
	    strcmp(dir, "/") ? dir : "", tmp) >= sizeof(tmppath)) {
		dc_result_set(r, 400, "invalid_request", "Path too long");
		return;
	}
	ftpw_op_init(&op, w, FTPW_M_PUT, fd);
	op.o_max = o->max_size;
	rc = ftpw_put_run(w, &op, dir, tmp, tmppath, abs);
	r->r_size = op.o_bytes;
	if (rc == CURLE_OK && op.o_stop == FTPW_S_NONE) {
		dc_result_set(r, 201, "", "Uploaded");
		return;
	}
	ftpw_put_result(w, rc, &op, dir, r);
	if (rc == CURLE_REMOTE_ACCESS_DENIED || rc == CURLE_UPLOAD_FAILED)
		return;		/* no CWD or no STOR: no file either */

	/* Best effort: the temporary file may not even exist. */
	snprintf(cmd, sizeof(cmd), "*DELE %s", tmppath);
	if ((rc = ftpw_command(w, cmd)) != CURLE_OK)
		log_debug("%s: cleanup: %s", dir, curl_easy_strerror(rc));
}

/* No remote commands over FTP. */
static void
ftpw_exec(struct worker *w, const struct msg_op *o, int fd,
    struct dc_result *r)
{
	(void)w;
	(void)o;
	(void)fd;
	dc_result_set(r, 501, "not_supported",
	    "Execute is not supported on FTP sessions");
}

/* NOOP when idle for the keepalive interval; 0 = no keepalive. */
static int
ftpw_keepalive(struct worker *w)
{
	struct ftpw	*fw = w->w_state;
	uint64_t	 idle, ival = (uint64_t)w->w_start.keepalive * 1000;
	CURLcode	 rc;

	if (fw == NULL || ival == 0)
		return 0;
	idle = mono_ms() - fw->fw_last;
	if (idle < ival)
		return (int)((ival - idle + 999) / 1000);
	if ((rc = ftpw_command(w, "NOOP")) != CURLE_OK)
		log_debug("%s: keepalive: %s", w->w_start.id, fw->fw_err);
	return (int)w->w_start.keepalive;
}

/* QUIT (libcurl sends it when the handle goes) and free everything. */
static void
ftpw_close(struct worker *w)
{
	struct ftpw	*fw = w->w_state;

	if (fw == NULL)
		return;
	if (fw->fw_curl != NULL)
		curl_easy_cleanup(fw->fw_curl);
	/* Closing the cached control connection sends QUIT. */
	if (fw->fw_multi != NULL)
		curl_multi_cleanup(fw->fw_multi);
	curl_slist_free_all(fw->fw_resolve);
	freezero(fw->fw_ca, fw->fw_calen);
	freezero(fw, sizeof(*fw));
	w->w_state = NULL;
	if (w->w_sock != -1) {
		close(w->w_sock);
		w->w_sock = -1;
	}
}
