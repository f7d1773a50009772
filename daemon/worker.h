/*
 * Workers: one sandboxed process per remote session.  worker.c runs the
 * message loop with the parent; a backend (worker_ssh.c, worker_ftp.c)
 * speaks the remote protocol.  Operations run one at a time: the parent
 * queues them.
 */
#ifndef DAEMON_WORKER_H
#define DAEMON_WORKER_H

#include "coreastra_proto.h"
#include "datachan.h"

struct worker;

struct worker_backend {
	const char	*wb_name;
	/*
	 * Library set-up shared by every session: done once in the
	 * spawner, so the workers it forks share those pages; wb_preinit
	 * calls it again (an exec'd worker's only call).  Must be safe to
	 * repeat.
	 */
	int	(*wb_global)(void);
	/* Before the sandbox: the session's state, CA bundle.  May be NULL. */
	int	(*wb_preinit)(struct worker *);
	/*
	 * Start the protocol on w_sock.  SSH fills the host key for the
	 * parent to check (returns 1), FTP has none (returns 0).  -1 and
	 * r set on failure.
	 */
	int	(*wb_handshake)(struct worker *, struct msg_w_hostkey *,
		    struct dc_result *);
	/* Log in; 0, or -1 with r set (401 auth_failed ...). */
	int	(*wb_auth)(struct worker *, struct msg_w_auth *,
		    struct dc_result *);
	/*
	 * Operations: write records to the data channel fd, fill r.  The
	 * caller writes the RESULT record.
	 */
	void	(*wb_list)(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
	void	(*wb_download)(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
	void	(*wb_upload)(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
	void	(*wb_exec)(struct worker *, const struct msg_op *, int,
		    struct dc_result *);
	/*
	 * After a failed operation: 0 when the remote connection broke
	 * under it and the session must end.  May be NULL.
	 */
	int	(*wb_alive)(struct worker *);
	/* Called when idle; returns seconds until it wants calling again. */
	int	(*wb_keepalive)(struct worker *);
	/* Say goodbye to the remote host. */
	void	(*wb_close)(struct worker *);
};

struct worker {
	int			 w_sock;	/* connected to the remote */
	int			 w_parent;	/* imsg to the parent */
	int			 w_cafd;	/* FTPS CA bundle, -1 */
	struct msg_w_start	 w_start;
	const struct worker_backend *w_be;
	void			*w_state;	/* the backend's */
	uint64_t		 w_bytes_in;
	uint64_t		 w_bytes_out;
};

extern const struct worker_backend worker_ssh_backend;
extern const struct worker_backend worker_ftp_backend;

void	worker_preload(void);
void	worker_main(const char *, pid_t) __attribute__((__noreturn__));

/* spawner.c */
void	spawner_main(void) __attribute__((__noreturn__));

#endif
