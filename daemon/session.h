/*
 * The session table the parent owns: one entry per remote session, with
 * its queue of operations and its idle clock.  Pure bookkeeping: no I/O,
 * time passed in, so it is unit tested with an injected clock.
 */
#ifndef DAEMON_SESSION_H
#define DAEMON_SESSION_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <stdint.h>
#include <time.h>

#include "coreastra_proto.h"
#include "proc.h"

struct op {
	TAILQ_ENTRY(op)	 o_entry;
	uint32_t	 o_id;		/* parent's id, sent to the worker */
	uint32_t	 o_reqid;	/* the front's request id */
	uint32_t	 o_front;	/* front generation that asked */
	struct msg_op	 o_msg;
};
TAILQ_HEAD(opq, op);

struct conn;

struct session {
	RB_ENTRY(session) s_entry;
	char		 s_id[P_ID_LEN];
	enum sess_type	 s_type;
	enum sess_state	 s_state;
	char		 s_host[P_HOST_LEN];
	uint16_t	 s_port;
	char		 s_user[P_USER_LEN];
	char		 s_name[P_NAME_LEN];
	uint32_t	 s_tls;		/* FTP: enum ftp_tls */
	int		 s_passive;
	int		 s_insecure;
	char		 s_hktype[P_HKTYPE_LEN];
	char		 s_hkfp[P_HKFP_LEN];
	time_t		 s_created;
	time_t		 s_last;	/* last operation finished/started */
	unsigned int	 s_idle;	/* idle timeout, seconds */

	/* the open in progress */
	uint32_t	 s_open_reqid;
	uint32_t	 s_open_front;
	struct conn	*s_conn;
	void		*s_auth;	/* credentials until sent, wiped */

	/* the worker */
	struct spawn_req *s_spawn;	/* asked of the spawner, no pid yet */
	pid_t		 s_pid;
	struct peer	 s_peer;
	int		 s_has_peer;
	struct event	*s_killtimer;
	struct event	*s_opentimer;
	int		 s_linked;	/* in sess_all */
	TAILQ_ENTRY(session) s_dying;	/* closed, waiting for its worker */

	struct opq	 s_ops;		/* head runs when s_state is BUSY */
	unsigned int	 s_nops;
	uint64_t	 s_opcount;
	uint64_t	 s_bytes_in;
	uint64_t	 s_bytes_out;
};

RB_HEAD(sess_tree, session);
RB_PROTOTYPE(sess_tree, session, s_entry, sess_cmp);

extern struct sess_tree	 sess_all;
extern unsigned int	 sess_count;

int		 sess_cmp(struct session *, struct session *);
struct session	*sess_new(enum sess_type, time_t, unsigned int);
void		 sess_unlink(struct session *);
void		 sess_free(struct session *);
struct session	*sess_find(const char *);
struct session	*sess_find_prefix(const char *, int *);
void		 sess_touch(struct session *, time_t);
time_t		 sess_expires(const struct session *);
time_t		 sess_remaining(const struct session *, time_t);
int		 sess_expired(const struct session *, time_t);
struct op	*sess_op_push(struct session *, const struct msg_op *,
		    uint32_t, uint32_t);
struct op	*sess_op_head(struct session *);
void		 sess_op_pop(struct session *);
void		 sess_describe(const struct session *, time_t,
		    struct msg_session *);
void		 sess_make_id(char *, size_t);

#endif
