/*
 * The sandbox every child enters (DESIGN.md section 2): rlimits, chroot
 * and privilege drop when root, no-new-privs, Landlock and a seccomp
 * allow-list for its role.  Every failure is fatal.
 */
#ifndef DAEMON_SANDBOX_H
#define DAEMON_SANDBOX_H

#include <stdint.h>

enum sandbox_role {
	SANDBOX_FRONT = 0,	/* HTTP: accept, read, write, imsg */
	SANDBOX_SSH,		/* libssh2 on one connected socket */
	SANDBOX_FTP		/* libcurl: may open data connections */
};

struct sandbox_conf {
	const char	*sc_user;	/* unprivileged user, when root */
	const char	*sc_chroot;	/* empty directory, when root */
	unsigned int	 sc_nofile;	/* RLIMIT_NOFILE */
	uint64_t	 sc_as;		/* RLIMIT_AS bytes, 0 = none */
	uint16_t	 sc_ports[4];	/* FTP: TCP ports it may connect to */
	int		 sc_nports;	/* 0 = any port (range unknown) */
};

const char *sandbox_role_name(enum sandbox_role);

/*
 * Steps 2 to 6; fatal on any failure.  Step 1 is the caller's, before:
 * load OpenSSL's config (OPENSSL_init_crypto with LOAD_CONFIG), init
 * libssh2/libcurl, tzset(), read CA bundles into memory, and create the
 * event_base and every signal event.  Afterwards no file can be opened,
 * no process started, and only the FTP role may create (TCP) sockets.
 */
void	 sandbox_enter(enum sandbox_role, const struct sandbox_conf *);

/* The Landlock ABI version the kernel offers, 0 for none. */
int	 sandbox_landlock_abi(void);

#endif
