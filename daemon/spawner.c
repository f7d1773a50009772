/*
 * The spawner: a child of the parent that loads and initialises the
 * workers' libraries once (OpenSSL, libssh2, libcurl), then forks a
 * worker for every session the parent asks for.  A worker exec'd on
 * its own pays about 1.4 MiB more for relocated library data and
 * library state (regress/bench/capacity.sh); forked from here, it
 * shares those pages.
 *
 * The parent must still be the worker's parent (it reaps it and tells
 * a sandbox kill from a crash), so the spawner forks twice: the middle
 * process forks the worker and exits, and the orphaned worker goes to
 * the parent, which is a child subreaper (PR_SET_CHILD_SUBREAPER).
 * The spawner reports the worker's pid once the middle process is
 * gone, so the worker's parent is the daemon by then.
 *
 * The spawner reads nothing but the parent's messages and never holds
 * a credential; it keeps the parent's privileges because each worker
 * enters its own sandbox (chroot, user, seccomp) after the fork.
 * Workers share the spawner's address space layout; with "workers
 * exec" in the configuration every worker is exec'd instead.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coreastra_proto.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "worker.h"

#define SPAWNER_MAXFDS	3	/* channel, remote socket, CA bundle */

static struct imsgbuf	 spawner_ib;
static pid_t		 spawner_parent;

/* Block for the parent's next message; its end means ours. */
static void
spawner_recv(struct imsg *im)
{
	if (imsg_get_blocking(&spawner_ib, im, -1) == 1)
		return;
	if (errno == EPIPE)
		exit(0);
	fatal("message from the parent");
}

/*
 * In the worker: its descriptors on 3, 4, 5 (fds[] may sit anywhere,
 * the spawner's channel is on 3), everything else closed.
 */
static void __attribute__((__noreturn__))
spawner_child(const char *role, const int *fds, int nfds)
{
	int	 moved[SPAWNER_MAXFDS], i;

	setproctitle("%s worker", role);
	for (i = 0; i < nfds; i++)
		if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10)) == -1)
			_exit(1);
	for (i = 0; i < nfds; i++)
		if (dup2(moved[i], PROC_FD_PARENT + i) == -1)
			_exit(1);
	/* Descriptors the spawner read ahead for the next worker go too. */
	if (close_range(PROC_FD_PARENT + nfds, ~0U, 0) == -1)
		_exit(1);
	/*
	 * spawner_ib now names a descriptor that is not its own: it is
	 * left alone, its buffer unused rather than freed (freezero would
	 * copy every page of it into this process for nothing).
	 */
	worker_main(role, spawner_parent);
}

/* Fork a worker; its pid once it is the parent's child, or -1. */
static pid_t
spawner_fork(const char *role, const int *fds, int nfds)
{
	pid_t	 mid, pid = 0;
	int	 p[2], status, saved, rv;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	switch ((mid = fork())) {
	case -1:
		saved = errno;
		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	case 0:
		/* The middle process: the worker's pid, or -errno. */
		close(p[0]);
		if ((pid = fork()) == 0) {
			close(p[1]);
			spawner_child(role, fds, nfds);
		}
		if (pid == -1)
			pid = -errno;
		_exit(write_all(p[1], &pid, sizeof(pid)) == -1);
	}
	close(p[1]);
	rv = read_all(p[0], &pid, sizeof(pid));
	close(p[0]);
	while (waitpid(mid, &status, 0) == -1 && errno == EINTR)
		;
	if (rv == -1 || pid == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (pid < 0) {
		errno = -pid;
		return -1;
	}
	return pid;
}

static void
spawner_reply(pid_t pid, int error)
{
	struct msg_spawned	 m;

	memset(&m, 0, sizeof(m));
	m.pid = pid;
	m.error = error;
	if (imsg_compose(&spawner_ib, IMSG_SPAWNED, 0, -1, &m,
	    sizeof(m)) == -1 || imsg_flush_blocking(&spawner_ib) == -1)
		fatal("reply to the parent");
}

void
spawner_main(void)
{
	struct rlimit		 rl = { 0, 0 };
	struct msg_spawn	*sp;
	struct msg_count	*mc;
	struct imsg		 im;
	const char		*role;
	pid_t			 pid;
	int			 fds[SPAWNER_MAXFDS], nfds = 0, i;

	proc_child_setup();
	spawner_parent = getppid();
	if (imsgbuf_init(&spawner_ib, PROC_FD_PARENT) == -1)
		fatal("imsgbuf_init");
	proc_log_to(&spawner_ib);
	log_procname("spawner");
	setproctitle("spawner");
	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0) == -1)
		fatal("core dumps off");
	worker_preload();

	for (;;) {
		spawner_recv(&im);
		switch (im.hdr.type) {
		case IMSG_SPAWN_FD:
			if (im.hdr.len != 0 || im.fd == -1 ||
			    nfds == SPAWNER_MAXFDS)
				fatalx("bad descriptor message");
			fds[nfds++] = imsg_take_fd(&im);
			break;
		case IMSG_SPAWN:
			if (im.hdr.len != sizeof(*sp) || im.fd != -1)
				fatalx("bad spawn message");
			sp = im.data;
			if (sp->nfds != (uint32_t)nfds || nfds < 2)
				fatalx("spawn message without descriptors");
			if (sp->type != SESS_SSH && sp->type != SESS_FTP)
				fatalx("spawn of an unknown type");
			role = sp->type == SESS_SSH ? "ssh" : "ftp";
			if ((pid = spawner_fork(role, fds, nfds)) == -1) {
				log_warn("fork %s worker", role);
				spawner_reply(-1, errno);
			} else
				spawner_reply(pid, 0);
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			nfds = 0;
			break;
		case IMSG_LOG_VERBOSE:
			if (im.hdr.len != sizeof(*mc))
				fatalx("bad verbosity message");
			mc = im.data;
			log_setverbose(mc->count);
			break;
		default:
			fatalx("unexpected message %u", im.hdr.type);
		}
		imsg_free(&im);
	}
}
