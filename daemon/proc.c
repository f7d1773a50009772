/*
 * Processes: spawning children (fork and exec of our own binary, with a
 * fixed descriptor layout) and the libevent-driven imsg peers that link
 * them to the parent.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "coreastra_proto.h"
#include "log.h"
#include "proc.h"
#include "util.h"

char			 proc_self[PATH_MAX];
struct event_base	*proc_base;
static int		 proc_self_fd = -1;
static struct imsgbuf	*proc_log_ib;

/*
 * Hold our own binary open so children are exec'd from the very file
 * the parent runs, even if it is replaced on disk (an upgrade, a
 * rebuild) while the daemon runs.
 */
void
proc_init_self(void)
{
	ssize_t	 n;

	n = readlink("/proc/self/exe", proc_self, sizeof(proc_self) - 1);
	if (n == -1)
		fatal("readlink /proc/self/exe");
	proc_self[n] = '\0';
	if ((proc_self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		fatal("open /proc/self/exe");
}

static void
peer_update(struct peer *p)
{
	short	 want = EV_READ | EV_PERSIST;

	if (p->p_ib.ib_outlen > 0)
		want |= EV_WRITE;
	if (want == p->p_events)
		return;
	event_del(p->p_ev);
	event_assign(p->p_ev, proc_base, p->p_ib.ib_fd, want,
	    event_get_callback(p->p_ev), p);
	event_add(p->p_ev, NULL);
	p->p_events = want;
}

/* Mark the peer dead and tell its owner once, with the reason. */
static void
peer_fail(struct peer *p, const char *why)
{
	if (p->p_dead)
		return;
	p->p_dead = 1;
	event_del(p->p_ev);
	if (p->p_closed != NULL)
		p->p_closed(p, why);
}

static void
peer_read(struct peer *p)
{
	struct imsg	 im;
	ssize_t		 n;
	int		 rv;

	if ((n = imsg_read(&p->p_ib)) == -1 && errno != EAGAIN) {
		peer_fail(p, errno == EBADMSG ? "bad descriptors" :
		    "read error");
		return;
	}
	if (n == 0) {
		peer_fail(p, "connection closed");
		return;
	}
	while (!p->p_dead && (rv = imsg_get(&p->p_ib, &im)) != 0) {
		if (rv == -1) {
			peer_fail(p, "malformed message header");
			return;
		}
		p->p_dispatch(p, &im);
		imsg_free(&im);
	}
}

static void
peer_event(int fd, short ev, void *arg)
{
	struct peer	*p = arg;

	(void)fd;
	if ((ev & EV_WRITE) && imsg_flush(&p->p_ib) == -1) {
		peer_fail(p, "write error");
		return;
	}
	if (ev & EV_READ)
		peer_read(p);
	if (!p->p_dead)
		peer_update(p);
}

int
peer_init(struct peer *p, int fd, const char *name, peer_dispatch_t dispatch,
    peer_closed_t closed, void *arg)
{
	memset(p, 0, sizeof(*p));
	if (fd_nonblock(fd) == -1 || imsgbuf_init(&p->p_ib, fd) == -1)
		return -1;
	p->p_name = name;
	p->p_dispatch = dispatch;
	p->p_closed = closed;
	p->p_arg = arg;
	p->p_events = EV_READ | EV_PERSIST;
	p->p_ev = event_new(proc_base, fd, p->p_events, peer_event, p);
	if (p->p_ev == NULL || event_add(p->p_ev, NULL) == -1) {
		imsgbuf_clear(&p->p_ib);
		return -1;
	}
	return 0;
}

/* Stop reading a misbehaving peer: nothing more it sent is handled. */
void
peer_stop(struct peer *p)
{
	if (p->p_dead)
		return;
	p->p_dead = 1;
	event_del(p->p_ev);
}

/* Queue a message to the peer; it is written when the socket allows. */
int
peer_compose(struct peer *p, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	if (p->p_dead) {
		if (fd != -1)
			close(fd);
		errno = EPIPE;
		return -1;
	}
	if (imsg_compose(&p->p_ib, type, peerid, fd, data, len) == -1)
		return -1;
	peer_update(p);
	return 0;
}

/* Release the peer and close its socket. */
void
peer_free(struct peer *p)
{
	if (p->p_ev != NULL) {
		event_del(p->p_ev);
		event_free(p->p_ev);
		p->p_ev = NULL;
	}
	if (p->p_ib.ib_rbuf != NULL) {
		close(p->p_ib.ib_fd);
		imsgbuf_clear(&p->p_ib);
	}
	p->p_dead = 1;
}

/*
 * Fork and exec ourselves as a child of the given role.  fds[] become
 * descriptors 4, 5, ... in the child; descriptor 3 is the imsg channel
 * whose parent end is returned in *chan.
 */
pid_t
proc_spawn(const char *role, const int *fds, int nfds, int foreground,
    int verbose, int *chan)
{
	char	*argv[8];
	int	 sv[2], moved[4], i, exe, argc = 0;
	pid_t	 pid;

	if (nfds > 4) {
		errno = EINVAL;
		return -1;
	}

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	argv[argc++] = (char *)(uintptr_t)"coreastrad";
	argv[argc++] = (char *)(uintptr_t)"-X";
	argv[argc++] = (char *)(uintptr_t)role;
	if (foreground)
		argv[argc++] = (char *)(uintptr_t)"-d";
	if (verbose)
		argv[argc++] = (char *)(uintptr_t)"-v";
	argv[argc] = NULL;

	switch ((pid = fork())) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		/* Descriptors first: fds[] may sit on 3, 4 or 5. */
		if ((exe = fcntl(proc_self_fd, F_DUPFD_CLOEXEC, 10)) == -1)
			_exit(1);
		for (i = 0; i < nfds; i++)
			if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC,
			    10)) == -1)
				_exit(1);
		if ((sv[1] = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) == -1 ||
		    dup2(sv[1], PROC_FD_PARENT) == -1)
			_exit(1);
		for (i = 0; i < nfds; i++)
			if (dup2(moved[i], PROC_FD_PARENT + 1 + i) == -1)
				_exit(1);
		/* Everything else goes, but the binary (closed by exec). */
		if (close_range(PROC_FD_PARENT + 1 + nfds, exe - 1, 0) == -1 ||
		    close_range(exe + 1, ~0U, 0) == -1)
			_exit(1);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
			_exit(1);
		fexecve(exe, argv, environ);
		_exit(127);
	}
	close(sv[1]);
	*chan = sv[0];
	return pid;
}

/* In a fresh child: signals to defaults, die with the parent. */
void
proc_child_setup(void)
{
	struct sigaction sa;
	int		 sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		fatal("prctl");
	if (getppid() == 1)
		fatalx("parent is gone");
}

/*
 * Block until the parent sends a message; it must be of the given type
 * and size.  Used by children before their event loop runs.
 */
int
proc_child_recv(struct imsgbuf *ib, struct imsg *im, uint32_t type,
    size_t len)
{
	if (imsg_get_blocking(ib, im, -1) == -1)
		return -1;
	if (im->hdr.type != type || im->hdr.len != len) {
		imsg_free(im);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* Children send their log lines to the parent through this hook. */
void
proc_log_to(struct imsgbuf *ib)
{
	proc_log_ib = ib;
	log_sethook(proc_log_hook);
}

void
proc_log_hook(int pri, const char *line)
{
	struct msg_log	 m;

	memset(&m, 0, sizeof(m));
	m.pri = pri;
	strlcpy(m.line, line, sizeof(m.line));
	if (imsg_compose(proc_log_ib, IMSG_LOG, 0, -1, &m, sizeof(m)) == 0)
		(void)imsg_flush(proc_log_ib);
}

/* Describe a wait(2) status: exit code, signal, or sandbox violation. */
const char *
proc_status_str(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len, "sandbox violation (killed by SIGSYS)");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped, status 0x%x", status);
	return buf;
}
