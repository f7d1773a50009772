/*
 * Asynchronous name resolution (evdns) and non-blocking TCP connect with
 * one deadline for both, so the parent never blocks on a slow network.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "connect.h"
#include "log.h"
#include "proc.h"
#include "util.h"

struct conn {
	struct evdns_getaddrinfo_request *c_dnsreq;
	struct evutil_addrinfo	*c_ai;		/* all results */
	struct evutil_addrinfo	*c_next;	/* next to try */
	struct event		*c_timer;
	struct event		*c_wev;
	struct event		*c_begin;
	char			 c_host[256];
	int			 c_fd;
	int			 c_lasterr;
	uint16_t		 c_port;
	char			 c_addr[INET6_ADDRSTRLEN];
	conn_done_t		 c_done;
	void			*c_arg;
};

static struct evdns_base	*conn_dns;

static void	conn_try_next(struct conn *);

int
conn_dns_init(void)
{
	conn_dns = evdns_base_new(proc_base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (conn_dns == NULL) {
		/* No resolv.conf: numeric hosts and /etc/hosts still work. */
		if ((conn_dns = evdns_base_new(proc_base, 0)) == NULL)
			return -1;
		evdns_base_load_hosts(conn_dns, NULL);
	}
	return 0;
}

static void
conn_free(struct conn *c)
{
	if (c->c_dnsreq != NULL)
		evdns_getaddrinfo_cancel(c->c_dnsreq);
	if (c->c_ai != NULL)
		evutil_freeaddrinfo(c->c_ai);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	if (c->c_wev != NULL)
		event_free(c->c_wev);
	if (c->c_begin != NULL)
		event_free(c->c_begin);
	if (c->c_fd != -1)
		close(c->c_fd);
	free(c);
}

/* Report the outcome once and free the attempt. */
static void
conn_finish(struct conn *c, int status, const char *why)
{
	conn_done_t	 done = c->c_done;
	void		*arg = c->c_arg;
	char		 addr[sizeof(c->c_addr)];
	int		 fd = c->c_fd;

	strlcpy(addr, c->c_addr, sizeof(addr));
	if (status == 0)
		c->c_fd = -1;
	else
		fd = -1;
	conn_free(c);
	done(arg, fd, addr, status, why);
}

static void
conn_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	conn_finish(arg, 504, "Connection error: timed out");
}

static void
conn_writable(int fd, short ev, void *arg)
{
	struct conn	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	(void)ev;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		conn_finish(c, 0, NULL);
		return;
	}
	c->c_lasterr = err;
	close(c->c_fd);
	c->c_fd = -1;
	conn_try_next(c);
}

/* Try the next resolved address, or fail with the last error. */
static void
conn_try_next(struct conn *c)
{
	struct evutil_addrinfo	*ai;
	char			 why[128];

	if (c->c_wev != NULL) {
		event_free(c->c_wev);
		c->c_wev = NULL;
	}
	while ((ai = c->c_next) != NULL) {
		c->c_next = ai->ai_next;
		c->c_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->c_fd == -1) {
			c->c_lasterr = errno;
			continue;
		}
		evutil_inet_ntop(ai->ai_family, ai->ai_family == AF_INET ?
		    (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
		    (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
		    c->c_addr, sizeof(c->c_addr));
		if (connect(c->c_fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			c->c_wev = event_new(proc_base, c->c_fd, EV_WRITE,
			    conn_writable, c);
			if (c->c_wev != NULL && event_add(c->c_wev, NULL) == 0)
				return;
		}
		c->c_lasterr = errno;
		close(c->c_fd);
		c->c_fd = -1;
	}
	snprintf(why, sizeof(why), "Connection failed: %s",
	    strerror(c->c_lasterr ? c->c_lasterr : EHOSTUNREACH));
	why[19] = (char)tolower((unsigned char)why[19]);
	conn_finish(c, 502, why);
}

static void
conn_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct conn	*c = arg;
	char		 why[160];

	c->c_dnsreq = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0) {
		snprintf(why, sizeof(why), "Connection failed: %s",
		    result == EVUTIL_EAI_NONAME ? "name not found" :
		    evutil_gai_strerror(result));
		conn_finish(c, 502, why);
		return;
	}
	c->c_ai = c->c_next = ai;
	conn_try_next(c);
}

/* Start resolving, from the event loop so callers never see reentry. */
static void
conn_begin(int fd, short ev, void *arg)
{
	struct conn		*c = arg;
	struct evutil_addrinfo	 hints;
	char			 serv[8];

	(void)fd;
	(void)ev;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(serv, sizeof(serv), "%u", c->c_port);
	/* For numeric hosts the callback runs before this returns. */
	c->c_dnsreq = evdns_getaddrinfo(conn_dns, c->c_host, serv, &hints,
	    conn_resolved, c);
}

/* Resolve host and connect to port within timeout seconds. */
struct conn *
conn_start(const char *host, uint16_t port, unsigned int timeout,
    conn_done_t done, void *arg)
{
	struct timeval		 tv = { timeout, 0 }, now = { 0, 0 };
	struct conn		*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->c_fd = -1;
	c->c_port = port;
	c->c_done = done;
	c->c_arg = arg;
	strlcpy(c->c_host, host, sizeof(c->c_host));
	if ((c->c_timer = evtimer_new(proc_base, conn_timeout, c)) == NULL ||
	    evtimer_add(c->c_timer, &tv) == -1 ||
	    (c->c_begin = evtimer_new(proc_base, conn_begin, c)) == NULL ||
	    evtimer_add(c->c_begin, &now) == -1) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* Abandon an attempt; its callback is not called. */
void
conn_cancel(struct conn *c)
{
	conn_free(c);
}
