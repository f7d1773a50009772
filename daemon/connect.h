/*
 * Asynchronous name resolution and TCP connect for the parent.
 */
#ifndef DAEMON_CONNECT_H
#define DAEMON_CONNECT_H

#include <stdint.h>

struct conn;

/*
 * Called once: fd >= 0 and the numeric address on success, or fd -1
 * with an HTTP status (502, 504) and a human reason.
 */
typedef void	(*conn_done_t)(void *, int, const char *, int, const char *);

struct conn	*conn_start(const char *, uint16_t, unsigned int, conn_done_t,
		    void *);
void		 conn_cancel(struct conn *);
int		 conn_dns_init(void);

#endif
