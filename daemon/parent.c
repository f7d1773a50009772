/*
 * The parent process: starts and restarts the front, opens sessions
 * (resolve, connect, spawn a worker, check the host key, hand over the
 * credentials), queues operations per session and hands each one a data
 * channel, expires idle sessions, and reaps children.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "connect.h"
#include "coreastra_proto.h"
#include "knownhosts.h"
#include "log.h"
#include "parent.h"
#include "util.h"

#define PARENT_KILL_GRACE	3	/* seconds before SIGKILL on close */
#define PARENT_SWEEP_SECS	1

struct parent	*parent_env;

static void	parent_front_start(void);
static void	parent_op_next(struct session *);

/* Payload exactly the struct's size, else the child is misbehaving. */
#define IMSG_IS(im, T)	((im)->hdr.len == sizeof(T))

static void
parent_reply(uint32_t front, uint32_t type, uint32_t reqid, int fd,
    const void *data, size_t len)
{
	struct parent	*env = parent_env;

	if (!env->p_front_up || front != env->p_front_gen) {
		if (fd != -1)
			close(fd);
		return;
	}
	(void)reqid;
	if (peer_compose(&env->p_front, type, 0, fd, data, len) == -1)
		log_warn("reply to front");
}

static void
parent_error(uint32_t front, uint32_t reqid, int status, const char *code,
    const char *fmt, ...) __attribute__((__format__ (printf, 5, 6)));

/* Answer a front request with an error in the API's format. */
static void
parent_error(uint32_t front, uint32_t reqid, int status, const char *code,
    const char *fmt, ...)
{
	struct msg_error m;
	va_list		 ap;

	memset(&m, 0, sizeof(m));
	m.reqid = reqid;
	m.status = status;
	strlcpy(m.code, code, sizeof(m.code));
	va_start(ap, fmt);
	vsnprintf(m.message, sizeof(m.message), fmt, ap);
	va_end(ap);
	parent_reply(front, IMSG_REP_ERROR, reqid, -1, &m, sizeof(m));
}

static void
parent_not_found(uint32_t reqid)
{
	parent_error(parent_env->p_front_gen, reqid, 404, "session_not_found",
	    "Session expired or not found");
}

static const char *
parent_type_name(enum sess_type t)
{
	return t == SESS_SSH ? "ssh" : "ftp";
}

/* A child's log line; it may not claim more than LOG_ERR. */
static void
parent_child_log(const struct msg_log *l)
{
	int	 pri = l->pri & 7;

	logit(pri < LOG_ERR ? LOG_ERR : pri, "%s", l->line);
}

/*
 * A host name or address as the front validated it: letters, digits,
 * '.', '-', ':', '_', not starting with '-'.  Checked again here since
 * it is written to the known hosts file.
 */
static int
parent_host_ok(const char *host)
{
	size_t	 i;

	if (host[0] == '\0' || host[0] == '-')
		return 0;
	for (i = 0; host[i] != '\0'; i++)
		if (!isalnum((unsigned char)host[i]) &&
		    strchr(".-:_", host[i]) == NULL)
			return 0;
	return 1;
}

/* Codes a worker may give for a failed open. */
static const char *
parent_open_code(const char *code)
{
	static const char *const ok[] = { "auth_failed", "connection_failed",
	    "timeout", "invalid_request", "not_supported", "internal" };
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(code, ok[i]) == 0)
			return ok[i];
	return "connection_failed";
}

/* Kill a worker that has not exited after being asked to. */
static void
parent_kill_timer(int fd, short ev, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)ev;
	if (s->s_pid > 0) {
		log_warnx("session %s: worker %d did not exit, killing it",
		    s->s_id, (int)s->s_pid);
		kill(s->s_pid, SIGKILL);
	}
}

/* Fail every operation still waiting on a session that is going away. */
static void
parent_fail_ops(struct session *s)
{
	struct op	*o;

	while ((o = sess_op_head(s)) != NULL) {
		/* The running one's front learns from its data channel. */
		if (!(s->s_state == SESS_BUSY && o == TAILQ_FIRST(&s->s_ops)))
			parent_error(o->o_front, o->o_reqid, 404,
			    "session_not_found",
			    "Session expired or not found");
		s->s_state = SESS_DEAD;
		sess_op_pop(s);
	}
}

static void
parent_wipe_auth(struct session *s)
{
	if (s->s_auth != NULL) {
		freezero(s->s_auth, sizeof(struct msg_w_auth));
		s->s_auth = NULL;
	}
}

/*
 * End a session: it leaves the table at once (later calls get 404); its
 * worker is asked to say goodbye and killed if it lingers.
 */
void
parent_sess_close(struct session *s, const char *reason)
{
	struct parent	*env = parent_env;
	struct timeval	 tv = { PARENT_KILL_GRACE, 0 };

	if (!s->s_linked)
		return;
	if (s->s_state != SESS_CONNECTING)
		log_info("session %s closed: %s %s@%s:%u: %s", s->s_id,
		    parent_type_name(s->s_type), s->s_user, s->s_host,
		    s->s_port, reason);
	parent_fail_ops(s);
	parent_wipe_auth(s);
	if (s->s_conn != NULL) {
		conn_cancel(s->s_conn);
		s->s_conn = NULL;
	}
	if (s->s_opentimer != NULL) {
		event_free(s->s_opentimer);
		s->s_opentimer = NULL;
	}
	s->s_state = SESS_DEAD;
	sess_unlink(s);
	if (s->s_spawn != NULL) {
		/* The spawner's answer finds no session and kills it. */
		s->s_spawn->sr_sess = NULL;
		s->s_spawn = NULL;
	}
	if (s->s_pid <= 0) {
		if (s->s_has_peer)
			peer_free(&s->s_peer);
		sess_free(s);
		return;
	}
	if (s->s_has_peer && !s->s_peer.p_dead)
		peer_compose(&s->s_peer, IMSG_W_CLOSE, 0, -1, NULL, 0);
	s->s_killtimer = evtimer_new(proc_base, parent_kill_timer, s);
	if (s->s_killtimer != NULL)
		evtimer_add(s->s_killtimer, &tv);
	TAILQ_INSERT_TAIL(&env->p_dying, s, s_dying);
}

/* An open failed: answer the front and drop the session. */
static void
parent_open_fail(struct session *s, int status, const char *code,
    const char *msg)
{
	parent_env->p_stats.sessions_failed++;
	log_info("session %s open failed: %s %s@%s:%u: %s", s->s_id,
	    parent_type_name(s->s_type), s->s_user, s->s_host, s->s_port,
	    msg);
	parent_error(s->s_open_front, s->s_open_reqid, status, code, "%s",
	    msg);
	parent_sess_close(s, msg);
}

static void
parent_open_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	parent_open_fail(arg, 504, "timeout", "Connection error: timed out");
}

static void
parent_worker_closed(struct peer *p, const char *why)
{
	struct session	*s = p->p_arg;

	log_debug("session %s: worker channel: %s", s->s_id, why);
	if (s->s_pid > 0)
		kill(s->s_pid, SIGKILL);
}

/* Misbehaving worker: treat it as compromised. */
static void
parent_worker_bad(struct session *s, const char *why, uint32_t type)
{
	log_warnx("session %s: worker %d sent %s (type %u): killing it",
	    s->s_id, (int)s->s_pid, why, type);
	if (s->s_has_peer)
		peer_stop(&s->s_peer);
	if (s->s_pid > 0)
		kill(s->s_pid, SIGKILL);
	if (s->s_state == SESS_CONNECTING)
		parent_open_fail(s, 500, "internal",
		    "Worker failed: protocol violation");
	else
		parent_sess_close(s, "worker protocol violation");
}

/* The worker runs: say how to sandbox itself and what to connect. */
static void
parent_worker_begin(struct session *s, const struct msg_w_start *st)
{
	struct parent		*env = parent_env;
	struct msg_sandbox	 sb;

	memset(&sb, 0, sizeof(sb));
	strlcpy(sb.user, env->p_conf.c_user, sizeof(sb.user));
	strlcpy(sb.chroot, env->p_conf.c_chroot, sizeof(sb.chroot));
	peer_compose(&s->s_peer, IMSG_SANDBOX, 0, -1, &sb, sizeof(sb));
	peer_compose(&s->s_peer, IMSG_W_START, 0, -1, st, sizeof(*st));
}

static void
parent_spawner_closed(struct peer *p, const char *why)
{
	struct spawner	*sp = p->p_arg;

	log_debug("spawner %d channel: %s", (int)sp->sp_pid, why);
	kill(sp->sp_pid, SIGKILL);
}

/* Kill a spawner that failed us; its reaping fails what it was asked. */
static void
parent_spawner_kill(struct spawner *sp)
{
	peer_stop(&sp->sp_peer);
	kill(sp->sp_pid, SIGKILL);
	if (parent_env->p_spawner == sp)
		parent_env->p_spawner = NULL;
}

static struct spawner *
parent_spawner_start(void)
{
	struct parent	*env = parent_env;
	struct spawner	*sp;
	int		 chan;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	TAILQ_INIT(&sp->sp_queue);
	sp->sp_pid = proc_spawn("spawner", NULL, 0, env->p_foreground,
	    env->p_verbose, &chan);
	if (sp->sp_pid == -1) {
		free(sp);
		return NULL;
	}
	if (peer_init(&sp->sp_peer, chan, "spawner", parent_dispatch_spawner,
	    parent_spawner_closed, sp) == -1) {
		close(chan);
		kill(sp->sp_pid, SIGKILL);
		/* Reaped as a stranger: it never took a request. */
		free(sp);
		return NULL;
	}
	sp->sp_open = 1;
	TAILQ_INSERT_TAIL(&env->p_spawners, sp, sp_entry);
	env->p_spawner = sp;
	log_debug("spawner started, pid %d", (int)sp->sp_pid);
	return sp;
}

/* A spawner ended: every worker still asked of it fails to start. */
static void
parent_spawner_free(struct spawner *sp)
{
	struct parent		*env = parent_env;
	struct spawn_req	*sr;
	struct session		*s;

	TAILQ_REMOVE(&env->p_spawners, sp, sp_entry);
	if (env->p_spawner == sp)
		env->p_spawner = NULL;
	if (sp->sp_open)
		peer_free(&sp->sp_peer);
	while ((sr = TAILQ_FIRST(&sp->sp_queue)) != NULL) {
		TAILQ_REMOVE(&sp->sp_queue, sr, sr_entry);
		if ((s = sr->sr_sess) != NULL) {
			s->s_spawn = NULL;
			parent_open_fail(s, 500, "internal",
			    "Connection failed: cannot start worker");
		}
		free(sr);
	}
	free(sp);
}

/*
 * Ask the current spawner (a new one if there is none) for a worker on
 * descriptors fds[] (the remote socket, the CA bundle); they are passed
 * on and closed here.
 */
static int
parent_spawner_ask(struct session *s, int *fds, int nfds,
    const struct msg_w_start *st)
{
	struct parent		*env = parent_env;
	struct spawner		*sp;
	struct spawn_req	*sr;
	struct msg_spawn	 m;
	int			 sv[2], i, rv = 0;

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		goto fail;
	if (((sp = env->p_spawner) == NULL &&
	    (sp = parent_spawner_start()) == NULL) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		goto fail;
	if (peer_init(&s->s_peer, sv[0], "worker", parent_dispatch_worker,
	    parent_worker_closed, s) == -1) {
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	s->s_has_peer = 1;
	memset(&m, 0, sizeof(m));
	m.type = s->s_type;
	m.nfds = nfds + 1;
	/* Queued messages own their descriptors, failed or not. */
	rv |= peer_compose(&sp->sp_peer, IMSG_SPAWN_FD, 0, sv[1], NULL, 0);
	for (i = 0; i < nfds; i++) {
		rv |= peer_compose(&sp->sp_peer, IMSG_SPAWN_FD, 0, fds[i],
		    NULL, 0);
		fds[i] = -1;
	}
	rv |= peer_compose(&sp->sp_peer, IMSG_SPAWN, 0, -1, &m, sizeof(m));
	if (rv != 0) {
		/* Part of it may be queued: no later request can follow. */
		parent_spawner_kill(sp);
		free(sr);
		return -1;
	}
	sr->sr_sess = s;
	sr->sr_start = *st;
	s->s_spawn = sr;
	TAILQ_INSERT_TAIL(&sp->sp_queue, sr, sr_entry);
	/* Enough workers share its layout: the next one starts anew. */
	if (++sp->sp_asked >= env->p_conf.c_worker_batch)
		env->p_spawner = NULL;
	return 0;
 fail:
	free(sr);
	for (i = 0; i < nfds; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return -1;
}

/* A spawner's answer to the oldest request it has. */
void
parent_dispatch_spawner(struct peer *p, struct imsg *im)
{
	struct parent		*env = parent_env;
	struct spawner		*sp = p->p_arg;
	struct msg_log		*l = im->data;
	struct msg_spawned	*m = im->data;
	struct spawn_req	*sr;
	struct session		*s;
	siginfo_t		 si;

	if (im->fd != -1)
		goto bad;
	if (im->hdr.type == IMSG_LOG && IMSG_IS(im, struct msg_log) &&
	    STR_BOUNDED(l->line)) {
		parent_child_log(l);
		return;
	}
	if (im->hdr.type != IMSG_SPAWNED || !IMSG_IS(im, struct msg_spawned) ||
	    (sr = TAILQ_FIRST(&sp->sp_queue)) == NULL)
		goto bad;
	TAILQ_REMOVE(&sp->sp_queue, sr, sr_entry);
	s = sr->sr_sess;
	/* Only a child of ours: it may have died and been reaped already. */
	memset(&si, 0, sizeof(si));
	if (m->pid > 1 && waitid(P_PID, m->pid, &si, WEXITED | WNOHANG |
	    WNOWAIT) == -1)
		m->pid = -1;
	if (s == NULL) {
		if (m->pid > 1)
			kill(m->pid, SIGKILL);
	} else if (m->pid <= 1) {
		s->s_spawn = NULL;
		log_warnx("session %s: spawner: %s", s->s_id, m->error > 0 ?
		    strerror(m->error) : "worker ended at once");
		parent_open_fail(s, 500, "internal",
		    "Connection failed: cannot start worker");
	} else if (s->s_peer.p_dead) {
		/* Its channel failed or spoke out of turn meanwhile. */
		s->s_spawn = NULL;
		kill(m->pid, SIGKILL);
		parent_open_fail(s, 500, "internal",
		    "Worker failed: protocol violation");
	} else {
		s->s_spawn = NULL;
		s->s_pid = m->pid;
		parent_worker_begin(s, &sr->sr_start);
	}
	free(sr);
	/* Retired and done: closing its channel ends it. */
	if (sp != env->p_spawner && TAILQ_EMPTY(&sp->sp_queue) &&
	    sp->sp_open) {
		peer_free(&sp->sp_peer);
		sp->sp_open = 0;
	}
	return;
 bad:
	log_warnx("spawner %d sent an unexpected message (type %u): "
	    "killing it", (int)sp->sp_pid, im->hdr.type);
	parent_spawner_kill(sp);
}

/*
 * The connection is up: start a worker for it, forked by the spawner
 * or exec'd here, and start the protocol.
 */
static void
parent_worker_spawn(struct session *s, int fd, const char *addr)
{
	struct parent		*env = parent_env;
	struct msg_w_start	 st;
	int			 fds[2], nfds = 1, chan, cafd = -1;

	fds[0] = fd;
	if (s->s_type == SESS_FTP && s->s_tls != FTP_TLS_NONE) {
		if ((cafd = open(env->p_conf.c_ca_file, O_RDONLY |
		    O_CLOEXEC)) == -1) {
			log_warn("%s", env->p_conf.c_ca_file);
			close(fd);
			parent_open_fail(s, 500, "internal",
			    "Connection failed: CA bundle unreadable");
			return;
		}
		fds[nfds++] = cafd;
	}
	memset(&st, 0, sizeof(st));
	st.type = s->s_type;
	st.port = s->s_port;
	st.timeout = env->p_conf.c_connect_timeout;
	st.keepalive = env->p_conf.c_keepalive;
	st.tls = s->s_tls;
	st.passive = s->s_passive;
	st.insecure = s->s_insecure;
	strlcpy(st.id, s->s_id, sizeof(st.id));
	strlcpy(st.host, s->s_host, sizeof(st.host));
	strlcpy(st.addr, addr, sizeof(st.addr));

	if (!env->p_conf.c_worker_exec) {
		if (parent_spawner_ask(s, fds, nfds, &st) == -1) {
			log_warn("ask the spawner for a worker");
			parent_open_fail(s, 500, "internal",
			    "Connection failed: cannot start worker");
		}
		return;
	}
	s->s_pid = proc_spawn(parent_type_name(s->s_type), fds, nfds,
	    env->p_foreground, env->p_verbose, &chan);
	close(fd);
	if (cafd != -1)
		close(cafd);
	if (s->s_pid == -1 || peer_init(&s->s_peer, chan, "worker",
	    parent_dispatch_worker, parent_worker_closed, s) == -1) {
		log_warn("spawn worker");
		parent_open_fail(s, 500, "internal",
		    "Connection failed: cannot start worker");
		return;
	}
	s->s_has_peer = 1;
	parent_worker_begin(s, &st);
}

static void
parent_conn_done(void *arg, int fd, const char *addr, int status,
    const char *why)
{
	struct session	*s = arg;

	s->s_conn = NULL;
	if (fd == -1) {
		parent_open_fail(s, status, status == 504 ? "timeout" :
		    "connection_failed", why);
		return;
	}
	log_debug("session %s: connected to %s port %u", s->s_id, addr,
	    s->s_port);
	parent_worker_spawn(s, fd, addr);
}

/* Common start of an SSH or FTP open: limit, table entry, connect. */
static struct session *
parent_open_begin(uint32_t reqid, enum sess_type type, const char *host,
    uint32_t port, const char *user, const char *name, uint32_t timeout)
{
	struct parent	*env = parent_env;
	struct session	*s;
	struct timeval	 tv;

	if (sess_count >= env->p_conf.c_max_sessions) {
		parent_error(env->p_front_gen, reqid, 503, "too_many_sessions",
		    "Too many sessions: the limit is %u",
		    env->p_conf.c_max_sessions);
		return NULL;
	}
	if ((s = sess_new(type, time(NULL), env->p_conf.c_idle_timeout)) ==
	    NULL) {
		parent_error(env->p_front_gen, reqid, 500, "internal",
		    "Out of memory");
		return NULL;
	}
	strlcpy(s->s_host, host, sizeof(s->s_host));
	strlcpy(s->s_user, user, sizeof(s->s_user));
	strlcpy(s->s_name, name, sizeof(s->s_name));
	s->s_port = port;
	s->s_open_reqid = reqid;
	s->s_open_front = env->p_front_gen;
	if (timeout == 0)
		timeout = env->p_conf.c_connect_timeout;
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	s->s_opentimer = evtimer_new(proc_base, parent_open_timeout, s);
	if (s->s_opentimer != NULL)
		evtimer_add(s->s_opentimer, &tv);
	s->s_conn = conn_start(host, port, timeout, parent_conn_done, s);
	if (s->s_conn == NULL || s->s_opentimer == NULL) {
		parent_open_fail(s, 500, "internal", "Out of memory");
		return NULL;
	}
	env->p_stats.sessions_total++;
	return s;
}

/*
 * Move the credentials of an open request into a worker's login message,
 * wiping them from the request.  NULL (answered 500) when out of memory.
 */
static struct msg_w_auth *
parent_auth_take(uint32_t reqid, const char *user, char *pass, char *key,
    size_t keylen, char *pp)
{
	struct msg_w_auth	*a;

	if ((a = calloc(1, sizeof(*a))) != NULL) {
		strlcpy(a->username, user, sizeof(a->username));
		strlcpy(a->password, pass, sizeof(a->password));
		if (key != NULL)
			strlcpy(a->private_key, key, sizeof(a->private_key));
		if (pp != NULL)
			strlcpy(a->passphrase, pp, sizeof(a->passphrase));
	} else
		parent_error(parent_env->p_front_gen, reqid, 500, "internal",
		    "Out of memory");
	explicit_bzero(pass, P_PASS_LEN);
	if (key != NULL)
		explicit_bzero(key, keylen);
	if (pp != NULL)
		explicit_bzero(pp, P_PASS_LEN);
	return a;
}

static void
parent_req_ssh_open(struct imsg *im)
{
	struct msg_ssh_open	*m = im->data;
	struct msg_w_auth	*a;
	struct session		*s;

	if (!STR_BOUNDED(m->host) || !STR_BOUNDED(m->username) ||
	    !STR_BOUNDED(m->name) || !STR_BOUNDED(m->password) ||
	    !STR_BOUNDED(m->private_key) || !STR_BOUNDED(m->passphrase) ||
	    !parent_host_ok(m->host) || m->port == 0 || m->port > 65535) {
		parent_error(parent_env->p_front_gen, m->reqid, 400,
		    "invalid_request", "Invalid request");
		return;
	}
	if ((a = parent_auth_take(m->reqid, m->username, m->password,
	    m->private_key, sizeof(m->private_key), m->passphrase)) == NULL)
		return;
	if ((s = parent_open_begin(m->reqid, SESS_SSH, m->host, m->port,
	    m->username, m->name, m->timeout)) == NULL) {
		freezero(a, sizeof(*a));
		return;
	}
	s->s_auth = a;
	parent_env->p_stats.sessions_ssh++;
}

static void
parent_req_ftp_open(struct imsg *im)
{
	struct msg_ftp_open	*m = im->data;
	struct msg_w_auth	*a;
	struct session		*s;

	if (!STR_BOUNDED(m->host) || !STR_BOUNDED(m->username) ||
	    !STR_BOUNDED(m->name) || !STR_BOUNDED(m->password) ||
	    !parent_host_ok(m->host) || m->port == 0 || m->port > 65535 ||
	    m->tls > FTP_TLS_IMPLICIT) {
		parent_error(parent_env->p_front_gen, m->reqid, 400,
		    "invalid_request", "Invalid request");
		return;
	}
	if (m->insecure && !parent_env->p_conf.c_ftps_insecure_ok) {
		parent_error(parent_env->p_front_gen, m->reqid, 400,
		    "invalid_request",
		    "insecure FTPS is not allowed by the configuration");
		return;
	}
	if ((a = parent_auth_take(m->reqid, m->username, m->password, NULL,
	    0, NULL)) == NULL)
		return;
	if ((s = parent_open_begin(m->reqid, SESS_FTP, m->host, m->port,
	    m->username, m->name, m->timeout)) == NULL) {
		freezero(a, sizeof(*a));
		return;
	}
	s->s_tls = m->tls;
	s->s_passive = m->passive != 0;
	s->s_insecure = m->insecure != 0;
	s->s_auth = a;
	parent_env->p_stats.sessions_ftp++;
}

/* Expire idle sessions; returns how many were removed. */
unsigned int
parent_cleanup(void)
{
	struct session	*s, *next;
	time_t		 now = time(NULL);
	unsigned int	 n = 0;

	RB_FOREACH_SAFE(s, sess_tree, &sess_all, next) {
		if (s->s_state == SESS_CONNECTING || !sess_expired(s, now))
			continue;
		parent_sess_close(s, "idle timeout");
		n++;
	}
	return n;
}

static void
parent_sweep(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	parent_cleanup();
}

/* A live, ready-or-busy session by id, or NULL after expiring it. */
static struct session *
parent_sess_get(const char *id)
{
	struct session	*s;

	if ((s = sess_find(id)) == NULL || s->s_state == SESS_CONNECTING ||
	    s->s_state == SESS_DEAD)
		return NULL;
	if (sess_expired(s, time(NULL))) {
		parent_sess_close(s, "idle timeout");
		return NULL;
	}
	return s;
}

static void
parent_send_session(uint32_t type, uint32_t reqid, struct session *s)
{
	struct msg_session	 m;

	sess_describe(s, time(NULL), &m);
	m.reqid = reqid;
	parent_reply(parent_env->p_front_gen, type, reqid, -1, &m, sizeof(m));
}

static void
parent_req_list(uint32_t reqid)
{
	struct session		*s;
	struct msg_count	 c;

	parent_cleanup();
	memset(&c, 0, sizeof(c));
	c.reqid = reqid;
	RB_FOREACH(s, sess_tree, &sess_all) {
		if (s->s_state == SESS_CONNECTING)
			continue;
		parent_send_session(IMSG_REP_SESSION, reqid, s);
		c.count++;
	}
	parent_reply(parent_env->p_front_gen, IMSG_REP_LIST_END, reqid, -1,
	    &c, sizeof(c));
}

/* Queue an operation; it starts now if the session is idle. */
static void
parent_req_op(struct imsg *im)
{
	struct parent	*env = parent_env;
	struct msg_op	*m = im->data;
	struct session	*s;

	if (!STR_BOUNDED(m->id) || !STR_BOUNDED(m->path) ||
	    !STR_BOUNDED(m->filename) || !STR_BOUNDED(m->command) ||
	    m->op < OP_LIST || m->op > OP_EXEC) {
		parent_error(env->p_front_gen, m->reqid, 400,
		    "invalid_request", "Invalid request");
		return;
	}
	if ((s = parent_sess_get(m->id)) == NULL) {
		parent_not_found(m->reqid);
		return;
	}
	if (m->op == OP_EXEC && s->s_type != SESS_SSH) {
		parent_error(env->p_front_gen, m->reqid, 501, "not_supported",
		    "Execute is not supported on FTP sessions");
		return;
	}
	if (m->op == OP_EXEC && m->timeout == 0)
		m->timeout = env->p_conf.c_command_timeout;
	m->max_output = env->p_conf.c_max_output;
	m->max_size = env->p_conf.c_max_file_size;
	if (sess_op_push(s, m, m->reqid, env->p_front_gen) == NULL) {
		parent_error(env->p_front_gen, m->reqid, 500, "internal",
		    "Out of memory");
		return;
	}
	sess_touch(s, time(NULL));
	if (s->s_state == SESS_READY)
		parent_op_next(s);
}

/* Start the operation at the head of the queue on its data channel. */
static void
parent_op_next(struct session *s)
{
	struct parent	*env = parent_env;
	struct msg_req	 r;
	struct op	*o;
	int		 sv[2];

	while ((o = sess_op_head(s)) != NULL) {
		/* Asked by a front that has since died: nobody waits. */
		if (o->o_front != env->p_front_gen || !env->p_front_up) {
			sess_op_pop(s);
			continue;
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1) {
			log_warn("socketpair");
			parent_error(o->o_front, o->o_reqid, 500, "internal",
			    "Cannot create a data channel");
			sess_op_pop(s);
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.reqid = o->o_reqid;
		o->o_msg.reqid = o->o_id;
		parent_reply(o->o_front, IMSG_REP_OP_START, o->o_reqid, sv[0],
		    &r, sizeof(r));
		peer_compose(&s->s_peer, IMSG_W_OP, 0, sv[1], &o->o_msg,
		    sizeof(o->o_msg));
		s->s_state = SESS_BUSY;
		s->s_opcount++;
		if (o->o_msg.op < 5)
			env->p_stats.ops[o->o_msg.op]++;
		return;
	}
	s->s_state = SESS_READY;
}

static void
parent_count(uint32_t reqid, uint32_t n)
{
	struct msg_count	 c;

	memset(&c, 0, sizeof(c));
	c.reqid = reqid;
	c.count = n;
	parent_reply(parent_env->p_front_gen, IMSG_REP_COUNT, reqid, -1, &c,
	    sizeof(c));
}

/* GET or DELETE of one session. */
static void
parent_req_by_id(uint32_t type, const struct msg_req_id *ri)
{
	struct session	*s;

	if ((s = parent_sess_get(ri->id)) == NULL) {
		parent_not_found(ri->reqid);
		return;
	}
	if (type == IMSG_REQ_GET) {
		parent_send_session(IMSG_REP_SESSION, ri->reqid, s);
		return;
	}
	parent_sess_close(s, "closed by client");
	parent_count(ri->reqid, 1);
}

static void
parent_front_health(uint32_t reqid)
{
	struct parent		*env = parent_env;
	struct msg_health	 h;

	memset(&h, 0, sizeof(h));
	h.reqid = reqid;
	h.sessions = sess_count;
	h.max_sessions = env->p_conf.c_max_sessions;
	h.uptime = time(NULL) - env->p_started;
	parent_reply(env->p_front_gen, IMSG_REP_HEALTH, reqid, -1, &h,
	    sizeof(h));
}

static void
parent_front_bad(const char *why, uint32_t type)
{
	struct parent	*env = parent_env;

	log_warnx("front sent %s (type %u): restarting it", why, type);
	peer_stop(&env->p_front);
	if (env->p_front_pid > 0)
		kill(env->p_front_pid, SIGKILL);
}

/* Messages from the front: requests on behalf of HTTP clients. */
void
parent_dispatch_front(struct peer *p, struct imsg *im)
{
	struct msg_req		*r = im->data;
	struct msg_req_id	*ri = im->data;
	struct msg_log		*l = im->data;

	(void)p;
	if (im->fd != -1) {
		parent_front_bad("an unexpected descriptor", im->hdr.type);
		return;
	}
	switch (im->hdr.type) {
	case IMSG_LOG:
		if (!IMSG_IS(im, struct msg_log) || !STR_BOUNDED(l->line))
			break;
		parent_child_log(l);
		return;
	case IMSG_REQ_HEALTH:
		if (!IMSG_IS(im, struct msg_req))
			break;
		parent_front_health(r->reqid);
		return;
	case IMSG_REQ_SSH_OPEN:
		if (!IMSG_IS(im, struct msg_ssh_open))
			break;
		parent_req_ssh_open(im);
		return;
	case IMSG_REQ_FTP_OPEN:
		if (!IMSG_IS(im, struct msg_ftp_open))
			break;
		parent_req_ftp_open(im);
		return;
	case IMSG_REQ_LIST:
		if (!IMSG_IS(im, struct msg_req))
			break;
		parent_req_list(r->reqid);
		return;
	case IMSG_REQ_GET:
	case IMSG_REQ_CLOSE:
		if (!IMSG_IS(im, struct msg_req_id) || !STR_BOUNDED(ri->id))
			break;
		parent_req_by_id(im->hdr.type, ri);
		return;
	case IMSG_REQ_CLEANUP:
		if (!IMSG_IS(im, struct msg_req))
			break;
		parent_count(r->reqid, parent_cleanup());
		return;
	case IMSG_REQ_OP:
		if (!IMSG_IS(im, struct msg_op))
			break;
		parent_req_op(im);
		return;
	default:
		parent_front_bad("an unknown message", im->hdr.type);
		return;
	}
	parent_front_bad("a message of the wrong size", im->hdr.type);
}

static void
parent_worker_hostkey(struct session *s, struct imsg *im)
{
	struct parent		*env = parent_env;
	struct msg_w_hostkey	*hk = im->data;
	char			 why[P_MSG_LEN];

	if (!STR_BOUNDED(hk->type) || !STR_BOUNDED(hk->sha256) ||
	    s->s_auth == NULL) {
		parent_worker_bad(s, "a bad host key message", im->hdr.type);
		return;
	}
	if (s->s_type == SESS_SSH) {
		if (!kh_valid(hk->type, hk->sha256)) {
			parent_worker_bad(s, "a malformed host key",
			    im->hdr.type);
			return;
		}
		if (kh_check(env->p_conf.c_known_hosts,
		    env->p_conf.c_hostkey_policy, s->s_host, s->s_port,
		    hk->type, hk->sha256, why, sizeof(why)) == -1) {
			parent_open_fail(s, 502, "connection_failed", why);
			return;
		}
		strlcpy(s->s_hktype, hk->type, sizeof(s->s_hktype));
		strlcpy(s->s_hkfp, hk->sha256, sizeof(s->s_hkfp));
	}
	peer_compose(&s->s_peer, IMSG_W_AUTH, 0, -1, s->s_auth,
	    sizeof(struct msg_w_auth));
	parent_wipe_auth(s);
}

static void
parent_worker_ready(struct session *s)
{
	if (s->s_opentimer != NULL) {
		event_free(s->s_opentimer);
		s->s_opentimer = NULL;
	}
	s->s_state = SESS_READY;
	sess_touch(s, time(NULL));
	log_info("session %s opened: %s %s@%s:%u%s%s", s->s_id,
	    parent_type_name(s->s_type), s->s_user, s->s_host, s->s_port,
	    s->s_name[0] ? " name " : "", s->s_name);
	parent_send_session(IMSG_REP_SESSION, s->s_open_reqid, s);
	parent_op_next(s);
}

static void
parent_worker_done(struct session *s, struct imsg *im)
{
	struct parent		*env = parent_env;
	struct msg_w_done	*d = im->data;
	struct op		*o = sess_op_head(s);

	if (s->s_state != SESS_BUSY || o == NULL || o->o_id != d->opid) {
		parent_worker_bad(s, "an unexpected operation result",
		    im->hdr.type);
		return;
	}
	s->s_bytes_in += d->bytes_in;
	s->s_bytes_out += d->bytes_out;
	env->p_stats.bytes_in += d->bytes_in;
	env->p_stats.bytes_out += d->bytes_out;
	sess_op_pop(s);
	sess_touch(s, time(NULL));
	if (d->session_lost) {
		parent_sess_close(s, "connection lost");
		return;
	}
	parent_op_next(s);
}

/* Messages from a worker: host key, login outcome, operation results. */
void
parent_dispatch_worker(struct peer *p, struct imsg *im)
{
	struct session		*s = p->p_arg;
	struct msg_log		*l = im->data;
	struct msg_error	*e = im->data;

	/*
	 * A forked worker says nothing before the parent writes to it,
	 * which waits for its pid.  Closing the session here would free
	 * the channel being read: stop reading; the open then fails.
	 */
	if (s->s_pid <= 0) {
		log_warnx("session %s: a worker spoke before it was known "
		    "(type %u)", s->s_id, im->hdr.type);
		peer_stop(p);
		return;
	}
	if (im->fd != -1) {
		parent_worker_bad(s, "an unexpected descriptor", im->hdr.type);
		return;
	}
	switch (im->hdr.type) {
	case IMSG_LOG:
		if (!IMSG_IS(im, struct msg_log) || !STR_BOUNDED(l->line))
			break;
		parent_child_log(l);
		return;
	case IMSG_W_HOSTKEY:
		if (!IMSG_IS(im, struct msg_w_hostkey) ||
		    s->s_state != SESS_CONNECTING)
			break;
		parent_worker_hostkey(s, im);
		return;
	case IMSG_W_READY:
		if (im->hdr.len != 0 || s->s_state != SESS_CONNECTING ||
		    s->s_auth != NULL)
			break;
		parent_worker_ready(s);
		return;
	case IMSG_W_FAILED:
		if (!IMSG_IS(im, struct msg_error) ||
		    s->s_state != SESS_CONNECTING || !STR_BOUNDED(e->code) ||
		    !STR_BOUNDED(e->message) || e->status < 400 ||
		    e->status > 599)
			break;
		parent_open_fail(s, e->status, parent_open_code(e->code),
		    e->message);
		return;
	case IMSG_W_OP_DONE:
		if (!IMSG_IS(im, struct msg_w_done))
			break;
		parent_worker_done(s, im);
		return;
	}
	parent_worker_bad(s, "an unexpected message", im->hdr.type);
}

static void
parent_front_closed(struct peer *p, const char *why)
{
	(void)p;
	log_debug("front channel: %s", why);
	if (parent_env->p_front_pid > 0)
		kill(parent_env->p_front_pid, SIGKILL);
}

/* Start (or restart) the front and hand it its configuration. */
static void
parent_front_start(void)
{
	struct parent		*env = parent_env;
	struct conf		*c = &env->p_conf;
	struct msg_sandbox	 sb;
	struct msg_front_config	 fc;
	int			 i, chan, fd;

	env->p_front_pid = proc_spawn("front", NULL, 0, env->p_foreground,
	    env->p_verbose, &chan);
	if (env->p_front_pid == -1)
		fatal("spawn front");
	if (peer_init(&env->p_front, chan, "front", parent_dispatch_front,
	    parent_front_closed, NULL) == -1)
		fatal("front channel");
	env->p_front_up = 1;
	env->p_front_gen++;

	memset(&sb, 0, sizeof(sb));
	strlcpy(sb.user, c->c_user, sizeof(sb.user));
	strlcpy(sb.chroot, c->c_chroot, sizeof(sb.chroot));
	memset(&fc, 0, sizeof(fc));
	fc.max_clients = c->c_max_clients;
	fc.max_body = c->c_max_body;
	fc.header_timeout = c->c_header_timeout;
	fc.keepalive_timeout = c->c_keepalive_timeout;
	fc.command_timeout = c->c_command_timeout;
	fc.max_file_size = c->c_max_file_size;
	fc.norigins = c->c_norigins;
	for (i = 0; i < c->c_norigins && i < P_ORIGINS; i++)
		strlcpy(fc.origins[i], c->c_origins[i], sizeof(fc.origins[i]));
	peer_compose(&env->p_front, IMSG_SANDBOX, 0, -1, &sb, sizeof(sb));
	peer_compose(&env->p_front, IMSG_FRONT_CONFIG, 0, -1, &fc,
	    sizeof(fc));
	for (i = 0; i < env->p_nlisten; i++) {
		if ((fd = dup(env->p_listen[i])) == -1)
			fatal("dup");
		peer_compose(&env->p_front, IMSG_FRONT_LISTEN, 0, fd, NULL, 0);
	}
	peer_compose(&env->p_front, IMSG_FRONT_READY, 0, -1, NULL, 0);
	log_debug("front started, pid %d", (int)env->p_front_pid);
}

static void
parent_front_restart(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!parent_env->p_exiting && !parent_env->p_front_up)
		parent_front_start();
}

/* A child ended: the front is restarted, a worker's session ends. */
static void
parent_reaped(pid_t pid, int status)
{
	struct parent	*env = parent_env;
	struct spawner	*sp;
	struct session	*s;
	struct timeval	 tv = { 0, 100000 };
	char		 how[128];
	int		 dying;

	proc_status_str(status, how, sizeof(how));
	if (pid == env->p_front_pid) {
		if (!env->p_exiting)
			log_warnx("front %d %s: starting a new one", (int)pid,
			    how);
		peer_free(&env->p_front);
		env->p_front_up = 0;
		env->p_front_pid = -1;
		env->p_stats.front_restarts++;
		if (!env->p_exiting)
			evtimer_add(env->p_front_timer, &tv);
		return;
	}
	TAILQ_FOREACH(sp, &env->p_spawners, sp_entry)
		if (sp->sp_pid == pid)
			break;
	if (sp != NULL) {
		/* A retired one exits 0 once its channel is closed. */
		if (sp->sp_open || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			if (!env->p_exiting) {
				log_warnx("spawner %d %s: a new one starts "
				    "when a worker is needed", (int)pid, how);
				env->p_stats.spawner_deaths++;
			}
		} else
			log_debug("spawner %d retired", (int)pid);
		parent_spawner_free(sp);
		return;
	}
	TAILQ_FOREACH(s, &env->p_dying, s_dying)
		if (s->s_pid == pid)
			break;
	dying = s != NULL;
	if (!dying)
		RB_FOREACH(s, sess_tree, &sess_all)
			if (s->s_pid == pid)
				break;
	if (s == NULL) {
		/* A worker whose spawner died before telling us its pid. */
		log_debug("child %d %s", (int)pid, how);
		return;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		env->p_stats.deaths_sandbox++;
	else if (WIFSIGNALED(status))
		env->p_stats.deaths_signal++;
	else
		env->p_stats.deaths_exit++;
	if (!dying) {
		log_warnx("session %s: worker %d %s", s->s_id, (int)pid, how);
		s->s_pid = -1;
		if (s->s_state == SESS_CONNECTING)
			parent_open_fail(s, 500, "internal", how[0] == 's' ?
			    "Worker failed: killed by the sandbox" :
			    "Worker failed unexpectedly");
		else
			parent_sess_close(s, how);
		return;
	}
	log_debug("session %s: worker %d %s", s->s_id, (int)pid, how);
	TAILQ_REMOVE(&env->p_dying, s, s_dying);
	if (s->s_killtimer != NULL)
		event_free(s->s_killtimer);
	if (s->s_has_peer)
		peer_free(&s->s_peer);
	sess_free(s);
}

static void
parent_sigchld(void)
{
	pid_t	 pid;
	int	 status, i;

	for (i = 0; i < 10000; i++) {
		if ((pid = waitpid(-1, &status, WNOHANG)) <= 0)
			break;
		parent_reaped(pid, status);
	}
}

/* Is any child we know of still running? */
static int
parent_children_left(void)
{
	struct parent	*env = parent_env;
	struct session	*s;

	if (env->p_front_pid > 0 || !TAILQ_EMPTY(&env->p_spawners))
		return 1;
	TAILQ_FOREACH(s, &env->p_dying, s_dying)
		if (s->s_pid > 0)
			return 1;
	return 0;
}

/* Kill every child still running; kill(2) is only given real pids. */
static void
parent_kill_all(int sig)
{
	struct parent	*env = parent_env;
	struct spawner	*sp;
	struct session	*s;

	if (env->p_front_pid > 0)
		kill(env->p_front_pid, sig);
	TAILQ_FOREACH(sp, &env->p_spawners, sp_entry)
		kill(sp->sp_pid, sig);
	TAILQ_FOREACH(s, &env->p_dying, s_dying)
		if (s->s_pid > 0)
			kill(s->s_pid, sig);
}

/*
 * Stop every child and exit: workers are asked to say goodbye to their
 * servers, the front is told to stop, and whatever is left after a
 * second is killed.
 */
static void
parent_shutdown(void)
{
	struct parent	*env = parent_env;
	struct spawner	*sp;
	struct session	*s, *next;
	int		 i;

	env->p_exiting = 1;
	log_info("exiting");
	control_close();
	RB_FOREACH_SAFE(s, sess_tree, &sess_all, next)
		parent_sess_close(s, "daemon exiting");
	TAILQ_FOREACH(s, &env->p_dying, s_dying)
		if (s->s_has_peer && !s->s_peer.p_dead)
			(void)imsg_flush(&s->s_peer.p_ib);
	if (env->p_front_pid > 0)
		kill(env->p_front_pid, SIGTERM);
	TAILQ_FOREACH(sp, &env->p_spawners, sp_entry)
		kill(sp->sp_pid, SIGTERM);
	for (i = 0; i < 50 && parent_children_left(); i++) {
		usleep(20000);
		parent_sigchld();
	}
	parent_kill_all(SIGKILL);
	exit(0);
}

static void
parent_signal(int sig, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		parent_sigchld();
		break;
	case SIGHUP:
		parent_reload();
		break;
	case SIGTERM:
	case SIGINT:
		parent_shutdown();
		break;
	}
}

/* Open the configured listening sockets. */
static int
parent_listen(struct parent *env, int *fds, int *nfds)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 i, fd, on = 1;

	*nfds = 0;
	for (i = 0; i < env->p_conf.c_nlisten; i++) {
		struct conf_listen *l = &env->p_conf.c_listen[i];

		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, l->l_addr, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(l->l_port);
			len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, l->l_addr,
		    &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(l->l_port);
			len = sizeof(*sin6);
		} else {
			log_warnx("listen address %s is not numeric",
			    l->l_addr);
			return -1;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 || bind(fd, (struct sockaddr *)&ss,
		    len) == -1 || listen(fd, 511) == -1) {
			log_warn("listen on %s port %u", l->l_addr, l->l_port);
			if (fd != -1)
				close(fd);
			return -1;
		}
		fds[(*nfds)++] = fd;
		log_info("listening on %s port %u", l->l_addr, l->l_port);
	}
	return 0;
}

/* Re-read the configuration; on error keep the old one. */
int
parent_reload(void)
{
	struct parent	*env = parent_env;
	struct conf	*nc;
	int		 fds[CONF_MAX_LISTEN], nfds, i;

	if ((nc = calloc(1, sizeof(*nc))) == NULL)
		return -1;
	env->p_conf_error[0] = '\0';
	conf_defaults(nc);
	if ((env->p_conf_explicit || access(env->p_conffile, F_OK) == 0) &&
	    conf_parse(env->p_conffile, nc) == -1) {
		log_warnx("reload of %s failed: keeping the old configuration",
		    env->p_conffile);
		free(nc);
		return -1;
	}
	if (env->p_ctlsock[0] != '\0')
		strlcpy(nc->c_control_socket, env->p_ctlsock,
		    sizeof(nc->c_control_socket));
	if (memcmp(nc->c_listen, env->p_conf.c_listen,
	    sizeof(nc->c_listen)) != 0) {
		struct conf saved = env->p_conf;

		env->p_conf = *nc;
		if (parent_listen(env, fds, &nfds) == -1) {
			env->p_conf = saved;
			free(nc);
			log_warnx("reload failed: keeping the old "
			    "configuration");
			return -1;
		}
		for (i = 0; i < env->p_nlisten; i++)
			close(env->p_listen[i]);
		memcpy(env->p_listen, fds, sizeof(fds));
		env->p_nlisten = nfds;
	}
	env->p_conf = *nc;
	free(nc);
	log_info("configuration reloaded");
	/* A new front picks up the new listeners, limits and origins. */
	if (env->p_front_pid > 0)
		kill(env->p_front_pid, SIGTERM);
	return 0;
}

void
parent_stats(struct msg_stats *st)
{
	*st = parent_env->p_stats;
	st->uptime = time(NULL) - parent_env->p_started;
	st->sessions_open = sess_count;
	st->max_sessions = parent_env->p_conf.c_max_sessions;
}

static void
parent_sigev(int sig)
{
	struct event	*ev;

	if ((ev = evsignal_new(proc_base, sig, parent_signal, NULL)) == NULL ||
	    evsignal_add(ev, NULL) == -1)
		fatalx("signal event");
}

/* Debug logging on or off, here and in every running child. */
void
parent_set_verbose(int level)
{
	struct parent		*env = parent_env;
	struct spawner		*sp;
	struct session		*s;
	struct msg_count	 m;

	log_setverbose(level);
	env->p_verbose = level;
	memset(&m, 0, sizeof(m));
	m.count = level;
	if (env->p_front_up)
		peer_compose(&env->p_front, IMSG_LOG_VERBOSE, 0, -1, &m,
		    sizeof(m));
	TAILQ_FOREACH(sp, &env->p_spawners, sp_entry)
		if (sp->sp_open && !sp->sp_peer.p_dead)
			peer_compose(&sp->sp_peer, IMSG_LOG_VERBOSE, 0, -1, &m,
			    sizeof(m));
	RB_FOREACH(s, sess_tree, &sess_all)
		if (s->s_has_peer && !s->s_peer.p_dead)
			peer_compose(&s->s_peer, IMSG_LOG_VERBOSE, 0, -1, &m,
			    sizeof(m));
}

/* Configuration errors found at reload go to the log; keep the first. */
static void
parent_conf_report(const char *line)
{
	log_warnx("%s", line);
	if (parent_env->p_conf_error[0] == '\0')
		strlcpy(parent_env->p_conf_error, line,
		    sizeof(parent_env->p_conf_error));
}

/* Run the session manager until told to stop. */
void
parent_main(struct parent *env)
{
	struct timeval	 tv = { PARENT_SWEEP_SECS, 0 };

	parent_env = env;
	TAILQ_INIT(&env->p_dying);
	TAILQ_INIT(&env->p_spawners);
	/* Workers the spawner forks are orphaned into our care. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		fatal("prctl PR_SET_CHILD_SUBREAPER");
	conf_set_reporter(parent_conf_report);
	env->p_started = time(NULL);
	if ((proc_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (conn_dns_init() == -1)
		fatalx("dns init");
	if (parent_listen(env, env->p_listen, &env->p_nlisten) == -1)
		fatalx("cannot listen");
	signal(SIGPIPE, SIG_IGN);
	parent_sigev(SIGCHLD);
	parent_sigev(SIGHUP);
	parent_sigev(SIGTERM);
	parent_sigev(SIGINT);
	if ((env->p_front_timer = evtimer_new(proc_base,
	    parent_front_restart, NULL)) == NULL)
		fatalx("evtimer_new");
	env->p_sweep = event_new(proc_base, -1, EV_PERSIST, parent_sweep,
	    NULL);
	if (env->p_sweep == NULL || evtimer_add(env->p_sweep, &tv) == -1)
		fatalx("sweep timer");
	if (control_init(env->p_conf.c_control_socket,
	    env->p_conf.c_control_group) == -1)
		log_warnx("control socket %s unavailable",
		    env->p_conf.c_control_socket);
	setproctitle("parent");
	parent_front_start();
	log_info("started, version %s", COREASTRA_VERSION);
	event_base_dispatch(proc_base);
	fatalx("event loop ended");
}
