/*
 * Landlock portability shim: the one place that knows which parts of the
 * Landlock ABI the installed kernel headers lack (Debian 12's stop at ABI
 * 2).  Values are the kernel's uapi; each is defined only when missing.
 * glibc has no wrappers, so the three system calls are here too.
 */
#ifndef COMPAT_LANDLOCK_H
#define COMPAT_LANDLOCK_H

#include <sys/syscall.h>

#include <stdint.h>
#include <unistd.h>

#include <linux/landlock.h>

/* System call numbers (identical on every architecture since 5.13). */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule		445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self	446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION	(1U << 0)
#endif

/* ABI 2 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
/* ABI 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
/* ABI 5 */
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif

/*
 * ABI 4: TCP rights, the port rule type and its attribute came in one
 * header revision, so one guard covers all of them.  The rule type is an
 * enum member in new headers; a macro of the same name is harmless there.
 */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP	(1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP	(1ULL << 1)
#define LANDLOCK_RULE_NET_PORT		2
struct landlock_net_port_attr {
	__u64	allowed_access;
	__u64	port;
};
#endif

/* ABI 6 */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL		(1ULL << 1)
#endif

/*
 * struct landlock_ruleset_attr grew a field in ABI 4 and another in ABI
 * 6; old headers have only the first.  The kernel takes the size we
 * pass, so this full-size copy works with any header and any kernel that
 * knows the fields we fill.
 */
struct compat_landlock_ruleset_attr {
	__u64	handled_access_fs;
	__u64	handled_access_net;	/* ABI 4 */
	__u64	scoped;			/* ABI 6 */
};

static inline int
compat_landlock_create_ruleset(const struct compat_landlock_ruleset_attr *a,
    size_t size, uint32_t flags)
{
	return syscall(__NR_landlock_create_ruleset, a, size, flags);
}

static inline int
compat_landlock_add_rule(int fd, int type, const void *attr, uint32_t flags)
{
	return syscall(__NR_landlock_add_rule, fd, type, attr, flags);
}

static inline int
compat_landlock_restrict_self(int fd, uint32_t flags)
{
	return syscall(__NR_landlock_restrict_self, fd, flags);
}

#endif
