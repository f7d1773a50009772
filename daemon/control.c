/*
 * The control socket: coreastractl talks to the parent here.  A client
 * is admitted by its peer credentials, must say hello with the protocol
 * version first, and is dropped on any malformed message; each command
 * it asks is logged.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "coreastra_proto.h"
#include "log.h"
#include "parent.h"
#include "util.h"

#define CONTROL_MAX_CLIENTS	64
#define CONTROL_BACKLOG		16
#define CONTROL_MAX_QUEUED	(4 * 1024 * 1024)	/* unread replies */
#define CONTROL_MAX_GROUPS	65536
#define CONTROL_MAX_VERBOSE	9
#define CONTROL_IDLE_SECS	60	/* a client that asks nothing goes */

#define IMSG_IS(im, T)	((im)->hdr.len == sizeof(T))

struct control_client {
	struct peer	 cc_peer;
	struct event	*cc_idle;
	int		 cc_used;
	int		 cc_hello;	/* version checked */
	uid_t		 cc_uid;
	pid_t		 cc_pid;
};

struct control_state {
	int		 cs_fd;
	struct event	*cs_ev;
	struct event	*cs_pause;	/* out of descriptors: wait */
	char		 cs_path[PATH_MAX];
	char		 cs_group[CONF_NAME_MAX];
	gid_t		 cs_gid;
	int		 cs_has_gid;
	unsigned int	 cs_nclients;
};

static struct control_state	 control = { .cs_fd = -1 };
/*
 * A fixed table: a client's slot stays valid while libevent is still
 * inside that client's callback, so it may be released from there.
 */
static struct control_client	 control_clients[CONTROL_MAX_CLIENTS];

static void	control_dispatch_client(struct peer *, struct imsg *);

/* Resolve the configured group; an unknown one admits nobody extra. */
static void
control_group(const char *group)
{
	struct group	*gr;

	control.cs_has_gid = 0;
	strlcpy(control.cs_group, group, sizeof(control.cs_group));
	if (group[0] == '\0')
		return;
	errno = 0;
	if ((gr = getgrnam(group)) == NULL) {
		if (errno != 0)
			log_warn("control group %s", group);
		else
			log_warnx("control group %s does not exist: only root "
			    "and the daemon's user may connect", group);
		return;
	}
	control.cs_gid = gr->gr_gid;
	control.cs_has_gid = 1;
}

/*
 * Make room for the socket: a stale socket of ours is removed, a live
 * one (another daemon answers) or anything that is not a socket stays.
 */
static int
control_clear_path(const char *path, const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd, rv;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("control socket %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket %s: exists and is not a socket",
		    path);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		log_warnx("control socket %s: belongs to uid %u", path,
		    (unsigned)st.st_uid);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	rv = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rv == 0) {
		log_warnx("control socket %s: in use by another process",
		    path);
		return -1;
	}
	if (unlink(path) == -1) {
		log_warn("control socket %s: unlink", path);
		return -1;
	}
	return 0;
}

/* Create, bind and protect the listening socket; logs its failures. */
static int
control_listen(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 omask;
	int			 fd, rv;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("control socket %s: path too long", path);
		return -1;
	}
	if (control_clear_path(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}

	/* Never more open than 0660, not even between bind and chmod. */
	omask = umask(S_IXUSR | S_IRWXO | S_IXGRP);
	rv = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(omask);
	if (rv == -1) {
		log_warn("control socket %s: bind", path);
		close(fd);
		return -1;
	}
	if (chmod(path, 0660) == -1 || (geteuid() == 0 &&
	    control.cs_has_gid && chown(path, 0, control.cs_gid) == -1) ||
	    listen(fd, CONTROL_BACKLOG) == -1) {
		log_warn("control socket %s", path);
		if (unlink(path) == -1)
			log_warn("unlink %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* True when the user is in the group, as primary or supplementary. */
static int
control_in_group(uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	gid_t		*groups;
	int		 n = 64, i, found = 0;

	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	if (pw->pw_gid == gid)
		return 1;
	for (;;) {
		if ((groups = calloc(n, sizeof(*groups))) == NULL)
			return 0;
		i = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &i) != -1)
			break;
		free(groups);
		/* i now says how many there are. */
		if (i <= n || i > CONTROL_MAX_GROUPS)
			return 0;
		n = i;
	}
	while (i-- > 0)
		if (groups[i] == gid)
			found = 1;
	free(groups);
	return found;
}

/* Root, the daemon's own user and members of the control group. */
static int
control_allowed(const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid())
		return 1;
	if (!control.cs_has_gid)
		return 0;
	return cred->gid == control.cs_gid ||
	    control_in_group(cred->uid, control.cs_gid);
}

/* Answer a client that gets no slot, then hang up. */
static void
control_refuse(int fd, const char *code, const char *message)
{
	struct imsgbuf		 ib;
	struct msg_error	 m;

	memset(&m, 0, sizeof(m));
	m.status = 1;
	strlcpy(m.code, code, sizeof(m.code));
	strlcpy(m.message, message, sizeof(m.message));
	if (imsgbuf_init(&ib, fd) == 0) {
		/* Best effort: the socket is new and its buffer empty. */
		if (imsg_compose(&ib, IMSG_CTL_RESULT, 0, -1, &m,
		    sizeof(m)) == 0)
			(void)imsg_flush(&ib);
		imsgbuf_clear(&ib);
	}
	close(fd);
}

/* Release a client's slot and socket. */
static void
control_free(struct control_client *c)
{
	if (!c->cc_used)
		return;
	if (c->cc_idle != NULL) {
		event_free(c->cc_idle);
		c->cc_idle = NULL;
	}
	peer_free(&c->cc_peer);
	c->cc_used = 0;
	control.cs_nclients--;
}

/* Drop a misbehaving client, saying why. */
static void
control_drop(struct control_client *c, const char *why, uint32_t type)
{
	log_warnx("client uid %u pid %d sent %s (type %u): closing it",
	    (unsigned)c->cc_uid, (int)c->cc_pid, why, type);
	control_free(c);
}

/* The channel failed or the client hung up: free its slot. */
static void
control_client_closed(struct peer *p, const char *why)
{
	struct control_client	*c = p->p_arg;

	if (strcmp(why, "connection closed") == 0)
		log_debug("client uid %u pid %d disconnected",
		    (unsigned)c->cc_uid, (int)c->cc_pid);
	else
		log_warnx("client uid %u pid %d: %s: closing it",
		    (unsigned)c->cc_uid, (int)c->cc_pid, why);
	control_free(c);
}

/* A client that has been silent too long gives its slot back. */
static void
control_idle(int fd, short ev, void *arg)
{
	struct control_client	*c = arg;

	(void)fd;
	(void)ev;
	log_warnx("client uid %u pid %d idle for %d seconds: closing it",
	    (unsigned)c->cc_uid, (int)c->cc_pid, CONTROL_IDLE_SECS);
	control_free(c);
}

/* Restart a client's idle clock. */
static void
control_touch(struct control_client *c)
{
	struct timeval	 tv = { CONTROL_IDLE_SECS, 0 };

	evtimer_add(c->cc_idle, &tv);
}

static void
control_result(struct control_client *c, int status, const char *code,
    const char *fmt, ...) __attribute__((__format__ (printf, 4, 5)));

/* Send the outcome of a command: status 0 is success. */
static void
control_result(struct control_client *c, int status, const char *code,
    const char *fmt, ...)
{
	struct msg_error	 m;
	va_list			 ap;

	memset(&m, 0, sizeof(m));
	m.status = status;
	strlcpy(m.code, code, sizeof(m.code));
	va_start(ap, fmt);
	vsnprintf(m.message, sizeof(m.message), fmt, ap);
	va_end(ap);
	if (peer_compose(&c->cc_peer, IMSG_CTL_RESULT, 0, -1, &m,
	    sizeof(m)) == -1)
		log_warn("reply to client pid %d", (int)c->cc_pid);
}

/* Pick a free slot and start serving the connection in it. */
static void
control_adopt(int fd, const struct ucred *cred)
{
	struct control_client	*c = NULL;
	int			 i;

	for (i = 0; i < CONTROL_MAX_CLIENTS && c == NULL; i++)
		if (!control_clients[i].cc_used)
			c = &control_clients[i];
	if (c == NULL) {
		log_warnx("client uid %u pid %d refused: too many clients",
		    (unsigned)cred->uid, (int)cred->pid);
		control_refuse(fd, "busy", "too many control clients");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->cc_uid = cred->uid;
	c->cc_pid = cred->pid;
	if ((c->cc_idle = evtimer_new(proc_base, control_idle, c)) == NULL ||
	    peer_init(&c->cc_peer, fd, "control", control_dispatch_client,
	    control_client_closed, c) == -1) {
		log_warn("control client");
		if (c->cc_idle != NULL)
			event_free(c->cc_idle);
		c->cc_idle = NULL;
		close(fd);
		return;
	}
	c->cc_used = 1;
	control_touch(c);
	control.cs_nclients++;
	log_debug("client uid %u pid %d connected", (unsigned)c->cc_uid,
	    (int)c->cc_pid);
}

/* Out of descriptors: stop accepting for a second. */
static void
control_pause(void)
{
	struct timeval	 tv = { 1, 0 };

	event_del(control.cs_ev);
	evtimer_add(control.cs_pause, &tv);
}

static void
control_resume(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (control.cs_fd != -1)
		event_add(control.cs_ev, NULL);
}

/* A client connects: check who it is before reading a byte. */
static void
control_accept(int lfd, short ev, void *arg)
{
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);
	int		 fd;

	(void)ev;
	(void)arg;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			log_warn("accept");
			control_pause();
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred)) {
		log_warn("client credentials");
		close(fd);
		return;
	}
	if (!control_allowed(&cred)) {
		log_warnx("client uid %u pid %d refused: permission denied",
		    (unsigned)cred.uid, (int)cred.pid);
		control_refuse(fd, "permission_denied", "permission denied");
		return;
	}
	control_adopt(fd, &cred);
}

/*
 * Open the control socket at path, mode 0660; with a group, owned by
 * root and that group when running as root.  Returns -1 and logs on
 * failure; the daemon then runs without one.
 */
int
control_init(const char *path, const char *group)
{
	if (control.cs_fd != -1) {
		errno = EBUSY;
		return -1;
	}
	if (path == NULL || path[0] == '\0') {
		log_warnx("no control socket path");
		errno = EINVAL;
		return -1;
	}
	control_group(group != NULL ? group : "");
	if ((control.cs_fd = control_listen(path)) == -1)
		return -1;
	strlcpy(control.cs_path, path, sizeof(control.cs_path));
	control.cs_ev = event_new(proc_base, control.cs_fd,
	    EV_READ | EV_PERSIST, control_accept, NULL);
	control.cs_pause = evtimer_new(proc_base, control_resume, NULL);
	if (control.cs_ev == NULL || control.cs_pause == NULL ||
	    event_add(control.cs_ev, NULL) == -1) {
		log_warnx("control socket events");
		control_close();
		errno = ENOMEM;
		return -1;
	}
	log_info("control socket %s%s%s", path,
	    control.cs_has_gid ? ", group " : "",
	    control.cs_has_gid ? control.cs_group : "");
	return 0;
}

/* Close every client and the socket, and remove it. */
void
control_close(void)
{
	int	 i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		control_free(&control_clients[i]);
	if (control.cs_ev != NULL) {
		event_free(control.cs_ev);
		control.cs_ev = NULL;
	}
	if (control.cs_pause != NULL) {
		event_free(control.cs_pause);
		control.cs_pause = NULL;
	}
	if (control.cs_fd == -1)
		return;
	close(control.cs_fd);
	control.cs_fd = -1;
	if (control.cs_path[0] != '\0' && unlink(control.cs_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", control.cs_path);
	control.cs_path[0] = '\0';
}

/* The first message: the client's protocol version must be ours. */
static void
control_hello(struct control_client *c, struct imsg *im)
{
	uint32_t	 version;

	/* Read the version leniently so any client learns the mismatch. */
	if (im->hdr.type != IMSG_CTL_HELLO) {
		control_drop(c, "a command before hello", im->hdr.type);
		return;
	}
	if (im->hdr.len < sizeof(version)) {
		control_drop(c, "a short hello", im->hdr.type);
		return;
	}
	memcpy(&version, im->data, sizeof(version));
	if (version != COREASTRA_PROTO_VERSION) {
		log_warnx("client uid %u pid %d speaks protocol %u, not %u",
		    (unsigned)c->cc_uid, (int)c->cc_pid, version,
		    COREASTRA_PROTO_VERSION);
		control_result(c, 1, "version_mismatch",
		    "protocol version mismatch: daemon %u, client %u",
		    COREASTRA_PROTO_VERSION, version);
		(void)imsg_flush(&c->cc_peer.p_ib);
		control_free(c);
		return;
	}
	if (!IMSG_IS(im, struct msg_ctl_hello)) {
		control_drop(c, "a hello of the wrong size", im->hdr.type);
		return;
	}
	c->cc_hello = 1;
}

/*
 * Find the one session an operator names by id or unique prefix.  On
 * failure the client has been told why and NULL is returned.
 */
static struct session *
control_lookup(struct control_client *c, const char *id)
{
	struct session	*s;
	int		 ambiguous;

	if ((s = sess_find(id)) != NULL)
		return s;
	if ((s = sess_find_prefix(id, &ambiguous)) != NULL)
		return s;
	if (ambiguous)
		control_result(c, 1, "ambiguous",
		    "session id %s is ambiguous", id);
	else
		control_result(c, 1, "session_not_found",
		    "no session matches %s", id);
	return NULL;
}

static void
control_send_session(struct control_client *c, struct session *s,
    time_t now)
{
	struct msg_session	 m;

	sess_describe(s, now, &m);
	m.reqid = 0;
	peer_compose(&c->cc_peer, IMSG_CTL_SESSION, 0, -1, &m, sizeof(m));
}

/* show sessions [ID]: every session, connecting ones included. */
static void
control_show_sessions(struct control_client *c, const char *id)
{
	struct session	*s;
	time_t		 now = time(NULL);

	if (id[0] != '\0') {
		if ((s = control_lookup(c, id)) == NULL)
			return;
		control_send_session(c, s, now);
	} else
		RB_FOREACH(s, sess_tree, &sess_all)
			control_send_session(c, s, now);
	peer_compose(&c->cc_peer, IMSG_CTL_END, 0, -1, NULL, 0);
}

/*
 * kill ID or kill all.  A session still connecting is left to its open
 * timer: closing it here would leave the front's request unanswered.
 */
static void
control_kill(struct control_client *c, const char *id)
{
	struct session	*s, *next;
	unsigned int	 n = 0;

	if (strcmp(id, "all") == 0) {
		RB_FOREACH_SAFE(s, sess_tree, &sess_all, next) {
			if (s->s_state == SESS_CONNECTING)
				continue;
			parent_sess_close(s, "killed by operator");
			n++;
		}
	} else {
		if ((s = control_lookup(c, id)) == NULL)
			return;
		if (s->s_state == SESS_CONNECTING) {
			control_result(c, 1, "busy",
			    "session %s is still connecting", s->s_id);
			return;
		}
		parent_sess_close(s, "killed by operator");
		n = 1;
	}
	control_result(c, 0, "ok", "killed %u session%s", n,
	    n == 1 ? "" : "s");
}

static void
control_stats(struct control_client *c)
{
	struct msg_stats	 st;

	parent_stats(&st);
	peer_compose(&c->cc_peer, IMSG_CTL_STATS, 0, -1, &st, sizeof(st));
}

static void
control_cleanup(struct control_client *c)
{
	unsigned int	 n;

	n = parent_cleanup();
	control_result(c, 0, "ok", "removed %u expired session%s", n,
	    n == 1 ? "" : "s");
}

/* Reload; the first error (file:line: message) goes back to the tool. */
static void
control_reload(struct control_client *c)
{
	if (parent_reload() == -1) {
		control_result(c, 1, "reload_failed", "reload failed: %s; "
		    "the old configuration stays in force",
		    parent_env->p_conf_error[0] ? parent_env->p_conf_error :
		    "see the log");
		return;
	}
	control_result(c, 0, "ok", "configuration reloaded");
}

/* Change the verbosity of the parent and of every child. */
static void
control_verbose(struct control_client *c, uint32_t level)
{
	if (level > CONTROL_MAX_VERBOSE) {
		control_result(c, 1, "invalid_request",
		    "invalid verbosity level %u", level);
		return;
	}
	parent_set_verbose(level);
	control_result(c, 0, "ok", "logging %s", level ? "verbose" : "brief");
}

/* Run one command from a client that has said hello. */
static const char *
control_command(struct control_client *c, struct imsg *im)
{
	struct msg_ctl_id	*ci = im->data;
	struct msg_count	*mc = im->data;
	unsigned int		 uid = c->cc_uid;
	int			 pid = c->cc_pid;

	switch (im->hdr.type) {
	case IMSG_CTL_SHOW_SESSIONS:
	case IMSG_CTL_KILL:
		if (!IMSG_IS(im, struct msg_ctl_id))
			return "a message of the wrong size";
		if (!STR_BOUNDED(ci->id))
			return "an unterminated session id";
		if (im->hdr.type == IMSG_CTL_KILL) {
			log_info("uid %u pid %d: kill %s", uid, pid, ci->id);
			control_kill(c, ci->id);
		} else {
			log_info("uid %u pid %d: show sessions %s", uid, pid,
			    ci->id[0] ? ci->id : "all");
			control_show_sessions(c, ci->id);
		}
		return NULL;
	case IMSG_CTL_SHOW_STATS:
	case IMSG_CTL_CLEANUP:
	case IMSG_CTL_RELOAD:
		if (im->hdr.len != 0)
			return "a message of the wrong size";
		if (im->hdr.type == IMSG_CTL_SHOW_STATS) {
			log_info("uid %u pid %d: show stats", uid, pid);
			control_stats(c);
		} else if (im->hdr.type == IMSG_CTL_CLEANUP) {
			log_info("uid %u pid %d: cleanup", uid, pid);
			control_cleanup(c);
		} else {
			log_info("uid %u pid %d: reload", uid, pid);
			control_reload(c);
		}
		return NULL;
	case IMSG_CTL_LOG_VERBOSE:
		if (!IMSG_IS(im, struct msg_count))
			return "a message of the wrong size";
		log_info("uid %u pid %d: log verbose %u", uid, pid, mc->count);
		control_verbose(c, mc->count);
		return NULL;
	case IMSG_CTL_HELLO:
		return "a second hello";
	}
	return "an unknown message";
}

/* Messages from a coreastractl client. */
static void
control_dispatch_client(struct peer *p, struct imsg *im)
{
	struct control_client	*c = p->p_arg;
	const char		*why;

	if (im->fd != -1) {
		control_drop(c, "a descriptor", im->hdr.type);
		return;
	}
	if (!c->cc_hello) {
		control_hello(c, im);
		return;
	}
	if (p->p_ib.ib_outlen > CONTROL_MAX_QUEUED) {
		control_drop(c, "commands without reading the replies",
		    im->hdr.type);
		return;
	}
	if ((why = control_command(c, im)) != NULL) {
		control_drop(c, why, im->hdr.type);
		return;
	}
	control_touch(c);
}
