/*
 * Processes and the message channels between them: a peer is one imsg
 * channel driven by libevent, with a dispatch function for what arrives.
 */
#ifndef DAEMON_PROC_H
#define DAEMON_PROC_H

#include <sys/types.h>
#include <event2/event.h>

#include "imsg.h"

/* Fixed descriptors in an exec'd child. */
#define PROC_FD_PARENT	3	/* imsg channel to the parent */
#define PROC_FD_REMOTE	4	/* worker: the connected remote socket */
#define PROC_FD_CA	5	/* FTP worker: the CA bundle, if any */

struct peer;
typedef void	(*peer_dispatch_t)(struct peer *, struct imsg *);
typedef void	(*peer_closed_t)(struct peer *, const char *);

struct peer {
	struct imsgbuf	 p_ib;
	struct event	*p_ev;
	short		 p_events;
	int		 p_dead;
	const char	*p_name;
	peer_dispatch_t	 p_dispatch;
	peer_closed_t	 p_closed;
	void		*p_arg;
};

extern char	 proc_self[];
extern struct event_base *proc_base;

void	 proc_init_self(void);
int	 peer_init(struct peer *, int, const char *, peer_dispatch_t,
	    peer_closed_t, void *);
int	 peer_compose(struct peer *, uint32_t, uint32_t, int, const void *,
	    size_t);
void	 peer_free(struct peer *);
void	 peer_stop(struct peer *);
pid_t	 proc_spawn(const char *, const int *, int, int, int, int *);
void	 proc_child_setup(void);
int	 proc_child_recv(struct imsgbuf *, struct imsg *, uint32_t, size_t);
void	 proc_log_hook(int, const char *);
void	 proc_log_to(struct imsgbuf *);
const char *proc_status_str(int, char *, size_t);

#endif
