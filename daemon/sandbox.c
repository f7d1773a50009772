/*
 * The sandbox every child enters (DESIGN.md section 2).  The caller has
 * already initialised its libraries (step 1); sandbox_enter() lowers the
 * rlimits, drops root into an empty chroot, locks the process down with
 * prctl, then Landlock, then a seccomp allow-list for the role.  Any
 * failure is fatal: a child never runs with less than the kernel offers.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <linux/capability.h>

#include "landlock.h"
#include "log.h"
#include "sandbox.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * AddressSanitizer builds (a property of the build, never a run-time
 * switch) differ in three ways: no RLIMIT_AS, which the shadow memory
 * would exceed; the leak check runs at sandbox entry, since the one at
 * exit needs ptrace; and report symbols are loaded at program start.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef SANDBOX_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

#ifdef SANDBOX_TRAP
#define SANDBOX_DEFAULT_ACTION	SCMP_ACT_TRAP
#else
#define SANDBOX_DEFAULT_ACTION	SCMP_ACT_KILL_PROCESS
#endif

/* The newest Landlock ABI this file knows; 7 only added audit flags. */
#define SANDBOX_LANDLOCK_KNOWN	7

static const char *const sandbox_names[] = {
	[SANDBOX_FRONT] = "front",
	[SANDBOX_SSH] = "ssh",
	[SANDBOX_FTP] = "ftp",
};

/*
 * System calls every role may make without looking at the arguments.
 * Calls allowed only with some arguments are in sandbox_seccomp_args().
 */
static const int sandbox_sys_common[] = {
	/* imsg with the parent and data channels (SCM_RIGHTS), the remote */
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(close),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	/* libevent's epoll backend; poll for libssh2 and libcurl waits */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(poll), SCMP_SYS(ppoll),
	/* malloc (glibc, sanitizers); mmap and mprotect: no PROT_EXEC */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* locks in glibc, OpenSSL and libevent */
	SCMP_SYS(futex), SCMP_SYS(sched_yield),
	/* clocks when the vDSO falls back, timeouts, backoff */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	/* libevent's signal events, libcurl's SIGPIPE guard, abort() */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	/* randomness for OpenSSL, arc4random and libevent; own ids */
	SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
	/* stdio and OpenSSL look at their fds; glibc's fstat is newfstatat */
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	/* glibc's qsort sizes its buffer by physical memory (sorting
	 * listings); sysinfo only reads memory and load figures */
	SCMP_SYS(sysinfo),
	/* leaving */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* front: takes HTTP clients from the listening socket it was given. */
static const int sandbox_sys_front[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

/* ftp: libcurl connects data connections (socket() is filtered). */
static const int sandbox_sys_ftp[] = {
	SCMP_SYS(connect), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

/* fcntl commands: non-blocking and close-on-exec flags, nothing else. */
static const int sandbox_fcntl_cmds[] = {
	F_GETFL, F_SETFL, F_GETFD, F_SETFD,
};

static int	sandbox_warned_nonroot;

static void	sandbox_setrlimit(int, const char *, rlim_t);
static void	sandbox_rlimits(const struct sandbox_conf *);
static void	sandbox_chroot(const char *);
static void	sandbox_verify_drop(uid_t, gid_t);
static void	sandbox_drop(const struct sandbox_conf *);
static void	sandbox_prctl(pid_t);
static void	sandbox_landlock_warn(int);
static void	sandbox_landlock_rules(int, const struct sandbox_conf *);
static void	sandbox_landlock_attr(enum sandbox_role,
		    const struct sandbox_conf *, int,
		    struct compat_landlock_ruleset_attr *);
static void	sandbox_landlock(enum sandbox_role,
		    const struct sandbox_conf *);
static void	sandbox_seccomp_fail(const char *, int);
static void	sandbox_seccomp_list(scmp_filter_ctx, const int *, size_t);
static void	sandbox_seccomp_rule(scmp_filter_ctx, uint32_t, int,
		    unsigned int, const struct scmp_arg_cmp *);
static void	sandbox_seccomp_args(scmp_filter_ctx);
static void	sandbox_seccomp_socket(scmp_filter_ctx);
static void	sandbox_seccomp(enum sandbox_role);
#ifdef SANDBOX_TRAP
static void	sandbox_trap_install(void);
#endif

#ifdef SANDBOX_ASAN
/*
 * An AddressSanitizer report reads /proc/self/maps and debug files to
 * name its frames, which the sandbox forbids.  Load them once at program
 * start, in the parent: every child inherits the tables, so reports from
 * sandboxed children stay complete and cost nothing per child.
 */
static void	sandbox_asan_warm(void) __attribute__((__constructor__));

static void
sandbox_asan_warm(void)
{
	char	 buf[256];

	__sanitizer_symbolize_pc(__builtin_return_address(0), "%p %F %L",
	    buf, sizeof(buf));
}
#endif

const char *
sandbox_role_name(enum sandbox_role role)
{
	if ((unsigned int)role >= nitems(sandbox_names))
		return "unknown";
	return sandbox_names[role];
}

/* Enter the sandbox for role: steps 2 to 6 of DESIGN.md section 2. */
void
sandbox_enter(enum sandbox_role role, const struct sandbox_conf *sc)
{
	pid_t	 ppid = getppid();

	if ((unsigned int)role >= nitems(sandbox_names))
		fatalx("unknown sandbox role %d", (int)role);
#ifdef SANDBOX_ASAN
	/*
	 * LeakSanitizer's exit-time check needs clone, ptrace and /proc,
	 * none of which the sandbox allows: check now, which also turns
	 * the exit-time check off (a no-op when detect_leaks=0).
	 */
	__lsan_do_leak_check();
#endif
	sandbox_rlimits(sc);
	if (geteuid() == 0)
		sandbox_drop(sc);
	else if (!sandbox_warned_nonroot) {
		sandbox_warned_nonroot = 1;
		log_warnx("not running as root: no chroot or privilege drop");
	}
	sandbox_prctl(ppid);
	sandbox_landlock(role, sc);
	log_debug("%s: entering seccomp", sandbox_role_name(role));
	sandbox_seccomp(role);
}

/* Set both limits of resource to value. */
static void
sandbox_setrlimit(int resource, const char *name, rlim_t value)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) == -1)
		fatal("setrlimit %s %llu", name, (unsigned long long)value);
}

/* Step 2: no core files, few descriptors, bounded address space. */
static void
sandbox_rlimits(const struct sandbox_conf *sc)
{
	if (sc->sc_nofile == 0)
		fatalx("RLIMIT_NOFILE of 0 configured");
	sandbox_setrlimit(RLIMIT_CORE, "RLIMIT_CORE", 0);
	sandbox_setrlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", sc->sc_nofile);
	if (sc->sc_as == 0)
		return;
#ifdef SANDBOX_ASAN
	log_debug("AddressSanitizer build: no RLIMIT_AS, the shadow memory "
	    "would exceed it");
#else
	sandbox_setrlimit(RLIMIT_AS, "RLIMIT_AS", sc->sc_as);
#endif
}

/*
 * chroot to path.  The checks are made on the open directory itself and
 * the chroot goes through it, so the path cannot be swapped in between.
 */
static void
sandbox_chroot(const char *path)
{
	struct stat	 st;
	int		 fd;

	if (path[0] != '/')
		fatalx("chroot %s: not an absolute path", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		fatal("chroot %s", path);
	if (fstat(fd, &st) == -1)
		fatal("chroot %s: fstat", path);
	if (st.st_uid != 0)
		fatalx("chroot %s: not owned by root", path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fatalx("chroot %s: writable by group or others", path);

	if (fchdir(fd) == -1)
		fatal("chroot %s: fchdir", path);
	if (chroot(".") == -1)
		fatal("chroot %s", path);
	if (chdir("/") == -1)
		fatal("chroot %s: chdir /", path);
	close(fd);
}

/* Check that the ids stuck, root cannot come back and no cap is left. */
static void
sandbox_verify_drop(uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	uid_t				 ru, eu, su;
	gid_t				 rg, eg, sg, groups[2];
	int				 i;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("getresuid");
	if (ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid)
		fatalx("ids not changed");
	if (getgroups(2, groups) != 1 || groups[0] != gid)
		fatalx("supplementary groups not dropped");
	if (setuid(0) != -1 || setgid(0) != -1)
		fatalx("could regain root after the privilege drop");

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		fatal("capget");
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0)
			fatalx("capabilities left after the privilege drop");
}

/* Step 3 (as root): chroot and become the unprivileged user. */
static void
sandbox_drop(const struct sandbox_conf *sc)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid;

	if (sc->sc_user == NULL || sc->sc_chroot == NULL)
		fatalx("running as root needs a user and a chroot directory");
	errno = 0;
	if ((pw = getpwnam(sc->sc_user)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			fatal("getpwnam %s", sc->sc_user);
		fatalx("unknown user %s", sc->sc_user);
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0 || gid == 0)
		fatalx("user %s has uid or gid 0", sc->sc_user);

	sandbox_chroot(sc->sc_chroot);
	if (setgroups(1, &gid) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid");
	sandbox_verify_drop(uid, gid);
}

/*
 * Step 4: no new processes, die with the parent (set after the uid
 * change, which clears it), no ptrace or core, no setuid gains.
 */
static void
sandbox_prctl(pid_t ppid)
{
	pid_t	 now;

	sandbox_setrlimit(RLIMIT_NPROC, "RLIMIT_NPROC", 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("PR_SET_PDEATHSIG");
	/* The parent may have gone before the death signal was armed. */
	if ((now = getppid()) != ppid || now == 1)
		fatalx("parent exited (parent pid now %ld)", (long)now);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("PR_SET_DUMPABLE");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
}

/* The Landlock ABI the kernel offers, 0 when it offers none. */
int
sandbox_landlock_abi(void)
{
	int	 abi;

	abi = compat_landlock_create_ruleset(NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : abi;
}

/* Say what an old kernel's Landlock cannot restrict. */
static void
sandbox_landlock_warn(int abi)
{
	if (abi < 3)
		log_warnx("landlock abi %d: truncate not restricted", abi);
	if (abi < 4)
		log_warnx("landlock abi %d: tcp bind and connect not "
		    "restricted", abi);
	if (abi < 5)
		log_warnx("landlock abi %d: device ioctl not restricted", abi);
	if (abi < 6)
		log_warnx("landlock abi %d: signals and abstract unix sockets "
		    "not scoped", abi);
	if (abi > SANDBOX_LANDLOCK_KNOWN)
		log_debug("landlock abi %d is newer than this build knows (%d)",
		    abi, SANDBOX_LANDLOCK_KNOWN);
}

/* The FTP worker may connect to the configured ports and no others. */
static void
sandbox_landlock_rules(int fd, const struct sandbox_conf *sc)
{
	struct landlock_net_port_attr	 pa;
	int				 i;

	for (i = 0; i < sc->sc_nports; i++) {
		memset(&pa, 0, sizeof(pa));
		pa.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP;
		pa.port = sc->sc_ports[i];
		if (compat_landlock_add_rule(fd, LANDLOCK_RULE_NET_PORT, &pa,
		    0) == -1)
			fatal("landlock port %u", sc->sc_ports[i]);
	}
}

/*
 * What the ruleset handles for abi: every filesystem right it knows;
 * TCP bind, and connect unless an FTP worker may connect anywhere;
 * signals and abstract sockets scoped to the process.
 */
static void
sandbox_landlock_attr(enum sandbox_role role, const struct sandbox_conf *sc,
    int abi, struct compat_landlock_ruleset_attr *ra)
{
	memset(ra, 0, sizeof(*ra));
	/* ABI 1: the 13 rights from EXECUTE to MAKE_SYM */
	ra->handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		ra->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ra->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		ra->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 4) {
		ra->handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP;
		if (role != SANDBOX_FTP || sc->sc_nports > 0)
			ra->handled_access_net |=
			    LANDLOCK_ACCESS_NET_CONNECT_TCP;
	}
	if (abi >= 6)
		ra->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
		    LANDLOCK_SCOPE_SIGNAL;
}

/* Step 5: Landlock as far as the kernel offers it, allowing nothing. */
static void
sandbox_landlock(enum sandbox_role role, const struct sandbox_conf *sc)
{
	struct compat_landlock_ruleset_attr	 ra;
	int					 abi, fd;

	if (sc->sc_nports < 0 || sc->sc_nports > (int)nitems(sc->sc_ports))
		fatalx("bad number of ftp ports %d", sc->sc_nports);
	abi = compat_landlock_create_ruleset(NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi == -1 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		log_warn("landlock not offered by this kernel");
		return;
	}
	if (abi < 1)
		fatal("landlock abi");
	sandbox_landlock_warn(abi);

	sandbox_landlock_attr(role, sc, abi, &ra);
	if ((fd = compat_landlock_create_ruleset(&ra, sizeof(ra), 0)) == -1)
		fatal("landlock_create_ruleset");
	if (ra.handled_access_net & LANDLOCK_ACCESS_NET_CONNECT_TCP &&
	    role == SANDBOX_FTP)
		sandbox_landlock_rules(fd, sc);
	if (compat_landlock_restrict_self(fd, 0) == -1)
		fatal("landlock_restrict_self");
	close(fd);
	log_debug("landlock abi %d: fs 0x%llx net 0x%llx scoped 0x%llx", abi,
	    (unsigned long long)ra.handled_access_fs,
	    (unsigned long long)ra.handled_access_net,
	    (unsigned long long)ra.scoped);
}

/* libseccomp returns -errno. */
static void
sandbox_seccomp_fail(const char *what, int rc)
{
	errno = -rc;
	fatal("seccomp %s", what);
}

/* Allow each system call of list, whatever its arguments. */
static void
sandbox_seccomp_list(scmp_filter_ctx ctx, const int *list, size_t n)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i],
		    0)) != 0)
			sandbox_seccomp_fail("rule", rc);
}

/* Add one rule with argument checks (all of them must hold). */
static void
sandbox_seccomp_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
    unsigned int ncmp, const struct scmp_arg_cmp *cmp)
{
	int	 rc;

	if ((rc = seccomp_rule_add_array(ctx, action, nr, ncmp, cmp)) != 0)
		sandbox_seccomp_fail("rule", rc);
}

/* Every role: system calls that are allowed only with some arguments. */
static void
sandbox_seccomp_args(scmp_filter_ctx ctx)
{
	struct scmp_arg_cmp	 noexec = SCMP_A2(SCMP_CMP_MASKED_EQ,
				    PROT_EXEC, 0);
	struct scmp_arg_cmp	 cmp[2];
	size_t			 i;

	/* Memory, but never executable: no new code at run time. */
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, &noexec);
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    &noexec);

	/* libevent sizes its reads with FIONREAD. */
	cmp[0] = SCMP_A1(SCMP_CMP_EQ, FIONREAD);
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, cmp);
	/* stdio asks isatty() before buffering: harmless, say no. */
	cmp[0] = SCMP_A1(SCMP_CMP_EQ, TCGETS);
	sandbox_seccomp_rule(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
	    cmp);

	/* Flags only: F_SETOWN and friends could signal other processes. */
	for (i = 0; i < nitems(sandbox_fcntl_cmds); i++) {
		cmp[0] = SCMP_A1(SCMP_CMP_EQ, sandbox_fcntl_cmds[i]);
		sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    cmp);
	}

	/*
	 * send(2) is sendto with no address.  No TCP fast open: it
	 * connects without connect(2), so Landlock would not see it.
	 */
	cmp[0] = SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0);
	cmp[1] = SCMP_A4(SCMP_CMP_EQ, 0);
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 2, cmp);
	cmp[0] = SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, 0);
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1, cmp);

	/* abort() and raise() signal this process and nothing else. */
	cmp[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, cmp);
}

/*
 * ftp: TCP sockets over IPv4 or IPv6 and no other kind.  No socketpair:
 * libcurl's wakeup pair comes with curl_multi_init(), before the sandbox.
 */
static void
sandbox_seccomp_socket(scmp_filter_ctx ctx)
{
	static const int	 family[] = { AF_INET, AF_INET6 };
	static const int	 proto[] = { 0, IPPROTO_TCP };
	struct scmp_arg_cmp	 cmp[3];
	size_t			 i, j;

	for (i = 0; i < nitems(family); i++) {
		for (j = 0; j < nitems(proto); j++) {
			cmp[0] = SCMP_A0(SCMP_CMP_EQ, family[i]);
			/* SOCK_NONBLOCK and SOCK_CLOEXEC may be or'ed in */
			cmp[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM);
			cmp[2] = SCMP_A2(SCMP_CMP_EQ, proto[j]);
			sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socket), 3, cmp);
		}
	}
}

/*
 * Step 6, last: the allow-list for role.  Anything else kills the whole
 * process, and so does a system call of any other architecture (i386
 * through int 0x80, x32), which libseccomp checks first.
 */
static void
sandbox_seccomp(enum sandbox_role role)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = seccomp_init(SANDBOX_DEFAULT_ACTION)) == NULL)
		fatalx("seccomp_init failed");
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0)
		sandbox_seccomp_fail("bad arch action", rc);
	/* Any thread a library started gets the filter too. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0)
		sandbox_seccomp_fail("tsync", rc);

	sandbox_seccomp_list(ctx, sandbox_sys_common,
	    nitems(sandbox_sys_common));
	sandbox_seccomp_args(ctx);
	switch (role) {
	case SANDBOX_FRONT:
		sandbox_seccomp_list(ctx, sandbox_sys_front,
		    nitems(sandbox_sys_front));
		break;
	case SANDBOX_SSH:
		/* libssh2 on its one socket needs nothing more. */
		break;
	case SANDBOX_FTP:
		sandbox_seccomp_list(ctx, sandbox_sys_ftp,
		    nitems(sandbox_sys_ftp));
		sandbox_seccomp_socket(ctx);
		break;
	}
#ifdef SANDBOX_TRAP
	sandbox_trap_install();
#endif
	if ((rc = seccomp_load(ctx)) != 0)
		sandbox_seccomp_fail("load", rc);
	seccomp_release(ctx);
}

#ifdef SANDBOX_TRAP
/*
 * Debug build: a forbidden system call traps instead of killing, the
 * handler names it on stderr and then the process dies of SIGSYS all the
 * same.  Names are looked up before the filter is loaded: libseccomp's
 * resolver allocates, which a signal handler must not.
 */
#define SANDBOX_NSYSNAMES	512

static char	*sandbox_sysnames[SANDBOX_NSYSNAMES];

/* Append s to buf at *off, within size. */
static void
sandbox_trap_cat(char *buf, size_t size, size_t *off, const char *s)
{
	while (*s != '\0' && *off < size)
		buf[(*off)++] = *s++;
}

/* Name the trapped system call with write(2) only, then die of SIGSYS. */
static void
sandbox_trap(int sig, siginfo_t *si, void *uc)
{
	char		 buf[128], num[16];
	const char	*name = "unknown";
	size_t		 off = 0, n = sizeof(num);
	unsigned int	 nr = (unsigned int)si->si_syscall;
	ssize_t		 w;

	(void)sig;
	(void)uc;
	if (nr < SANDBOX_NSYSNAMES && sandbox_sysnames[nr] != NULL)
		name = sandbox_sysnames[nr];
	num[--n] = '\0';
	do {
		num[--n] = '0' + nr % 10;
		nr /= 10;
	} while (nr != 0 && n > 0);
	sandbox_trap_cat(buf, sizeof(buf), &off,
	    "sandbox: forbidden syscall ");
	sandbox_trap_cat(buf, sizeof(buf), &off, name);
	sandbox_trap_cat(buf, sizeof(buf), &off, " (nr ");
	sandbox_trap_cat(buf, sizeof(buf), &off, num + n);
	sandbox_trap_cat(buf, sizeof(buf), &off, ")\n");
	w = write(STDERR_FILENO, buf, off);
	(void)w;
	/* SA_RESETHAND restored the default: delivered on return. */
	raise(SIGSYS);
}

/* Resolve the names and install the SIGSYS handler. */
static void
sandbox_trap_install(void)
{
	struct sigaction	 sa;
	int			 i;

	for (i = 0; i < SANDBOX_NSYSNAMES; i++)
		if (sandbox_sysnames[i] == NULL)
			sandbox_sysnames[i] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, i);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_trap;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("sigaction SIGSYS");
	log_warnx("seccomp violations trap (SANDBOX_TRAP build)");
}
#endif
