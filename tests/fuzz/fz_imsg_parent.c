/*
 * Fuzz target for the parent's side of its channels: the imsg framing
 * (common/imsg.c) and the dispatch of what a compromised front, worker
 * or spawner may send (parent_dispatch_front, parent_dispatch_worker,
 * parent_dispatch_spawner in daemon/parent.c).
 *
 * Each run sets up what the parent has while it serves: its
 * configuration, a front peer, a spawner peer, and sessions in every
 * state, each with a worker peer (without pids, the connecting ones wait
 * for the spawner, behind a request whose session has gone); each end
 * the parent writes to is a real socketpair.  The input then becomes
 * messages, written to a socketpair and read back with imsg_read and
 * imsg_get, and each is dispatched as coming from the front, the
 * spawner or one session's worker.  Input layout: a setup
 * byte, then either raw framed bytes for one sender (FZP_RAW) or
 * records: sender, type, flags, payload shape and patches.
 *
 * Nothing leaves the process: the event loop never runs, so a session
 * open starts no name lookup or connect (its timers are only armed);
 * children have fake pids above the kernel's pid limit and kill() is
 * replaced below so that it signals nothing, counts what was asked and
 * fails the run on any pid that is not one of the fakes (0 or -1 would
 * hit a process group or every process); waitid() knows the workers'
 * fakes as children.  Checked after each message:
 * the session table's invariants and that a malformed message made the
 * parent kill its sender; at the end: every message the parent wrote to
 * the front or a worker is well-formed, no descriptor, timer or session
 * is left behind, and the known hosts file holds only well-formed lines
 * for the hosts that were asked about (FZ_LAX_KNOWN_HOSTS in the
 * environment skips that last check, to fuzz past a known bug).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "coreastra_proto.h"
#include "imsg.h"
#include "log.h"
#include "parent.h"
#include "session.h"
#include "util.h"
#include "fz.h"

#define FZP_NSESS	6
#define FZP_PID_BASE	0x7fff0000	/* above PID_MAX_LIMIT (2^22) */
#define FZP_SPAWNER	FZP_NSESS	/* the spawner's sender number */
#define FZP_NPIDS	(FZP_NSESS + 2)	/* front, workers, spawner */
#define FZP_MSGS_MAX	256		/* records per run */
#define FZP_PAYLOAD_MAX	(sizeof(union fzp_payload) + 64)

/* Setup byte. */
#define FZP_S_SESSIONS	0x03	/* 3: sessions may open (else max 0) */
#define FZP_S_PIDS	0x04	/* children have (fake) pids */
#define FZP_S_POLICY	0x18	/* host key policy; 3: also insecure FTPS */
#define FZP_S_FRONTDOWN	0x20	/* the front has died */
#define FZP_S_RAW	0x40	/* raw framed bytes for one sender */
#define FZP_S_EXPIRED	0x80	/* session 3 is past its idle timeout,
				   and the spawner is retired */

/* Record flags. */
#define FZP_R_SHAPE	0x03	/* 0 exact, 1 exact + delta, 2 raw, 3 empty */
#define FZP_R_FD	0x04	/* pass a descriptor along */
#define FZP_R_ID	0x08	/* put a session's id in the id field */
#define FZP_R_OPID	0x10	/* put the head operation's id in opid */
#define FZP_R_TEMPLATE	0x20	/* start from a valid payload */

/* Every payload the parent reads, for the size of the largest. */
union fzp_payload {
	struct msg_log		 u_log;
	struct msg_req_id	 u_req_id;
	struct msg_ssh_open	 u_ssh_open;
	struct msg_ftp_open	 u_ftp_open;
	struct msg_op		 u_op;
	struct msg_w_hostkey	 u_hostkey;
	struct msg_error	 u_error;
	struct msg_w_done	 u_done;
	struct msg_spawned	 u_spawned;
};

/* The sessions each run starts with. */
static const struct fzp_sess {
	enum sess_type	 t_type;
	enum sess_state	 t_state;
	int		 t_auth;	/* credentials not yet sent */
	int		 t_nops;
} fzp_sessions[FZP_NSESS] = {
	{ SESS_SSH, SESS_CONNECTING, 1, 0 },	/* waits for a host key */
	{ SESS_FTP, SESS_CONNECTING, 1, 0 },
	{ SESS_SSH, SESS_CONNECTING, 0, 0 },	/* waits for READY */
	{ SESS_SSH, SESS_READY, 0, 0 },
	{ SESS_FTP, SESS_READY, 0, 0 },
	{ SESS_SSH, SESS_BUSY, 0, 2 }
};

static struct parent	 fzp_env;
static char		 fzp_kh[PATH_MAX];	/* known hosts file */
static int		 fzp_khfd = -1;
static int		 fzp_fdcount;		/* open before the run */
static int		 fzp_front_end = -1;	/* the front's end */
static int		 fzp_worker_end[FZP_NSESS];
static struct spawner	 fzp_spawner;
static int		 fzp_spawner_end = -1;	/* the spawner's end */
static unsigned long	 fzp_kills[FZP_NPIDS];
static int		 fzp_lax_kh;		/* FZ_LAX_KNOWN_HOSTS set */

/*
 * Stand-in for kill(2), which parent.c calls: signal nothing, count the
 * fake pids, and fail on anything else.
 */
int
kill(pid_t pid, int sig)
{
	(void)sig;
	if (pid < FZP_PID_BASE || pid >= FZP_PID_BASE + FZP_NPIDS)
		fz_fail(__FILE__, __LINE__, "kill(%d, %d) on a pid the "
		    "harness did not make", (int)pid, sig);
	fzp_kills[pid - FZP_PID_BASE]++;
	return 0;
}

/*
 * Stand-in for waitid(2), which parent.c uses to check that a pid the
 * spawner reports is its child: the workers' fake pids are.
 */
int
waitid(idtype_t type, id_t id, siginfo_t *si, int options)
{
	(void)options;
	if (type != P_PID)
		fz_fail(__FILE__, __LINE__, "waitid of type %d", (int)type);
	if (id < FZP_PID_BASE + 1 || id > FZP_PID_BASE + FZP_NSESS) {
		errno = ECHILD;
		return -1;
	}
	memset(si, 0, sizeof(*si));
	return 0;
}

/* The parent's log lines, shown with FZ_TRACE. */
static void
fzp_log(int pri, const char *line)
{
	fz_trace("log %d: %s", pri, line);
}

static void
fzp_never(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fzp_khfd = fz_tmpfile("fz_known_hosts", fzp_kh, sizeof(fzp_kh));
	fzp_lax_kh = getenv("FZ_LAX_KNOWN_HOSTS") != NULL;
	signal(SIGPIPE, SIG_IGN);
	log_sethook(fzp_log);
	log_setverbose(1);
	if ((proc_base = event_base_new()) == NULL)
		abort();
	parent_env = &fzp_env;
	TAILQ_INIT(&fzp_env.p_dying);
	TAILQ_INIT(&fzp_env.p_spawners);
	return 0;
}

/*
 * How many descriptors are open.  Counted at both ends of each run:
 * the sanitizers' runtime opens its own (a pipe to the symbolizer)
 * between runs.
 */
static int
fzp_nfds(void)
{
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		abort();
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* One end for the parent's peer, the other kept to read what it sends. */
static int
fzp_pair(int *other)
{
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fd_nonblock(sv[1]) == -1)
		abort();
	*other = sv[1];
	return sv[0];
}

/* The id session i always has, so that runs can be replayed. */
static void
fzp_sess_id(int i, char *buf, size_t len)
{
	snprintf(buf, len, "00000000-0000-4000-8000-%012d", i);
}

/* Session i, or NULL once it is gone (freed with its channel). */
static struct session *
fzp_find(int i)
{
	struct session	*s;
	char		 id[P_ID_LEN];

	fzp_sess_id(i, id, sizeof(id));
	if ((s = sess_find(id)) != NULL)
		return s;
	TAILQ_FOREACH(s, &fzp_env.p_dying, s_dying)
		if (strcmp(s->s_id, id) == 0)
			return s;
	return NULL;
}

/* Credentials and queued operations, as the table entry has them. */
static void
fzp_sess_fill(struct session *s, const struct fzp_sess *t)
{
	struct msg_w_auth	*a;
	struct msg_op		 m;
	int			 k;

	if (t->t_auth) {
		if ((a = calloc(1, sizeof(*a))) == NULL)
			abort();
		strlcpy(a->username, "user", sizeof(a->username));
		strlcpy(a->password, "secret", sizeof(a->password));
		s->s_auth = a;
	}
	memset(&m, 0, sizeof(m));
	m.op = OP_LIST;
	strlcpy(m.id, s->s_id, sizeof(m.id));
	strlcpy(m.path, "/", sizeof(m.path));
	for (k = 0; k < t->t_nops; k++)
		if (sess_op_push(s, &m, 2000 + k, 1) == NULL)
			abort();
}

/* A request to the spawner, for s or for a session that has gone. */
static void
fzp_spawn_req(struct session *s)
{
	struct spawn_req	*sr;

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		abort();
	sr->sr_sess = s;
	if (s != NULL) {
		s->s_spawn = sr;
		strlcpy(sr->sr_start.id, s->s_id, sizeof(sr->sr_start.id));
		strlcpy(sr->sr_start.host, s->s_host,
		    sizeof(sr->sr_start.host));
		strlcpy(sr->sr_start.addr, "192.0.2.1",
		    sizeof(sr->sr_start.addr));
	}
	TAILQ_INSERT_TAIL(&fzp_spawner.sp_queue, sr, sr_entry);
}

/* Session i of fzp_sessions, with its worker channel. */
static void
fzp_sess_make(int i, int setup, time_t now)
{
	const struct fzp_sess	*t = &fzp_sessions[i];
	struct session		*s;
	struct timeval		 tv = { 60, 0 };

	s = sess_new(t->t_type, now, fzp_env.p_conf.c_idle_timeout);
	if (s == NULL)
		abort();
	sess_unlink(s);
	fzp_sess_id(i, s->s_id, sizeof(s->s_id));
	RB_INSERT(sess_tree, &sess_all, s);
	s->s_linked = 1;
	sess_count++;

	s->s_state = t->t_state;
	snprintf(s->s_host, sizeof(s->s_host), "host%d.example", i);
	s->s_port = t->t_type == SESS_SSH ? 22 : 21;
	strlcpy(s->s_user, "user", sizeof(s->s_user));
	s->s_open_reqid = 1000 + i;
	s->s_open_front = 1;
	s->s_pid = (setup & FZP_S_PIDS) ? FZP_PID_BASE + 1 + i : -1;
	if (peer_init(&s->s_peer, fzp_pair(&fzp_worker_end[i]), "worker",
	    parent_dispatch_worker, NULL, s) == -1)
		abort();
	s->s_has_peer = 1;
	if (t->t_state == SESS_CONNECTING) {
		s->s_opentimer = evtimer_new(proc_base, fzp_never, s);
		if (s->s_opentimer == NULL ||
		    evtimer_add(s->s_opentimer, &tv) == -1)
			abort();
	}
	if (i == 3 && (setup & FZP_S_EXPIRED))
		s->s_last = now - 2 * (time_t)s->s_idle;
	fzp_sess_fill(s, t);
	/* Without pids, a connecting session waits for the spawner. */
	if (!(setup & FZP_S_PIDS) && t->t_state == SESS_CONNECTING)
		fzp_spawn_req(s);
}

/* What the parent holds while it serves, from the setup byte. */
static void
fzp_setup(int setup)
{
	struct conf	*c = &fzp_env.p_conf;
	int		 i, policy = (setup & FZP_S_POLICY) >> 3;

	conf_defaults(c);
	if ((setup & FZP_S_SESSIONS) != FZP_S_SESSIONS)
		c->c_max_sessions = 0;
	c->c_hostkey_policy = policy == 3 ? HOSTKEY_ACCEPT_NEW : policy;
	c->c_ftps_insecure_ok = policy == 3;
	strlcpy(c->c_known_hosts, fzp_kh, sizeof(c->c_known_hosts));

	fzp_env.p_front_gen = 1;
	fzp_env.p_front_up = !(setup & FZP_S_FRONTDOWN);
	fzp_env.p_front_pid = (setup & FZP_S_PIDS) ? FZP_PID_BASE : -1;
	if (peer_init(&fzp_env.p_front, fzp_pair(&fzp_front_end), "front",
	    parent_dispatch_front, NULL, NULL) == -1)
		abort();
	memset(&fzp_spawner, 0, sizeof(fzp_spawner));
	TAILQ_INIT(&fzp_spawner.sp_queue);
	fzp_spawner.sp_pid = FZP_PID_BASE + 1 + FZP_SPAWNER;
	if (peer_init(&fzp_spawner.sp_peer, fzp_pair(&fzp_spawner_end),
	    "spawner", parent_dispatch_spawner, NULL, &fzp_spawner) == -1)
		abort();
	fzp_spawner.sp_open = 1;
	TAILQ_INSERT_TAIL(&fzp_env.p_spawners, &fzp_spawner, sp_entry);
	/* A retired spawner is closed once it has answered everything. */
	fzp_env.p_spawner = (setup & FZP_S_EXPIRED) ? NULL : &fzp_spawner;
	memset(fzp_kills, 0, sizeof(fzp_kills));
	if (!(setup & FZP_S_PIDS))
		fzp_spawn_req(NULL);
	for (i = 0; i < FZP_NSESS; i++)
		fzp_sess_make(i, setup, time(NULL));
}

/* Payload size of each type a sender may send, or -1 when it may not. */
static ssize_t
fzp_size(int sender, uint32_t type)
{
	if (type == IMSG_LOG)
		return sizeof(struct msg_log);
	if (sender == FZP_SPAWNER)
		return type == IMSG_SPAWNED ? sizeof(struct msg_spawned) : -1;
	if (sender == -1) {
		switch (type) {
		case IMSG_REQ_HEALTH:
		case IMSG_REQ_LIST:
		case IMSG_REQ_CLEANUP:
			return sizeof(struct msg_req);
		case IMSG_REQ_SSH_OPEN:
			return sizeof(struct msg_ssh_open);
		case IMSG_REQ_FTP_OPEN:
			return sizeof(struct msg_ftp_open);
		case IMSG_REQ_GET:
		case IMSG_REQ_CLOSE:
			return sizeof(struct msg_req_id);
		case IMSG_REQ_OP:
			return sizeof(struct msg_op);
		}
		return -1;
	}
	switch (type) {
	case IMSG_W_HOSTKEY:
		return sizeof(struct msg_w_hostkey);
	case IMSG_W_READY:
		return 0;
	case IMSG_W_FAILED:
		return sizeof(struct msg_error);
	case IMSG_W_OP_DONE:
		return sizeof(struct msg_w_done);
	}
	return -1;
}

/* A message the parent must treat as coming from a compromised child. */
static int
fzp_malformed(int sender, const struct imsg *im)
{
	ssize_t	 want = fzp_size(sender, im->hdr.type);

	return im->fd != -1 || want == -1 || im->hdr.len != (size_t)want;
}

/* Valid payloads for the requests the front sends. */
static void
fzp_template_front(uint32_t type, void *buf)
{
	struct msg_ssh_open	*so = buf;
	struct msg_ftp_open	*fo = buf;
	struct msg_req_id	*ri = buf;
	struct msg_op		*op = buf;

	switch (type) {
	case IMSG_REQ_SSH_OPEN:
		so->port = 22;
		strlcpy(so->host, "127.0.0.1", sizeof(so->host));
		strlcpy(so->username, "u", sizeof(so->username));
		strlcpy(so->password, "p", sizeof(so->password));
		break;
	case IMSG_REQ_FTP_OPEN:
		fo->port = 21;
		fo->passive = 1;
		strlcpy(fo->host, "localhost", sizeof(fo->host));
		strlcpy(fo->username, "u", sizeof(fo->username));
		strlcpy(fo->password, "p", sizeof(fo->password));
		break;
	case IMSG_REQ_GET:
	case IMSG_REQ_CLOSE:
		fzp_sess_id(3, ri->id, sizeof(ri->id));
		break;
	case IMSG_REQ_OP:
		op->op = OP_LIST;
		fzp_sess_id(3, op->id, sizeof(op->id));
		strlcpy(op->path, "/", sizeof(op->path));
		break;
	}
}

/* Valid payloads for what a worker or the spawner sends. */
static void
fzp_template_worker(uint32_t type, void *buf)
{
	struct msg_log		*l = buf;
	struct msg_w_hostkey	*hk = buf;
	struct msg_error	*e = buf;
	struct msg_spawned	*sp = buf;

	switch (type) {
	case IMSG_SPAWNED:
		sp->pid = FZP_PID_BASE + 1;
		break;
	case IMSG_LOG:
		l->pri = 6;
		strlcpy(l->line, "worker: hello", sizeof(l->line));
		break;
	case IMSG_W_HOSTKEY:
		strlcpy(hk->type, "ssh-ed25519", sizeof(hk->type));
		strlcpy(hk->sha256,
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
		    sizeof(hk->sha256));
		break;
	case IMSG_W_FAILED:
		e->status = 401;
		strlcpy(e->code, "auth_failed", sizeof(e->code));
		strlcpy(e->message, "Authentication failed",
		    sizeof(e->message));
		break;
	}
}

struct fzp_msg {
	int		 m_sender;	/* -1 front, FZP_SPAWNER, a session */
	uint32_t	 m_type;
	int		 m_fd;		/* pass a descriptor */
	size_t		 m_len;
	unsigned char	 m_data[FZP_PAYLOAD_MAX];
};

/* Payload length for the record's shape; raw bytes copied in. */
static size_t
fzp_shape(struct fz_in *in, struct fzp_msg *m, int shape, ssize_t want)
{
	const uint8_t	*p;
	ssize_t		 len = want < 0 ? 0 : want;

	switch (shape) {
	case 1:
		len += (int8_t)fz_u8(in);
		break;
	case 2:
		len = fz_take(in, fz_u16(in) % sizeof(m->m_data), &p);
		memcpy(m->m_data, p, len);
		return len;
	case 3:
		len = 0;
		break;
	}
	if (len < 0)
		len = 0;
	if ((size_t)len > sizeof(m->m_data))
		len = sizeof(m->m_data);
	memset(m->m_data, 0, want > len ? want : len);
	return len;
}

/* Overwrite input-chosen bytes of the payload. */
static void
fzp_patch(struct fz_in *in, struct fzp_msg *m)
{
	const uint8_t	*p;
	size_t		 off, n;
	int		 k, npatch = fz_u8(in) % 8;

	for (k = 0; k < npatch; k++) {
		off = fz_u16(in);
		n = fz_take(in, fz_u8(in) % 64, &p);
		if (m->m_len == 0)
			continue;
		off %= m->m_len;
		if (n > m->m_len - off)
			n = m->m_len - off;
		memcpy(m->m_data + off, p, n);
	}
}

/* Help the fuzzer name a session, and the operation a worker runs. */
static void
fzp_ids(struct fz_in *in, struct fzp_msg *m, int flags)
{
	struct session	*s;
	struct op	*o;
	size_t		 off = 0;
	uint32_t	 opid;

	if (flags & FZP_R_ID) {
		if (m->m_type == IMSG_REQ_GET || m->m_type == IMSG_REQ_CLOSE)
			off = offsetof(struct msg_req_id, id);
		else if (m->m_type == IMSG_REQ_OP)
			off = offsetof(struct msg_op, id);
		if (off != 0 && off + P_ID_LEN <= m->m_len)
			fzp_sess_id(fz_u8(in) % FZP_NSESS,
			    (char *)m->m_data + off, P_ID_LEN);
	}
	if ((flags & FZP_R_OPID) && m->m_sender >= 0 &&
	    m->m_sender != FZP_SPAWNER &&
	    m->m_len >= sizeof(opid) && (s = fzp_find(m->m_sender)) != NULL &&
	    (o = sess_op_head(s)) != NULL) {
		opid = o->o_id;
		memcpy(m->m_data + offsetof(struct msg_w_done, opid), &opid,
		    sizeof(opid));
	}
}

/* The next record: sender, type, flags, payload.  -1 at the end. */
static int
fzp_record(struct fz_in *in, struct fzp_msg *m)
{
	ssize_t	 want;
	int	 flags, shape;

	if (fz_left(in) < 3)
		return -1;
	m->m_sender = fz_u8(in) % (FZP_NSESS + 2) - 1;
	m->m_type = fz_u8(in);
	flags = fz_u8(in);
	m->m_fd = (flags & FZP_R_FD) != 0;
	want = fzp_size(m->m_sender, m->m_type);
	shape = flags & FZP_R_SHAPE;
	m->m_len = fzp_shape(in, m, shape, want);
	if (shape != 2) {
		if (flags & FZP_R_TEMPLATE) {
			if (m->m_sender == -1)
				fzp_template_front(m->m_type, m->m_data);
			else
				fzp_template_worker(m->m_type, m->m_data);
		}
		fzp_patch(in, m);
	}
	fzp_ids(in, m, flags);
	return 0;
}

/* Frame a record and write it, with a descriptor if it carries one. */
static void
fzp_send(int wire, const struct fzp_msg *m)
{
	struct imsg_hdr	 hdr;
	struct msghdr	 msg;
	struct iovec	 iov[2];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	int		 fd = -1;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = m->m_type;
	hdr.len = m->m_len;
	hdr.flags = m->m_fd ? IMSG_F_HASFD : 0;
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)m->m_data;
	iov[1].iov_len = m->m_len;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	if (m->m_fd) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			abort();
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
		CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(int));
	}
	if (sendmsg(wire, &msg, 0) != (ssize_t)(sizeof(hdr) + m->m_len))
		abort();
	if (fd != -1)
		close(fd);
}

/* Hosts that were sent a host key this run, by session. */
static unsigned int	 fzp_hk_mask;
static unsigned int	 fzp_hk_count;

/* The table's invariants, after every message. */
static void
fzp_check_table(void)
{
	struct session		*s;
	struct spawn_req	*sr;
	unsigned int		 n = 0;

	RB_FOREACH(s, sess_tree, &sess_all) {
		n++;
		FZ_CHECK(s->s_linked);
		FZ_CHECK(s->s_state >= SESS_CONNECTING &&
		    s->s_state <= SESS_BUSY);
		FZ_CHECK(s->s_state == SESS_CONNECTING || s->s_auth == NULL);
		FZ_CHECK(s->s_state == SESS_CONNECTING || s->s_conn == NULL);
		if (s->s_state == SESS_BUSY)
			FZ_CHECK(sess_op_head(s) != NULL);
		if (s->s_state == SESS_READY)
			FZ_CHECK(sess_op_head(s) == NULL);
	}
	FZ_CHECK(n == sess_count);
	/* A session waits for the spawner, or has a pid, or neither. */
	TAILQ_FOREACH(sr, &fzp_spawner.sp_queue, sr_entry)
		if (sr->sr_sess != NULL) {
			FZ_CHECK(sr->sr_sess->s_spawn == sr);
			FZ_CHECK(sr->sr_sess->s_linked);
			FZ_CHECK(sr->sr_sess->s_pid <= 0);
		}
	RB_FOREACH(s, sess_tree, &sess_all)
		FZ_CHECK(s->s_spawn == NULL || s->s_spawn->sr_sess == s);
	TAILQ_FOREACH(s, &fzp_env.p_dying, s_dying) {
		FZ_CHECK(!s->s_linked && s->s_state == SESS_DEAD);
		FZ_CHECK(s->s_auth == NULL && sess_op_head(s) == NULL);
		FZ_CHECK(s->s_pid > 0);
	}
}

/* Hand one message to the parent as its sender's; check the outcome. */
static void
fzp_dispatch(int sender, struct imsg *im)
{
	struct session	*s;
	unsigned long	 kills;
	int		 bad, slot;

	fz_trace("from %d: type %u len %u fd %d", sender, im->hdr.type,
	    im->hdr.len, im->fd);
	if (sender == -1) {
		/* A dead front sends nothing. */
		if (!fzp_env.p_front_up)
			return;
		bad = fzp_malformed(-1, im);
		kills = fzp_kills[0];
		parent_dispatch_front(&fzp_env.p_front, im);
		if (bad && fzp_env.p_front_pid > 0)
			FZ_CHECK(fzp_kills[0] > kills);
	} else if (sender == FZP_SPAWNER) {
		/* Once stopped, the parent reads no more from it. */
		if (!fzp_spawner.sp_open || fzp_spawner.sp_peer.p_dead)
			return;
		bad = fzp_malformed(FZP_SPAWNER, im);
		kills = fzp_kills[1 + FZP_SPAWNER];
		parent_dispatch_spawner(&fzp_spawner.sp_peer, im);
		if (bad)
			FZ_CHECK(fzp_kills[1 + FZP_SPAWNER] > kills);
	} else {
		/* A session freed at once had no child, hence no channel. */
		if ((s = fzp_find(sender)) == NULL)
			return;
		bad = fzp_malformed(sender, im);
		if (im->hdr.type == IMSG_W_HOSTKEY &&
		    s->s_type == SESS_SSH) {
			fzp_hk_mask |= 1U << sender;
			fzp_hk_count++;
		}
		/* Its pid: its own, or the one the spawner reported. */
		slot = s->s_pid > 0 ? s->s_pid - FZP_PID_BASE : -1;
		kills = slot >= 0 ? fzp_kills[slot] : 0;
		parent_dispatch_worker(&s->s_peer, im);
		if (bad && slot >= 0)
			FZ_CHECK(fzp_kills[slot] > kills);
	}
	fzp_check_table();
}

/*
 * Read what the wire holds and dispatch each message, as peer_read
 * does.  -1 when the channel would be dropped.
 */
static int
fzp_receive(struct imsgbuf *ib, int sender)
{
	struct imsg	 im;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		if ((n = imsg_read(ib)) == -1)
			return errno == EAGAIN ? 0 : -1;
		FZ_CHECK(n > 0);
		while ((rv = imsg_get(ib, &im)) == 1) {
			FZ_CHECK(im.hdr.len == 0 || im.data != NULL);
			fzp_dispatch(sender, &im);
			imsg_free(&im);
		}
		if (rv == -1)
			return -1;
	}
}

/* What the parent may write to the front. */
static void
fzp_check_reply(struct imsg *im)
{
	struct msg_error	*e = im->data;
	struct msg_session	*ms = im->data;

	fz_trace("to front: type %u len %u", im->hdr.type, im->hdr.len);
	FZ_CHECK((im->fd != -1) == (im->hdr.type == IMSG_REP_OP_START));
	switch (im->hdr.type) {
	case IMSG_REP_ERROR:
		FZ_CHECK(im->hdr.len == sizeof(*e));
		FZ_CHECK(e->status >= 400 && e->status <= 599);
		/* Every error carries a code (a worker's is allowlisted). */
		FZ_CHECK(STR_BOUNDED(e->code) && e->code[0] != '\0');
		FZ_CHECK(STR_BOUNDED(e->message));
		break;
	case IMSG_REP_SESSION:
		FZ_CHECK(im->hdr.len == sizeof(*ms));
		FZ_CHECK(STR_BOUNDED(ms->id) && STR_BOUNDED(ms->host));
		FZ_CHECK(STR_BOUNDED(ms->username) && STR_BOUNDED(ms->name));
		FZ_CHECK(STR_BOUNDED(ms->hostkey_type) &&
		    STR_BOUNDED(ms->hostkey_sha256));
		break;
	case IMSG_REP_HEALTH:
		FZ_CHECK(im->hdr.len == sizeof(struct msg_health));
		break;
	case IMSG_REP_LIST_END:
	case IMSG_REP_COUNT:
		FZ_CHECK(im->hdr.len == sizeof(struct msg_count));
		break;
	case IMSG_REP_OP_START:
		FZ_CHECK(im->hdr.len == sizeof(struct msg_req));
		break;
	default:
		fz_fail(__FILE__, __LINE__, "reply of type %u to the front",
		    im->hdr.type);
	}
}

/* What the parent may write to a worker. */
static void
fzp_check_order(struct imsg *im)
{
	struct msg_w_auth	*a = im->data;
	struct msg_op		*op = im->data;
	struct msg_sandbox	*sb = im->data;
	struct msg_w_start	*st = im->data;

	fz_trace("to worker: type %u len %u", im->hdr.type, im->hdr.len);
	FZ_CHECK((im->fd != -1) == (im->hdr.type == IMSG_W_OP));
	switch (im->hdr.type) {
	case IMSG_SANDBOX:
		/* Once the spawner reported the worker. */
		FZ_CHECK(im->hdr.len == sizeof(*sb));
		FZ_CHECK(STR_BOUNDED(sb->user) && STR_BOUNDED(sb->chroot));
		break;
	case IMSG_W_START:
		FZ_CHECK(im->hdr.len == sizeof(*st));
		FZ_CHECK(STR_BOUNDED(st->id) && STR_BOUNDED(st->host) &&
		    STR_BOUNDED(st->addr));
		break;
	case IMSG_W_AUTH:
		FZ_CHECK(im->hdr.len == sizeof(*a));
		FZ_CHECK(strcmp(a->username, "user") == 0);
		FZ_CHECK(strcmp(a->password, "secret") == 0);
		break;
	case IMSG_W_OP:
		FZ_CHECK(im->hdr.len == sizeof(*op));
		FZ_CHECK(op->op >= OP_LIST && op->op <= OP_EXEC);
		FZ_CHECK(STR_BOUNDED(op->id) && STR_BOUNDED(op->path));
		FZ_CHECK(STR_BOUNDED(op->filename) &&
		    STR_BOUNDED(op->command));
		break;
	case IMSG_W_CLOSE:
		FZ_CHECK(im->hdr.len == 0);
		break;
	default:
		fz_fail(__FILE__, __LINE__, "message of type %u to a worker",
		    im->hdr.type);
	}
}

/* Flush what the parent queued on a peer and check each message. */
static void
fzp_drain(struct peer *p, int end, void (*check)(struct imsg *))
{
	static struct imsgbuf	 ib;
	struct imsg		 im;
	ssize_t			 n;
	int			 i, rv, flushed;

	if (p->p_ib.ib_rbuf == NULL)
		return;
	/* One reader for every end, made once: it is left empty. */
	if (ib.ib_rbuf == NULL && imsgbuf_init(&ib, -1) == -1)
		abort();
	ib.ib_fd = end;
	for (i = 0; i < 100000; i++) {
		FZ_CHECK((flushed = imsg_flush(&p->p_ib)) != -1);
		n = imsg_read(&ib);
		FZ_CHECK(n > 0 || (n == -1 && errno == EAGAIN));
		while ((rv = imsg_get(&ib, &im)) == 1) {
			check(&im);
			imsg_free(&im);
		}
		FZ_CHECK(rv == 0);
		if (flushed == 0 && n == -1)
			break;
	}
	FZ_CHECK(ib.ib_rlen == 0 && ib.ib_nfds == 0);
}

/* The parent has nothing to say to the spawner here. */
static void
fzp_check_spawner(struct imsg *im)
{
	fz_fail(__FILE__, __LINE__, "message of type %u to the spawner",
	    im->hdr.type);
}

/* Drain the front, the spawner and every worker that has a channel. */
static void
fzp_drain_all(void)
{
	struct session	*s;
	int		 i;

	fzp_drain(&fzp_env.p_front, fzp_front_end, fzp_check_reply);
	fzp_drain(&fzp_spawner.sp_peer, fzp_spawner_end, fzp_check_spawner);
	for (i = 0; i < FZP_NSESS; i++)
		if ((s = fzp_find(i)) != NULL && s->s_has_peer)
			fzp_drain(&s->s_peer, fzp_worker_end[i],
			    fzp_check_order);
}

/*
 * Each line of the known hosts file must be "host port type SHA256:fp"
 * for an SSH session that was sent a host key this run, and there can
 * be no more lines than such messages.
 */
static void
fzp_check_known_hosts(void)
{
	FILE		*f;
	char		 line[4096], h[256], t[256], fp[256], x[8], want[64];
	unsigned int	 port, nlines = 0;
	int		 fd, n, i, found;

	if ((fd = dup(fzp_khfd)) == -1 || lseek(fd, 0, SEEK_SET) == -1 ||
	    (f = fdopen(fd, "r")) == NULL)
		abort();
	while (!fzp_lax_kh && fgets(line, sizeof(line), f) != NULL) {
		nlines++;
		n = sscanf(line, "%255s %u %255s %255s %7s", h, &port, t, fp,
		    x);
		FZ_CHECK(n == 4);
		FZ_CHECK(strncmp(fp, "SHA256:", 7) == 0);
		for (found = 0, i = 0; i < FZP_NSESS; i++) {
			snprintf(want, sizeof(want), "host%d.example", i);
			if ((fzp_hk_mask & (1U << i)) &&
			    strcmp(h, want) == 0 && port == 22)
				found = 1;
		}
		FZ_CHECK(found);
	}
	FZ_CHECK(nlines <= fzp_hk_count);
	fclose(f);
	if (ftruncate(fzp_khfd, 0) == -1)
		abort();
}

/* Close every session as the parent would, then reap them all. */
static void
fzp_teardown(void)
{
	struct session		*s, *next;
	struct spawn_req	*sr;
	int			 i, n;

	fzp_drain_all();
	RB_FOREACH_SAFE(s, sess_tree, &sess_all, next)
		parent_sess_close(s, "fuzz run over");
	fzp_check_table();
	fzp_drain_all();
	while ((s = TAILQ_FIRST(&fzp_env.p_dying)) != NULL) {
		TAILQ_REMOVE(&fzp_env.p_dying, s, s_dying);
		if (s->s_killtimer != NULL)
			event_free(s->s_killtimer);
		if (s->s_has_peer)
			peer_free(&s->s_peer);
		sess_free(s);
	}
	/* Closed by the parent only if retired and done. */
	FZ_CHECK(fzp_spawner.sp_open || (fzp_env.p_spawner == NULL &&
	    TAILQ_EMPTY(&fzp_spawner.sp_queue)));
	/* Requests left unanswered: their sessions have all closed. */
	while ((sr = TAILQ_FIRST(&fzp_spawner.sp_queue)) != NULL) {
		FZ_CHECK(sr->sr_sess == NULL);
		TAILQ_REMOVE(&fzp_spawner.sp_queue, sr, sr_entry);
		free(sr);
	}
	if (fzp_spawner.sp_open)
		peer_free(&fzp_spawner.sp_peer);
	TAILQ_REMOVE(&fzp_env.p_spawners, &fzp_spawner, sp_entry);
	fzp_env.p_spawner = NULL;
	close(fzp_spawner_end);
	peer_free(&fzp_env.p_front);
	close(fzp_front_end);
	for (i = 0; i < FZP_NSESS; i++)
		close(fzp_worker_end[i]);

	FZ_CHECK(sess_count == 0 && RB_EMPTY(&sess_all));
	FZ_CHECK(event_base_get_num_events(proc_base,
	    EVENT_BASE_COUNT_ADDED) == 0);
	if ((n = fzp_nfds()) != fzp_fdcount)
		fz_fail(__FILE__, __LINE__, "descriptor leak: %d open, "
		    "%d before the run", n, fzp_fdcount);
	fzp_check_known_hosts();
}

/* Raw framed bytes from one sender, written in input-derived pieces. */
static void
fzp_raw(struct fz_in *in, struct imsgbuf *ib, int wire)
{
	struct fz_split	 sp;
	const uint8_t	*p;
	size_t		 n;
	int		 sender = fz_u8(in) % (FZP_NSESS + 2) - 1;

	fz_split_init(&sp, in);
	while (fz_left(in) > 0) {
		n = fz_take(in, fz_split_next(&sp, fz_left(in)), &p);
		if (write(wire, p, n) != (ssize_t)n)
			abort();
		if (fzp_receive(ib, sender) == -1)
			return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fzp_msg	 m;
	struct fz_in		 in;
	struct imsgbuf		 ib;
	int			 setup, sv[2], i;

	fz_in_init(&in, data, size);
	setup = fz_u8(&in);
	fzp_hk_mask = fzp_hk_count = 0;
	fzp_fdcount = fzp_nfds();
	fzp_setup(setup);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fd_nonblock(sv[0]) == -1 || imsgbuf_init(&ib, sv[0]) == -1)
		abort();

	if (setup & FZP_S_RAW)
		fzp_raw(&in, &ib, sv[1]);
	else
		for (i = 0; i < FZP_MSGS_MAX; i++) {
			if (fzp_record(&in, &m) == -1)
				break;
			fzp_send(sv[1], &m);
			if (fzp_receive(&ib, m.m_sender) == -1)
				break;
		}

	imsgbuf_clear(&ib);
	close(sv[0]);
	close(sv[1]);
	fzp_teardown();
	return 0;
}
