/*
 * The worker process: one per remote session.  It is sandboxed before
 * it reads a byte from the network, then runs the backend for its
 * protocol one operation at a time, as the parent hands them over.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"
#include "worker.h"

#define WORKER_NOFILE	64
#define WORKER_AS	(2ULL << 30)

static struct imsgbuf	 worker_ib;

/*
 * OpenSSL allocations, wiped when freed: private keys and passphrases
 * are decoded in OpenSSL's own buffers.  A header keeps each size.
 */
#define WORKER_OSSL_HDR	16

static void *
worker_ossl_malloc(size_t n, const char *file, int line)
{
	unsigned char	*p;

	(void)file;
	(void)line;
	if (n > SIZE_MAX - WORKER_OSSL_HDR ||
	    (p = malloc(n + WORKER_OSSL_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + WORKER_OSSL_HDR;
}

static void
worker_ossl_free(void *ptr, const char *file, int line)
{
	unsigned char	*p = ptr;
	size_t		 n;

	(void)file;
	(void)line;
	if (p == NULL)
		return;
	p -= WORKER_OSSL_HDR;
	memcpy(&n, p, sizeof(n));
	freezero(p, n + WORKER_OSSL_HDR);
}

static void *
worker_ossl_realloc(void *ptr, size_t n, const char *file, int line)
{
	unsigned char	*np;
	size_t		 old;

	if (ptr == NULL)
		return worker_ossl_malloc(n, file, line);
	if (n == 0) {
		worker_ossl_free(ptr, file, line);
		return NULL;
	}
	if ((np = worker_ossl_malloc(n, file, line)) == NULL)
		return NULL;
	memcpy(&old, (unsigned char *)ptr - WORKER_OSSL_HDR, sizeof(old));
	memcpy(np, ptr, old < n ? old : n);
	worker_ossl_free(ptr, file, line);
	return np;
}

static void
worker_send(uint32_t type, const void *data, size_t len)
{
	if (imsg_compose(&worker_ib, type, 0, -1, data, len) == -1 ||
	    imsg_flush_blocking(&worker_ib) == -1)
		fatal("send to parent");
}

/* Report a failed open to the parent and stop. */
static void __attribute__((__noreturn__))
worker_fail(const struct dc_result *r)
{
	struct msg_error	 e;

	memset(&e, 0, sizeof(e));
	e.status = r->r_status >= 400 ? r->r_status : 502;
	strlcpy(e.code, r->r_code[0] ? r->r_code : "connection_failed",
	    sizeof(e.code));
	strlcpy(e.message, r->r_message, sizeof(e.message));
	worker_send(IMSG_W_FAILED, &e, sizeof(e));
	exit(0);
}

/* Wait for the next message from the parent (or a timeout: 0). */
static int
worker_recv(struct imsg *im, int timeout_ms)
{
	int	 rv;

	if ((rv = imsg_get_blocking(&worker_ib, im, timeout_ms)) == -1) {
		if (errno == EPIPE)
			fatalx("parent went away");
		fatal("message from parent");
	}
	return rv;
}

/* Receive a message that must be of this type and size. */
static void
worker_expect(struct imsg *im, uint32_t type, size_t len)
{
	worker_recv(im, -1);
	if (im->hdr.type != type || im->hdr.len != len || im->fd != -1)
		fatalx("unexpected message %u from parent", im->hdr.type);
}

/* Enter the sandbox the parent described (the IMSG_SANDBOX im). */
static void
worker_sandbox(struct imsg *im, const char *role)
{
	struct sandbox_conf	 sc;
	struct msg_sandbox	*sb = im->data;
	int			 i;

	if (!STR_BOUNDED(sb->user) || !STR_BOUNDED(sb->chroot) ||
	    sb->nports > 4)
		fatalx("bad sandbox message");
	memset(&sc, 0, sizeof(sc));
	sc.sc_user = sb->user;
	sc.sc_chroot = sb->chroot;
	sc.sc_nofile = WORKER_NOFILE;
	sc.sc_as = WORKER_AS;
	for (i = 0; i < (int)sb->nports; i++)
		sc.sc_ports[i] = sb->ports[i];
	sc.sc_nports = sb->nports;
	sandbox_enter(strcmp(role, "ssh") == 0 ? SANDBOX_SSH : SANDBOX_FTP,
	    &sc);
	imsg_free(im);
}

/* Handshake, host key, login: the session is ready or we exit. */
static void
worker_open(struct worker *w)
{
	struct msg_w_hostkey	 hk;
	struct dc_result	 r;
	struct imsg		 im;

	worker_expect(&im, IMSG_W_START, sizeof(struct msg_w_start));
	memcpy(&w->w_start, im.data, sizeof(w->w_start));
	imsg_free(&im);
	if (!STR_BOUNDED(w->w_start.id) || !STR_BOUNDED(w->w_start.host) ||
	    !STR_BOUNDED(w->w_start.addr))
		fatalx("bad start message");
	setproctitle("%s worker %s:%u", w->w_be->wb_name, w->w_start.host,
	    w->w_start.port);

	memset(&hk, 0, sizeof(hk));
	memset(&r, 0, sizeof(r));
	if (w->w_be->wb_handshake(w, &hk, &r) == -1)
		worker_fail(&r);
	worker_send(IMSG_W_HOSTKEY, &hk, sizeof(hk));

	worker_expect(&im, IMSG_W_AUTH, sizeof(struct msg_w_auth));
	if (w->w_be->wb_auth(w, im.data, &r) == -1) {
		imsg_free(&im);
		worker_fail(&r);
	}
	imsg_free(&im);
	worker_send(IMSG_W_READY, NULL, 0);
}

/* Run one operation on its data channel and report to the parent. */
static void
worker_op(struct worker *w, struct imsg *im)
{
	struct msg_op		*op = im->data;
	struct msg_w_done	 d;
	struct dc_result	 r;
	uint64_t		 in = w->w_bytes_in, out = w->w_bytes_out;
	uint64_t		 start = mono_ms();
	int			 chan = imsg_take_fd(im);

	if (!STR_BOUNDED(op->path) || !STR_BOUNDED(op->filename) ||
	    !STR_BOUNDED(op->command))
		fatalx("bad operation message");
	memset(&r, 0, sizeof(r));
	r.r_status = 200;
	r.r_exit_code = -1;
	switch (op->op) {
	case OP_LIST:
		w->w_be->wb_list(w, op, chan, &r);
		break;
	case OP_DOWNLOAD:
		w->w_be->wb_download(w, op, chan, &r);
		break;
	case OP_UPLOAD:
		w->w_be->wb_upload(w, op, chan, &r);
		break;
	case OP_EXEC:
		w->w_be->wb_exec(w, op, chan, &r);
		break;
	default:
		fatalx("unknown operation %u", op->op);
	}
	if (r.r_duration_ms == 0)
		r.r_duration_ms = mono_ms() - start;
	if (r.r_status >= 400 && w->w_be->wb_alive != NULL &&
	    !w->w_be->wb_alive(w))
		r.r_session_lost = 1;
	/* The front may be gone; the parent still needs to hear. */
	(void)dc_write(chan, DC_RESULT, &r, sizeof(r));
	close(chan);

	memset(&d, 0, sizeof(d));
	d.opid = op->reqid;
	d.status = r.r_status;
	d.session_lost = r.r_session_lost;
	d.bytes_in = w->w_bytes_in - in;
	d.bytes_out = w->w_bytes_out - out;
	worker_send(IMSG_W_OP_DONE, &d, sizeof(d));
}

/* Operations until the parent says goodbye. */
static void __attribute__((__noreturn__))
worker_loop(struct worker *w)
{
	struct imsg	 im;
	int		 next = 0;

	for (;;) {
		if (w->w_be->wb_keepalive != NULL && next <= 0 &&
		    (next = w->w_be->wb_keepalive(w)) == -1) {
			/* The parent reaps us and ends the session. */
			log_info("session %s: remote connection lost",
			    w->w_start.id);
			exit(1);
		}
		if (worker_recv(&im, next > 0 ? next * 1000 : -1) == 0) {
			next = 0;
			continue;
		}
		switch (im.hdr.type) {
		case IMSG_W_OP:
			if (im.hdr.len != sizeof(struct msg_op) || im.fd == -1)
				fatalx("bad operation message");
			worker_op(w, &im);
			break;
		case IMSG_LOG_VERBOSE:
			if (im.hdr.len != sizeof(struct msg_count))
				fatalx("bad verbosity message");
			log_setverbose(((struct msg_count *)im.data)->count);
			break;
		case IMSG_W_CLOSE:
			if (w->w_be->wb_close != NULL)
				w->w_be->wb_close(w);
			exit(0);
		default:
			fatalx("unexpected message %u", im.hdr.type);
		}
		imsg_free(&im);
	}
}

static void
worker_ossl_wipe(void)
{
	/* Before anything allocates through OpenSSL. */
	if (!CRYPTO_set_mem_functions(worker_ossl_malloc, worker_ossl_realloc,
	    worker_ossl_free))
		log_warnx("cannot wipe OpenSSL's memory: it allocated early");
}

/*
 * Library set-up for both backends.  The spawner calls this once, so
 * that what it allocates and relocates is shared by every worker it
 * forks; OpenSSL reseeds its generators in each child by itself.
 */
void
worker_preload(void)
{
	worker_ossl_wipe();
	if (worker_ssh_backend.wb_global() == -1 ||
	    worker_ftp_backend.wb_global() == -1)
		fatalx("library initialisation failed");
}

/*
 * A worker on descriptors 3 (parent), 4 (remote) and maybe 5 (CA).
 * parent is 0 in an exec'd worker.  A worker the spawner forked gets
 * the daemon's pid: it is orphaned into the daemon's care on its way,
 * so it ties its life to the daemon only once the parent writes to it,
 * which the parent does after the spawner has reported it.
 */
void
worker_main(const char *role, pid_t parent)
{
	static struct worker	 w;
	struct imsg		 sb;
	char			 name[32];

	if (parent == 0) {
		worker_ossl_wipe();
		proc_child_setup();
	}
	if (imsgbuf_init(&worker_ib, PROC_FD_PARENT) == -1)
		fatal("imsgbuf_init");
	proc_log_to(&worker_ib);
	snprintf(name, sizeof(name), "%s worker", role);
	log_procname(strdup(name));
	worker_expect(&sb, IMSG_SANDBOX, sizeof(struct msg_sandbox));
	if (parent != 0) {
		proc_child_setup();
		if (getppid() != parent)
			fatalx("parent is gone");
	}
	memset(&w, 0, sizeof(w));
	w.w_parent = PROC_FD_PARENT;
	w.w_sock = PROC_FD_REMOTE;
	w.w_cafd = fcntl(PROC_FD_CA, F_GETFD) != -1 ? PROC_FD_CA : -1;
	w.w_be = strcmp(role, "ssh") == 0 ? &worker_ssh_backend :
	    &worker_ftp_backend;
	if (w.w_be->wb_preinit != NULL && w.w_be->wb_preinit(&w) == -1)
		fatalx("%s initialisation failed", role);
	worker_sandbox(&sb, role);
	worker_open(&w);
	worker_loop(&w);
}
