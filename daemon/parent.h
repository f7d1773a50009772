/*
 * The parent: session manager.  Owns the configuration, the session
 * table and the children; never parses HTTP, JSON, SSH or FTP.
 */
#ifndef DAEMON_PARENT_H
#define DAEMON_PARENT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <time.h>

#include "config.h"
#include "proc.h"
#include "session.h"

struct parent {
	struct conf	 p_conf;
	char		 p_conffile[PATH_MAX];
	int		 p_conf_explicit;	/* -f given */
	char		 p_conf_error[512];	/* first error of a reload */
	int		 p_foreground;
	int		 p_verbose;
	time_t		 p_started;
	char		 p_ctlsock[PATH_MAX];	/* -s, overrides config */

	int		 p_listen[CONF_MAX_LISTEN];
	int		 p_nlisten;

	pid_t		 p_front_pid;
	struct peer	 p_front;
	int		 p_front_up;
	uint32_t	 p_front_gen;
	struct event	*p_front_timer;

	/* spawners: the one taking requests, started when needed */
	struct spawner	*p_spawner;
	TAILQ_HEAD(, spawner) p_spawners;	/* every one running */

	struct event	*p_sweep;
	int		 p_exiting;
	struct msg_stats p_stats;
	TAILQ_HEAD(, session) p_dying;
};

/* A worker a spawner is asked for; the session may go meanwhile. */
struct spawn_req {
	TAILQ_ENTRY(spawn_req)	 sr_entry;
	struct session		*sr_sess;	/* NULL once it closed */
	struct msg_w_start	 sr_start;	/* sent once it runs */
};

/*
 * A spawner forks a bounded number of workers, which share its address
 * space layout, then retires: it answers what it was asked and exits
 * when the parent closes its channel.
 */
struct spawner {
	TAILQ_ENTRY(spawner)	 sp_entry;
	pid_t			 sp_pid;
	struct peer		 sp_peer;
	int			 sp_open;	/* sp_peer not yet freed */
	unsigned int		 sp_asked;	/* workers asked of it */
	TAILQ_HEAD(, spawn_req)	 sp_queue;	/* in the order asked */
};

extern struct parent	*parent_env;

void	 parent_main(struct parent *) __attribute__((__noreturn__));
void	 parent_sess_close(struct session *, const char *);
unsigned int parent_cleanup(void);
int	 parent_reload(void);
void	 parent_stats(struct msg_stats *);
void	 parent_set_verbose(int);

/* exported for the fuzz harness */
void	 parent_dispatch_front(struct peer *, struct imsg *);
void	 parent_dispatch_worker(struct peer *, struct imsg *);
void	 parent_dispatch_spawner(struct peer *, struct imsg *);

/* control.c */
int	 control_init(const char *, const char *);
void	 control_close(void);

#endif
