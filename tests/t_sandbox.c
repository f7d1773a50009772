/*
 * Unit tests for the sandbox.  Each case forks children that enter the
 * real sandbox for a role and then try what the role may or may not do:
 * a forbidden system call must kill the child with SIGSYS, what is
 * allowed must still work.  The parent checks the child from /proc.  As
 * root the children drop to "nobody" in a fresh chroot; without root
 * the root-only checks are skipped and say so.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atf-c.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN		1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN		1
#endif
#endif

#define T_USER		"nobody"
#define T_WAIT_MS	20000
#define T_NOFILE	64
#define T_AS		(8ULL << 30)

#define T_FRONT		(1 << SANDBOX_FRONT)
#define T_SSH		(1 << SANDBOX_SSH)
#define T_FTP		(1 << SANDBOX_FTP)
#define T_ALL		(T_FRONT | T_SSH | T_FTP)

typedef int	(*t_fn)(void *);

struct t_child {
	pid_t	 tc_pid;
	int	 tc_err;	/* read end of the child's stderr */
};

static char	 t_root[64];
static pid_t	 t_parent;	/* the test process, for kill attempts */

/* A configuration for tests: as root, nobody in a new empty 0755 dir. */
static void
t_conf(struct sandbox_conf *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_nofile = T_NOFILE;
	sc->sc_as = T_AS;
	if (geteuid() != 0)
		return;
	if (t_root[0] == '\0') {
		strlcpy(t_root, "/tmp/t_sandbox.XXXXXX", sizeof(t_root));
		ATF_REQUIRE(mkdtemp(t_root) != NULL);
		ATF_REQUIRE(chmod(t_root, 0755) == 0);
	}
	sc->sc_user = T_USER;
	sc->sc_chroot = t_root;
}

static void
t_conf_done(void)
{
	if (t_root[0] != '\0')
		rmdir(t_root);
	t_root[0] = '\0';
}

/*
 * Fork a child: pre(arg) before the sandbox, then sandbox_enter(), then
 * fn(arg) gives the exit status.  Its stderr goes to a pipe.
 */
static void
t_spawn(struct t_child *c, enum sandbox_role role,
    const struct sandbox_conf *sc, t_fn pre, t_fn fn, void *arg)
{
	int	 p[2];

	ATF_REQUIRE(pipe2(p, O_CLOEXEC) == 0);
	fflush(stdout);
	fflush(stderr);
	ATF_REQUIRE((c->tc_pid = fork()) != -1);
	if (c->tc_pid != 0) {
		close(p[1]);
		c->tc_err = p[0];
		return;
	}
	if (dup2(p[1], STDERR_FILENO) == -1)
		_exit(120);
	log_init(1, LOG_DAEMON);
	log_setverbose(1);
	if (pre != NULL && pre(arg) != 0)
		_exit(121);
	sandbox_enter(role, sc);
	_exit(fn(arg));
}

/* Wait for the child, at most T_WAIT_MS; its stderr goes to err. */
static int
t_wait(struct t_child *c, char *err, size_t errlen)
{
	ssize_t	 n;
	size_t	 off = 0;
	pid_t	 r;
	int	 status, i;

	for (i = 0; i < T_WAIT_MS / 10; i++) {
		ATF_REQUIRE((r = waitpid(c->tc_pid, &status, WNOHANG)) != -1);
		if (r == c->tc_pid)
			break;
		usleep(10000);
	}
	if (r != c->tc_pid) {
		kill(c->tc_pid, SIGKILL);
		waitpid(c->tc_pid, &status, 0);
		atf_tc_fail("child %ld did not finish in time",
		    (long)c->tc_pid);
	}
	/* Every writer is gone: this ends at EOF. */
	while (off + 1 < errlen &&
	    (n = read(c->tc_err, err + off, errlen - off - 1)) > 0)
		off += n;
	err[off] = '\0';
	close(c->tc_err);
	return status;
}

/* Describe a wait status for failure messages. */
static const char *
t_status(int status)
{
	static char	 buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "status %#x", status);
	return buf;
}

static int
t_nothing(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * Forbidden system calls.  Each runs in a child that has entered the
 * sandbox; if it returns, the sandbox let it through.
 */
static void
t_do_open(void)
{
	syscall(SYS_open, "/etc/passwd", O_RDONLY);
}

static void
t_do_openat(void)
{
	open("/etc/passwd", O_RDONLY);
}

static void
t_do_execve(void)
{
	char	*argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
}

static void
t_do_socket_inet(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void
t_do_socket_unix(void)
{
	socket(AF_UNIX, SOCK_STREAM, 0);
}

static void
t_do_socket_udp(void)
{
	socket(AF_INET, SOCK_DGRAM, 0);
}

static void
t_do_socket_sctp(void)
{
	socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
}

static void
t_do_socketpair(void)
{
	int	 sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

/* A loopback address for calls that are killed before they look. */
static void
t_addr(struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(9);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void
t_do_connect(void)
{
	struct sockaddr_in	 sin;

	t_addr(&sin);
	connect(-1, (struct sockaddr *)&sin, sizeof(sin));
}

static void
t_do_bind(void)
{
	struct sockaddr_in	 sin;

	t_addr(&sin);
	bind(-1, (struct sockaddr *)&sin, sizeof(sin));
}

static void
t_do_listen(void)
{
	listen(-1, 1);
}

static void
t_do_accept(void)
{
	accept4(-1, NULL, NULL, 0);
}

static void
t_do_fork(void)
{
	if (fork() == 0)
		_exit(0);
}

static void
t_do_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
}

static void
t_do_mprotect_exec(void)
{
	void	*p;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void
t_do_ioctl(void)
{
	char	 c = 'x';

	ioctl(STDIN_FILENO, TIOCSTI, &c);
}

static void
t_do_fcntl_setown(void)
{
	fcntl(STDERR_FILENO, F_SETOWN, getpid());
}

static void
t_do_kill(void)
{
	kill(t_parent, 0);
}

static void
t_do_tgkill(void)
{
	syscall(SYS_tgkill, t_parent, t_parent, 0);
}

static void
t_do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void
t_do_setuid(void)
{
	syscall(SYS_setuid, 0);
}

static void
t_do_prctl(void)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void
t_do_landlock(void)
{
	compat_landlock_create_ruleset(NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
}

static void
t_do_unlink(void)
{
	unlink("/tmp/t_sandbox.nonexistent");
}

static void
t_do_sendto_addr(void)
{
	struct sockaddr_in	 sin;

	t_addr(&sin);
	sendto(-1, "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin));
}

static void
t_do_sendto_fastopen(void)
{
	sendto(-1, "x", 1, MSG_FASTOPEN, NULL, 0);
}

static void
t_do_sendmsg_fastopen(void)
{
	struct msghdr	 msg;

	memset(&msg, 0, sizeof(msg));
	sendmsg(-1, &msg, MSG_FASTOPEN);
}

static void
t_do_memfd(void)
{
	syscall(SYS_memfd_create, "x", 0);
}

static void
t_do_io_uring(void)
{
	char	 params[120];

	memset(params, 0, sizeof(params));
	syscall(SYS_io_uring_setup, 1, params);
}

#ifdef __x86_64__
/* getpid through the i386 entry point. */
static long
t_int80(void)
{
	long	 ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret;
}

static void
t_do_int80(void)
{
	t_int80();
}

/* getpid with the x32 bit set. */
static void
t_do_x32(void)
{
	syscall(0x40000000 | SYS_getpid);
}
#endif

struct t_action {
	const char	*ta_name;
	const char	*ta_sys;	/* named by a SANDBOX_TRAP build */
	int		 ta_roles;	/* where it must kill */
	void		(*ta_fn)(void);
};

static const struct t_action t_actions[] = {
	{ "open", "open", T_ALL, t_do_open },
	{ "openat", "openat", T_ALL, t_do_openat },
	{ "execve", "execve", T_ALL, t_do_execve },
	{ "socket AF_INET", "socket", T_FRONT | T_SSH, t_do_socket_inet },
	{ "socket AF_UNIX", "socket", T_ALL, t_do_socket_unix },
	{ "socket SOCK_DGRAM", "socket", T_ALL, t_do_socket_udp },
	{ "socket IPPROTO_SCTP", "socket", T_ALL, t_do_socket_sctp },
	{ "socketpair", "socketpair", T_ALL, t_do_socketpair },
	{ "connect", "connect", T_FRONT | T_SSH, t_do_connect },
	{ "bind", "bind", T_ALL, t_do_bind },
	{ "listen", "listen", T_ALL, t_do_listen },
	{ "accept4", "accept4", T_SSH | T_FTP, t_do_accept },
	{ "fork", "clone", T_ALL, t_do_fork },
	{ "mmap PROT_EXEC", "mmap", T_ALL, t_do_mmap_exec },
	{ "mprotect PROT_EXEC", "mprotect", T_ALL, t_do_mprotect_exec },
	{ "ioctl TIOCSTI", "ioctl", T_ALL, t_do_ioctl },
	{ "fcntl F_SETOWN", "fcntl", T_ALL, t_do_fcntl_setown },
	{ "kill", "kill", T_ALL, t_do_kill },
	{ "tgkill parent", "tgkill", T_ALL, t_do_tgkill },
	{ "ptrace", "ptrace", T_ALL, t_do_ptrace },
	{ "setuid", "setuid", T_ALL, t_do_setuid },
	{ "prctl", "prctl", T_ALL, t_do_prctl },
	{ "landlock", "landlock_create_ruleset", T_ALL, t_do_landlock },
	{ "unlink", "unlink", T_ALL, t_do_unlink },
	{ "sendto address", "sendto", T_ALL, t_do_sendto_addr },
	{ "sendto MSG_FASTOPEN", "sendto", T_ALL, t_do_sendto_fastopen },
	{ "sendmsg MSG_FASTOPEN", "sendmsg", T_ALL, t_do_sendmsg_fastopen },
	{ "memfd_create", "memfd_create", T_ALL, t_do_memfd },
	{ "io_uring_setup", "io_uring_setup", T_ALL, t_do_io_uring },
#ifdef __x86_64__
	/* another architecture: killed even in a SANDBOX_TRAP build */
	{ "i386 int 0x80", NULL, T_ALL, t_do_int80 },
	{ "x32", NULL, T_ALL, t_do_x32 },
#endif
};

static int
t_action_run(void *arg)
{
	t_actions[*(size_t *)arg].ta_fn();
	return 0;
}

#ifdef __x86_64__
static int
t_int80_check(void *arg)
{
	(void)arg;
	return t_int80() == getpid() ? 0 : 1;
}
#endif

/* Can this kernel run the action at all outside the sandbox? */
static int
t_action_possible(const struct t_action *ta)
{
#ifdef __x86_64__
	pid_t	 pid;
	int	 status;

	if (ta->ta_fn != t_do_int80)
		return 1;
	/* int 0x80 faults where ia32 emulation is off. */
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0)
		_exit(t_int80_check(NULL));
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
	(void)ta;
	return 1;
#endif
}

/* Every action forbidden to role must end its child with SIGSYS. */
static void
t_forbidden(enum sandbox_role role)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	const struct t_action	*ta;
	char			 err[4096], want[128];
	size_t			 i;
	int			 status;

	t_conf(&sc);
	t_parent = getpid();
	for (i = 0; i < nitems(t_actions); i++) {
		ta = &t_actions[i];
		if ((ta->ta_roles & (1 << role)) == 0)
			continue;
		if (!t_action_possible(ta)) {
			printf("%s: not possible on this kernel\n",
			    ta->ta_name);
			continue;
		}
		t_spawn(&c, role, &sc, NULL, t_action_run, &i);
		status = t_wait(&c, err, sizeof(err));
		ATF_CHECK_MSG(WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGSYS, "%s %s: %s, want SIGSYS; "
		    "stderr: %s", sandbox_role_name(role), ta->ta_name,
		    t_status(status), err);
#ifdef SANDBOX_TRAP
		if (ta->ta_sys == NULL)
			continue;
		snprintf(want, sizeof(want), "sandbox: forbidden syscall %s "
		    "(nr ", ta->ta_sys);
		ATF_CHECK_MSG(strstr(err, want) != NULL, "%s %s: no \"%s\" "
		    "in: %s", sandbox_role_name(role), ta->ta_name, want, err);
#else
		(void)want;
#endif
	}
	t_conf_done();
}

ATF_TC_WITHOUT_HEAD(front_forbidden);
ATF_TC_BODY(front_forbidden, tc)
{
	t_forbidden(SANDBOX_FRONT);
}

ATF_TC_WITHOUT_HEAD(ssh_forbidden);
ATF_TC_BODY(ssh_forbidden, tc)
{
	t_forbidden(SANDBOX_SSH);
}

ATF_TC_WITHOUT_HEAD(ftp_forbidden);
ATF_TC_BODY(ftp_forbidden, tc)
{
	t_forbidden(SANDBOX_FTP);
}

/*
 * What every role still does after the sandbox: memory, randomness,
 * clocks, stdio, and descriptor passing over its control socket.  The
 * exit status names the step that failed.
 */
static int
t_allowed(void *arg)
{
	struct timespec	 ts = { 0, 1000000 };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	struct stat	 st;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	char		*big, rnd[16], c;
	int		 ctl = *(int *)arg, fd, n;

	if ((big = malloc(16 << 20)) == NULL)
		return 10;
	memset(big, 1, 16 << 20);
	free(big);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return 11;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 12;
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	if (nanosleep(&ts, NULL) == -1)
		return 13;
	if (isatty(STDIN_FILENO) || errno != ENOTTY)
		return 14;
	fprintf(stderr, "t_allowed: ready\n");
	if (write(ctl, "r", 1) != 1)
		return 15;

	/* Blocks here while the parent looks at /proc. */
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = &c;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsg.buf;
	msg.msg_controllen = sizeof(cmsg.buf);
	if (recvmsg(ctl, &msg, 0) != 1 || (cm = CMSG_FIRSTHDR(&msg)) == NULL ||
	    cm->cmsg_type != SCM_RIGHTS)
		return 16;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	if (fd_nonblock(fd) == -1 || fd_cloexec(fd) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode))
		return 17;
	if (write(fd, "hello", 5) != 5 || close(fd) == -1)
		return 18;
	if (ioctl(ctl, FIONREAD, &n) == -1)
		return 19;
	if (send(ctl, "k", 1, MSG_NOSIGNAL) != 1)
		return 20;
	return 0;
}

/* The value after label in /proc/pid/status, or NULL. */
static char *
t_proc_field(pid_t pid, const char *file, const char *label, char *buf,
    size_t len)
{
	char	 path[64];
	FILE	*f;
	char	*ret = NULL;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	ATF_REQUIRE((f = fopen(path, "r")) != NULL);
	while (fgets(buf, len, f) != NULL) {
		if (strncmp(buf, label, strlen(label)) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			while (*buf != '\0' && buf[strlen(buf) - 1] == ' ')
				buf[strlen(buf) - 1] = '\0';
			ret = buf + strlen(label);
			ret += strspn(ret, " \t");
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Check one /proc/pid/status field. */
static void
t_check_status(pid_t pid, const char *label, const char *want)
{
	char	 buf[256], *v;

	v = t_proc_field(pid, "status", label, buf, sizeof(buf));
	ATF_CHECK_MSG(v != NULL && strcmp(v, want) == 0,
	    "%s: \"%s\", want \"%s\"", label, v ? v : "(none)", want);
}

/* Check both values of one /proc/pid/limits line. */
static void
t_check_limit(pid_t pid, const char *label, const char *want)
{
	char	 buf[256], soft[32], hard[32], *v;

	v = t_proc_field(pid, "limits", label, buf, sizeof(buf));
	ATF_REQUIRE_MSG(v != NULL && sscanf(v, "%31s %31s", soft, hard) == 2,
	    "no limit %s", label);
	ATF_CHECK_MSG(strcmp(soft, want) == 0 && strcmp(hard, want) == 0,
	    "%s: %s %s, want %s", label, soft, hard, want);
}

/* Look at the sandboxed child from outside. */
static void
t_check_proc(pid_t pid)
{
	struct passwd	*pw;
	char		 buf[256], path[64];
	ssize_t		 n;

	t_check_status(pid, "Seccomp:", "2");
	t_check_status(pid, "Seccomp_filters:", "1");
	t_check_status(pid, "NoNewPrivs:", "1");
	t_check_limit(pid, "Max core file size", "0");
	t_check_limit(pid, "Max processes", "0");
	snprintf(buf, sizeof(buf), "%d", T_NOFILE);
	t_check_limit(pid, "Max open files", buf);
#ifdef T_ASAN
	t_check_limit(pid, "Max address space", "unlimited");
#else
	snprintf(buf, sizeof(buf), "%llu", T_AS);
	t_check_limit(pid, "Max address space", buf);
#endif
	if (geteuid() != 0) {
		printf("not root: uid, capabilities and chroot not checked\n");
		return;
	}
	ATF_REQUIRE((pw = getpwnam(T_USER)) != NULL);
	snprintf(buf, sizeof(buf), "%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid,
	    pw->pw_uid, pw->pw_uid);
	t_check_status(pid, "Uid:", buf);
	snprintf(buf, sizeof(buf), "%u\t%u\t%u\t%u", pw->pw_gid, pw->pw_gid,
	    pw->pw_gid, pw->pw_gid);
	t_check_status(pid, "Gid:", buf);
	snprintf(buf, sizeof(buf), "%u", pw->pw_gid);
	t_check_status(pid, "Groups:", buf);
	t_check_status(pid, "CapEff:", "0000000000000000");
	t_check_status(pid, "CapPrm:", "0000000000000000");
	snprintf(path, sizeof(path), "/proc/%ld/root", (long)pid);
	ATF_REQUIRE((n = readlink(path, buf, sizeof(buf) - 1)) > 0);
	buf[n] = '\0';
	ATF_CHECK_STREQ(buf, t_root);
}

/* Hand fd to the child over ctl. */
static void
t_sendfd(int ctl, int fd)
{
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	} cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsg, 0, sizeof(cmsg));
	iov.iov_base = "f";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsg.buf;
	msg.msg_controllen = sizeof(cmsg.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	ATF_REQUIRE(sendmsg(ctl, &msg, 0) == 1);
}

/* The allowed work of t_allowed() succeeds and /proc shows the sandbox. */
static void
t_allowed_role(enum sandbox_role role)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	char			 err[4096], buf[8];
	int			 sv[2], p[2], status;

	t_conf(&sc);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(pipe(p) == 0);
	t_spawn(&c, role, &sc, NULL, t_allowed, &sv[1]);
	close(sv[1]);
	if (read(sv[0], buf, 1) == 1) {
		t_check_proc(c.tc_pid);
		t_sendfd(sv[0], p[1]);
		close(p[1]);
		ATF_CHECK(read_all(p[0], buf, 5) == 0 &&
		    memcmp(buf, "hello", 5) == 0);
		ATF_CHECK(read(sv[0], buf, 1) == 1 && buf[0] == 'k');
	}
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: %s; stderr: %s", sandbox_role_name(role), t_status(status),
	    err);
	close(sv[0]);
	close(p[0]);
	t_conf_done();
}

ATF_TC_WITHOUT_HEAD(front_allowed);
ATF_TC_BODY(front_allowed, tc)
{
	t_allowed_role(SANDBOX_FRONT);
}

ATF_TC_WITHOUT_HEAD(ssh_allowed);
ATF_TC_BODY(ssh_allowed, tc)
{
	t_allowed_role(SANDBOX_SSH);
}

ATF_TC_WITHOUT_HEAD(ftp_allowed);
ATF_TC_BODY(ftp_allowed, tc)
{
	t_allowed_role(SANDBOX_FTP);
}

/*
 * libevent as the daemon uses it: a base and a bufferevent made before
 * the sandbox, then reads (FIONREAD, readv), writes and a timer inside.
 */
struct t_ev {
	struct event_base	*te_base;
	struct bufferevent	*te_bev;
	struct event		*te_timer;
	int			 te_fd;
	int			 te_ticks;
	int			 te_echoed;
};

static void
t_ev_read(struct bufferevent *bev, void *arg)
{
	struct t_ev	*te = arg;
	char		 buf[16];
	size_t		 n;

	n = bufferevent_read(bev, buf, sizeof(buf));
	if (n == 4 && memcmp(buf, "ping", 4) == 0) {
		bufferevent_write(bev, "pong", 4);
		te->te_echoed = 1;
	}
}

static void
t_ev_write(struct bufferevent *bev, void *arg)
{
	struct t_ev	*te = arg;

	(void)bev;
	if (te->te_echoed && te->te_ticks > 0)
		event_base_loopbreak(te->te_base);
}

static void
t_ev_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct t_ev	*te = arg;

	(void)fd;
	(void)ev;
	if (++te->te_ticks > 1 && te->te_echoed)
		event_base_loopbreak(te->te_base);
}

static int
t_ev_pre(void *arg)
{
	struct t_ev	*te = arg;
	struct timeval	 tv = { 0, 10000 };

	if ((te->te_base = event_base_new()) == NULL ||
	    (te->te_bev = bufferevent_socket_new(te->te_base, te->te_fd,
	    0)) == NULL)
		return 1;
	te->te_timer = event_new(te->te_base, -1, EV_PERSIST, t_ev_tick, te);
	if (te->te_timer == NULL || event_add(te->te_timer, &tv) == -1)
		return 1;
	bufferevent_setcb(te->te_bev, t_ev_read, t_ev_write, NULL, te);
	return bufferevent_enable(te->te_bev, EV_READ | EV_WRITE);
}

static int
t_ev_run(void *arg)
{
	struct t_ev	*te = arg;
	struct timeval	 tv = { 10, 0 };

	event_base_loopexit(te->te_base, &tv);
	if (event_base_dispatch(te->te_base) == -1)
		return 1;
	return te->te_echoed && te->te_ticks > 0 ? 0 : 2;
}

ATF_TC_WITHOUT_HEAD(libevent);
ATF_TC_BODY(libevent, tc)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	struct t_ev		 te;
	char			 err[4096], buf[4];
	int			 sv[2], status, role;

	t_conf(&sc);
	for (role = SANDBOX_FRONT; role <= SANDBOX_FTP; role++) {
		ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		memset(&te, 0, sizeof(te));
		te.te_fd = sv[1];
		t_spawn(&c, role, &sc, t_ev_pre, t_ev_run, &te);
		close(sv[1]);
		ATF_REQUIRE(write_all(sv[0], "ping", 4) == 0);
		ATF_CHECK(read_all(sv[0], buf, 4) == 0 &&
		    memcmp(buf, "pong", 4) == 0);
		status = t_wait(&c, err, sizeof(err));
		ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: %s; stderr: %s", sandbox_role_name(role),
		    t_status(status), err);
		close(sv[0]);
	}
	t_conf_done();
}

/* A TCP listener on 127.0.0.1 and an ephemeral port. */
static int
t_listen(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s;

	t_addr(&sin);
	sin.sin_port = 0;
	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	ATF_REQUIRE(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(listen(s, 8) == 0);
	ATF_REQUIRE(getsockname(s, (struct sockaddr *)&sin, &len) == 0);
	*port = ntohs(sin.sin_port);
	return s;
}

/* front: accept a client on the inherited listener and echo. */
static int
t_front_accept(void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 buf[4];
	int			 s;

	if ((s = accept4(*(int *)arg, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return 1;
	if (getpeername(s, (struct sockaddr *)&ss, &len) == -1)
		return 2;
	if (recv(s, buf, 4, MSG_WAITALL) != 4)
		return 3;
	if (send(s, "pong", 4, MSG_NOSIGNAL) != 4 ||
	    shutdown(s, SHUT_RDWR) == -1)
		return 4;
	return 0;
}

ATF_TC_WITHOUT_HEAD(front_accept);
ATF_TC_BODY(front_accept, tc)
{
	struct sandbox_conf	 sc;
	struct sockaddr_in	 sin;
	struct t_child		 c;
	char			 err[4096], buf[4];
	uint16_t		 port;
	int			 l, s, status;

	t_conf(&sc);
	l = t_listen(&port);
	t_spawn(&c, SANDBOX_FRONT, &sc, NULL, t_front_accept, &l);
	close(l);
	t_addr(&sin);
	sin.sin_port = htons(port);
	ATF_REQUIRE((s = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	ATF_REQUIRE(connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ATF_REQUIRE(write_all(s, "ping", 4) == 0);
	ATF_CHECK(read_all(s, buf, 4) == 0 && memcmp(buf, "pong", 4) == 0);
	close(s);
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s; stderr: %s", t_status(status), err);
	t_conf_done();
}

struct t_ports {
	uint16_t	 tp_ok;		/* must connect */
	uint16_t	 tp_other;	/* must fail with EACCES, or connect */
	int		 tp_denied;
};

/* Connect to 127.0.0.1:port; 0 or errno. */
static int
t_connect(uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 s, rv = 0;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	t_addr(&sin);
	sin.sin_port = htons(port);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		rv = errno;
	close(s);
	return rv;
}

/* ftp: TCP to the allowed port works, to another is denied. */
static int
t_ftp_connect(void *arg)
{
	struct t_ports	*tp = arg;
	int		 s, rv;

	if (t_connect(tp->tp_ok) != 0)
		return 1;
	rv = t_connect(tp->tp_other);
	if (tp->tp_denied ? rv != EACCES : rv != 0)
		return 2;
	/* IPv6 sockets are allowed, if the kernel has IPv6 at all */
	if ((s = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)) == -1 &&
	    errno != EAFNOSUPPORT)
		return 3;
	return 0;
}

/* Run t_ftp_connect with nports ports allowed (0: any). */
static void
t_ftp_ports(int nports)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	struct t_ports		 tp;
	char			 err[4096];
	int			 l1, l2, status, abi;

	abi = sandbox_landlock_abi();
	t_conf(&sc);
	l1 = t_listen(&tp.tp_ok);
	l2 = t_listen(&tp.tp_other);
	sc.sc_nports = nports;
	sc.sc_ports[0] = tp.tp_ok;
	sc.sc_ports[1] = 21;
	tp.tp_denied = nports > 0 && abi >= 4;
	if (nports > 0 && abi < 4)
		printf("landlock abi %d: connect not restricted\n", abi);
	t_spawn(&c, SANDBOX_FTP, &sc, NULL, t_ftp_connect, &tp);
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s (1: allowed port, 2: other port, 3: IPv6); stderr: %s",
	    t_status(status), err);
	close(l1);
	close(l2);
	t_conf_done();
}

ATF_TC_WITHOUT_HEAD(ftp_ports);
ATF_TC_BODY(ftp_ports, tc)
{
	t_ftp_ports(2);
}

ATF_TC_WITHOUT_HEAD(ftp_any_port);
ATF_TC_BODY(ftp_any_port, tc)
{
	t_ftp_ports(0);
}

/* Run a child with sc that must fail to enter (exit 1, not a signal). */
static void
t_refused(const struct sandbox_conf *sc, enum sandbox_role role,
    const char *why, const char *msg)
{
	struct t_child	 c;
	char		 err[4096];
	int		 status;

	t_spawn(&c, role, sc, NULL, t_nothing, NULL);
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "%s: %s, want exit 1; stderr: %s", why, t_status(status), err);
	ATF_CHECK_MSG(strstr(err, msg) != NULL, "%s: no \"%s\" in: %s", why,
	    msg, err);
}

ATF_TC_WITHOUT_HEAD(bad_conf);
ATF_TC_BODY(bad_conf, tc)
{
	struct sandbox_conf	 sc;

	t_conf(&sc);
	sc.sc_nofile = 0;
	t_refused(&sc, SANDBOX_FRONT, "nofile 0", "RLIMIT_NOFILE of 0");
	t_conf(&sc);
	sc.sc_nports = 5;
	t_refused(&sc, SANDBOX_FTP, "5 ports", "bad number of ftp ports");
	t_refused(&sc, (enum sandbox_role)7, "role 7", "unknown sandbox role");
	t_conf_done();
}

ATF_TC_WITHOUT_HEAD(root_bad_chroot);
ATF_TC_BODY(root_bad_chroot, tc)
{
	struct sandbox_conf	 sc;
	struct passwd		*pw;
	char			 link[80];

	if (geteuid() != 0)
		atf_tc_skip("needs root");
	ATF_REQUIRE((pw = getpwnam(T_USER)) != NULL);
	t_conf(&sc);
	ATF_REQUIRE(chmod(t_root, 0775) == 0);
	t_refused(&sc, SANDBOX_SSH, "mode 0775", "writable by group");
	ATF_REQUIRE(chmod(t_root, 0757) == 0);
	t_refused(&sc, SANDBOX_SSH, "mode 0757", "writable by group");
	ATF_REQUIRE(chmod(t_root, 0755) == 0);
	ATF_REQUIRE(chown(t_root, pw->pw_uid, 0) == 0);
	t_refused(&sc, SANDBOX_SSH, "owner", "not owned by root");
	ATF_REQUIRE(chown(t_root, 0, 0) == 0);

	snprintf(link, sizeof(link), "%s.link", t_root);
	ATF_REQUIRE(symlink(t_root, link) == 0);
	sc.sc_chroot = link;
	t_refused(&sc, SANDBOX_SSH, "symlink", "chroot");
	unlink(link);
	sc.sc_chroot = "tmp";
	t_refused(&sc, SANDBOX_SSH, "relative", "not an absolute path");
	sc.sc_chroot = "/nonexistent/t_sandbox";
	t_refused(&sc, SANDBOX_SSH, "missing", "No such file");
	t_conf_done();
}

ATF_TC_WITHOUT_HEAD(root_bad_user);
ATF_TC_BODY(root_bad_user, tc)
{
	struct sandbox_conf	 sc;

	if (geteuid() != 0)
		atf_tc_skip("needs root");
	t_conf(&sc);
	sc.sc_user = "t_sandbox_no_such_user";
	t_refused(&sc, SANDBOX_FRONT, "unknown user", "unknown user");
	sc.sc_user = "root";
	t_refused(&sc, SANDBOX_FRONT, "root user", "has uid or gid 0");
	sc.sc_user = NULL;
	t_refused(&sc, SANDBOX_FRONT, "no user", "needs a user");
	t_conf_done();
}

/* As root: become nobody first, as a daemon started by a user would be. */
static int
t_be_nobody(void *arg)
{
	struct passwd	*pw;

	(void)arg;
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(T_USER)) == NULL ||
	    setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return 1;
	return 0;
}

static int
t_block(void *arg)
{
	char	 c;

	if (write(*(int *)arg, "r", 1) != 1)
		return 1;
	return read(*(int *)arg, &c, 1) == 1 ? 0 : 2;
}

ATF_TC_WITHOUT_HEAD(nonroot);
ATF_TC_BODY(nonroot, tc)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	char			 err[4096], buf[1];
	int			 sv[2], status;

	memset(&sc, 0, sizeof(sc));
	sc.sc_nofile = T_NOFILE;
	sc.sc_as = T_AS;
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	t_spawn(&c, SANDBOX_SSH, &sc, t_be_nobody, t_block, &sv[1]);
	close(sv[1]);
	if (read(sv[0], buf, 1) == 1) {
		t_check_status(c.tc_pid, "Seccomp:", "2");
		t_check_status(c.tc_pid, "NoNewPrivs:", "1");
		ATF_CHECK(write(sv[0], "x", 1) == 1);
	}
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s; stderr: %s", t_status(status), err);
	ATF_CHECK_MSG(strstr(err, "not running as root: no chroot or "
	    "privilege drop") != NULL, "no warning in: %s", err);
	close(sv[0]);
}

/*
 * The sandboxed child dies with its parent: a middle process starts it,
 * waits until it is sandboxed and exits; we are the subreaper.
 */
ATF_TC_WITHOUT_HEAD(pdeathsig);
ATF_TC_BODY(pdeathsig, tc)
{
	struct sandbox_conf	 sc;
	struct t_child		 c;
	char			 err[4096], r;
	pid_t			 mid, pid = 0;
	int			 sv[2], p[2], status;

	t_conf(&sc);
	ATF_REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE((mid = fork()) != -1);
	if (mid == 0) {
		t_spawn(&c, SANDBOX_SSH, &sc, NULL, t_block, &sv[1]);
		if (read(sv[0], &r, 1) != 1 ||
		    write(p[1], &c.tc_pid, sizeof(c.tc_pid)) !=
		    sizeof(c.tc_pid))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	close(p[1]);
	ATF_REQUIRE(waitpid(mid, &status, 0) == mid);
	ATF_REQUIRE_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "middle process: %s", t_status(status));
	ATF_REQUIRE(read_all(p[0], &pid, sizeof(pid)) == 0);
	c.tc_pid = pid;
	c.tc_err = p[0];
	status = t_wait(&c, err, sizeof(err));
	ATF_CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "orphan: %s, want SIGKILL", t_status(status));
	close(sv[0]);
	t_conf_done();
}

#ifdef T_ASAN
/* One byte past a heap block: AddressSanitizer must report it. */
static int
t_asan_overflow(void *arg)
{
	char *volatile	 p = arg;

	p[16] = 1;
	return 0;
}
#endif

/*
 * An AddressSanitizer report from a sandboxed child is complete and
 * names its frames, instead of dying of SIGSYS halfway.
 */
ATF_TC_WITHOUT_HEAD(asan_report);
ATF_TC_BODY(asan_report, tc)
{
#ifdef T_ASAN
	struct sandbox_conf	 sc;
	struct t_child		 c;
	char			 err[16384], *p;
	int			 status;

	t_conf(&sc);
	ATF_REQUIRE((p = malloc(16)) != NULL);
	t_spawn(&c, SANDBOX_FRONT, &sc, NULL, t_asan_overflow, p);
	status = t_wait(&c, err, sizeof(err));
	free(p);
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "%s, want a non-zero exit", t_status(status));
	ATF_CHECK_MSG(strstr(err, "SUMMARY: AddressSanitizer: "
	    "heap-buffer-overflow") != NULL &&
	    strstr(err, "in t_asan_overflow") != NULL,
	    "incomplete report: %s", err);
	t_conf_done();
#else
	atf_tc_skip("not an AddressSanitizer build");
#endif
}

ATF_TC_WITHOUT_HEAD(names_abi);
ATF_TC_BODY(names_abi, tc)
{
	int	 abi;

	ATF_CHECK_STREQ(sandbox_role_name(SANDBOX_FRONT), "front");
	ATF_CHECK_STREQ(sandbox_role_name(SANDBOX_SSH), "ssh");
	ATF_CHECK_STREQ(sandbox_role_name(SANDBOX_FTP), "ftp");
	ATF_CHECK_STREQ(sandbox_role_name((enum sandbox_role)9), "unknown");
	abi = sandbox_landlock_abi();
	ATF_CHECK(abi >= 0);
	printf("landlock abi %d\n", abi);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, names_abi);
	ATF_TP_ADD_TC(tp, front_forbidden);
	ATF_TP_ADD_TC(tp, ssh_forbidden);
	ATF_TP_ADD_TC(tp, ftp_forbidden);
	ATF_TP_ADD_TC(tp, front_allowed);
	ATF_TP_ADD_TC(tp, ssh_allowed);
	ATF_TP_ADD_TC(tp, ftp_allowed);
	ATF_TP_ADD_TC(tp, libevent);
	ATF_TP_ADD_TC(tp, front_accept);
	ATF_TP_ADD_TC(tp, ftp_ports);
	ATF_TP_ADD_TC(tp, ftp_any_port);
	ATF_TP_ADD_TC(tp, bad_conf);
	ATF_TP_ADD_TC(tp, root_bad_chroot);
	ATF_TP_ADD_TC(tp, root_bad_user);
	ATF_TP_ADD_TC(tp, nonroot);
	ATF_TP_ADD_TC(tp, pdeathsig);
	ATF_TP_ADD_TC(tp, asan_report);
	return atf_no_error();
}
