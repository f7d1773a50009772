/*
 * The front process: accepts HTTP clients on the sockets the parent
 * passed, feeds their bytes to the request parser, writes responses, and
 * enforces the limits that keep slow or hostile clients from pinning
 * resources.  What a request means is front_api.c's business.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "coreastra_proto.h"
#include "front.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"

#define FRONT_NOFILE		4096
#define FRONT_AS		(4ULL << 30)
#define FRONT_FEED_MAX		(64 * 1024)
#define FRONT_WRITE_TIMEOUT	60
#define FRONT_BODY_TIMEOUT	60
#define FRONT_LINGER_TIME	2	/* seconds before a lingering close */

struct front_env	*front_env;

static struct event	*front_listen_ev[8];
static int		 front_nlisten;

static int	front_http_request(void *, const struct http_request *);
static ssize_t	front_http_body(void *, const char *, size_t);
static int	front_http_complete(void *, const struct http_request *);
static void	front_client_free(struct client *);
static void	front_feed(struct client *);

static const struct http_callbacks front_http_cb = {
	front_http_request,
	front_http_body,
	front_http_complete
};

/* Move bulk bytes in large reads and writes (libevent's default: 16K). */
void
front_bev_bulk(struct bufferevent *bev)
{
	(void)bufferevent_set_max_single_read(bev, FRONT_IO_MAX);
	(void)bufferevent_set_max_single_write(bev, FRONT_IO_MAX);
}

struct client *
front_find(uint32_t reqid)
{
	struct client	*c;

	TAILQ_FOREACH(c, &front_env->f_clients, c_entry)
		if (c->c_reqid == reqid && c->c_state >= CL_WAIT)
			return c;
	return NULL;
}

void
front_send(uint32_t type, const void *data, size_t len)
{
	if (peer_compose(&front_env->f_parent, type, 0, -1, data, len) == -1)
		fatal("send to parent");
}

/* The Origin header, when the configuration allows it. */
static void
front_cors_origin(struct client *c, const struct http_request *req)
{
	const char	*o = http_header_get(req, "origin");
	unsigned int	 i;

	c->c_origin[0] = '\0';
	if (o == NULL)
		return;
	for (i = 0; i < front_env->f_conf.norigins; i++)
		if (strcmp(o, front_env->f_conf.origins[i]) == 0) {
			strlcpy(c->c_origin, o, sizeof(c->c_origin));
			return;
		}
}

/* Write a status line and the headers every response carries. */
static void
front_head(struct client *c, int status, const char *ctype, int64_t len,
    const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(c->c_bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    http_status_text(status));
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (len >= 0)
		evbuffer_add_printf(out, "Content-Length: %lld\r\n",
		    (long long)len);
	evbuffer_add_printf(out, "X-Content-Type-Options: nosniff\r\n"
	    "Cache-Control: no-store\r\n");
	if (c->c_origin[0] != '\0')
		evbuffer_add_printf(out, "Access-Control-Allow-Origin: %s\r\n"
		    "Access-Control-Allow-Credentials: true\r\n"
		    "Access-Control-Expose-Headers: Content-Disposition, "
		    "Content-Length\r\nVary: Origin\r\n", c->c_origin);
	if (extra != NULL)
		evbuffer_add(out, extra, strlen(extra));
	evbuffer_add_printf(out, "Connection: %s\r\n\r\n",
	    c->c_keepalive && !c->c_closing ? "keep-alive" : "close");
}

/*
 * Queue a complete response.  extra holds further header lines, each
 * ending in CRLF.  The next request is read once it is written.
 */
void
front_respond(struct client *c, int status, const char *ctype,
    const char *body, size_t len, const char *extra)
{
	if (c->c_state == CL_DONE || c->c_state == CL_LINGER)
		return;
	front_head(c, status, ctype, (int64_t)len, extra);
	if (len > 0 && (c->c_req == NULL ||
	    c->c_req->r_method != HTTP_M_HEAD))
		evbuffer_add(bufferevent_get_output(c->c_bev), body, len);
	front_request_done(c);
}

/* The head of a streamed response; the body follows as it comes. */
void
front_head_stream(struct client *c, const char *ctype, int64_t len,
    const char *extra)
{
	front_head(c, 200, ctype, len, extra);
}

void
front_json(struct client *c, int status, struct json_object *obj)
{
	const char	*s;
	size_t		 len;

	if (obj == NULL) {
		c->c_closing = 1;
		front_respond(c, 500, "application/json",
		    "{\"error\":\"Out of memory\",\"code\":\"internal\"}", 43,
		    NULL);
		return;
	}
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	front_respond(c, status, "application/json", s, len, NULL);
	json_object_put(obj);
}

/* An error in the API's format: {"error": sentence, "code": code}. */
void
front_error(struct client *c, int status, const char *code,
    const char *fmt, ...)
{
	struct json_object	*o;
	char			 msg[P_MSG_LEN];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "error",
		    json_object_new_string(msg));
		json_object_object_add(o, "code",
		    json_object_new_string(code));
	}
	front_json(c, status, o);
}

/* Drop the connection at once: the client sees a truncated transfer. */
void
front_abort(struct client *c, const char *why)
{
	log_debug("client %u: aborted: %s", c->c_reqid, why);
	front_client_free(c);
}

/* The response is queued: close after it, or read the next request. */
void
front_request_done(struct client *c)
{
	c->c_state = CL_DONE;
	if (!c->c_keepalive)
		c->c_closing = 1;
	bufferevent_enable(c->c_bev, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(c->c_bev)) == 0)
		bufferevent_trigger(c->c_bev, EV_WRITE,
		    BEV_TRIG_IGNORE_WATERMARKS);
}

/*
 * A request must arrive whole (head, and body for JSON endpoints) within
 * the header timeout from its first byte, however slowly it trickles.
 */
static void
front_deadline(int fd, short ev, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)ev;
	log_debug("client %u: request not complete in time", c->c_reqid);
	c->c_closing = 1;
	c->c_keepalive = 0;
	if (c->c_state == CL_HEAD || c->c_state == CL_BODY)
		front_error(c, 408, "timeout", "Request not received in time");
	else
		front_client_free(c);
}

static void
front_deadline_start(struct client *c)
{
	struct timeval	 tv = { front_env->f_conf.header_timeout, 0 };

	if (!evtimer_pending(c->c_deadline, NULL))
		evtimer_add(c->c_deadline, &tv);
}

void
front_deadline_stop(struct client *c)
{
	evtimer_del(c->c_deadline);
}

static void
front_timeouts(struct client *c, unsigned int rsecs)
{
	struct timeval	 r = { rsecs, 0 }, w = { FRONT_WRITE_TIMEOUT, 0 };

	bufferevent_set_timeouts(c->c_bev, rsecs ? &r : NULL, &w);
}

/* Ready for the next request on a kept-alive connection. */
static void
front_next_request(struct client *c)
{
	api_client_gone(c);
	if (http_reset(c->c_http) == -1) {
		front_client_free(c);
		return;
	}
	c->c_state = CL_HEAD;
	c->c_req = NULL;
	c->c_reqid = ++front_env->f_reqid;
	front_timeouts(c, front_env->f_conf.keepalive_timeout);
	bufferevent_enable(c->c_bev, EV_READ);
	front_feed(c);
}

static int
front_http_request(void *arg, const struct http_request *req)
{
	struct client	*c = arg;

	c->c_req = req;
	c->c_keepalive = req->r_keep_alive;
	front_cors_origin(c, req);
	c->c_state = CL_BODY;
	front_timeouts(c, FRONT_BODY_TIMEOUT);
	if (api_on_request(c, req) == -1)
		return -1;
	/* The client waits for this before it sends a body. */
	if (req->r_expect_continue && c->c_state != CL_DONE)
		evbuffer_add_printf(bufferevent_get_output(c->c_bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	return 0;
}

static ssize_t
front_http_body(void *arg, const char *buf, size_t len)
{
	return api_on_body(arg, buf, len);
}

static int
front_http_complete(void *arg, const struct http_request *req)
{
	struct client	*c = arg;

	(void)req;
	front_deadline_stop(c);
	return api_on_complete(c);
}

/* A request the parser refused: answer its status and close. */
static void
front_http_failed(struct client *c)
{
	int	 status = http_error(c->c_http);

	c->c_closing = 1;
	c->c_keepalive = 0;
	if (c->c_state == CL_DONE) {
		/* Answered already (e.g. 413): close once it is written. */
		front_request_done(c);
		return;
	}
	if (c->c_state == CL_STREAM) {
		front_abort(c, http_error_reason(c->c_http));
		return;
	}
	if (status < 400)
		status = 400;
	front_error(c, status, status == 413 ? "too_large" :
	    status == 408 ? "timeout" : status >= 500 ? "not_supported" :
	    "invalid_request", "%s", http_error_reason(c->c_http));
}

/* Feed buffered input to the parser while it wants more. */
static void
front_feed(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_bev);
	struct evbuffer_iovec	 v;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < 10000; i++) {
		if (c->c_state == CL_DONE || c->c_state == CL_WAIT ||
		    http_paused(c->c_http) || http_done(c->c_http))
			break;
		if (evbuffer_peek(in, FRONT_FEED_MAX, NULL, &v, 1) < 1 ||
		    v.iov_len == 0)
			break;
		if (v.iov_len > FRONT_FEED_MAX)
			v.iov_len = FRONT_FEED_MAX;
		if ((n = http_feed(c->c_http, v.iov_base, v.iov_len)) == -1) {
			explicit_bzero(v.iov_base, v.iov_len);
			front_http_failed(c);
			return;
		}
		/* Request bodies may hold credentials: wipe what was read. */
		explicit_bzero(v.iov_base, n);
		evbuffer_drain(in, n);
		if ((size_t)n < v.iov_len)
			break;
	}
	/* What the client sent so far goes to the worker now. */
	if (c->c_state == CL_STREAM && c->c_op.op == OP_UPLOAD)
		api_upload_flush(c);
}

/* Resume reading a body after backpressure eased. */
void
front_read_more(struct client *c)
{
	http_pause(c->c_http, 0);
	/* An empty feed delivers what the pause held back (e.g. the end). */
	if (http_feed(c->c_http, "", 0) == -1) {
		front_http_failed(c);
		return;
	}
	front_feed(c);
}

/* Wipe and drop what the client sent (it may hold credentials). */
static void
front_discard(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->c_bev);
	struct evbuffer_iovec	 v;
	int			 i;

	/* Bounded by the input: every turn drops one chunk. */
	for (i = 0; i < 10000; i++) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		explicit_bzero(v.iov_base, v.iov_len);
		evbuffer_drain(in, v.iov_len);
	}
}

/*
 * Close a connection whose request was answered before all of it
 * arrived (an error in mid-upload, a body too large).  Closing at once
 * with unread bytes would reset the connection, and the reset can
 * destroy the answer before the client reads it.  Instead end our
 * side, then read and drop what still comes until the client closes or
 * FRONT_LINGER_TIME passes.
 */
static void
front_linger(struct client *c)
{
	struct timeval	 tv = { FRONT_LINGER_TIME, 0 };

	api_client_gone(c);
	if (shutdown(bufferevent_getfd(c->c_bev), SHUT_WR) == -1) {
		front_client_free(c);
		return;
	}
	c->c_state = CL_LINGER;
	front_discard(c);
	bufferevent_disable(c->c_bev, EV_WRITE);
	bufferevent_enable(c->c_bev, EV_READ);
	/* The deadline alone bounds the linger, however the client reads. */
	evtimer_del(c->c_deadline);
	evtimer_add(c->c_deadline, &tv);
}

static void
front_readcb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (c->c_state == CL_LINGER) {
		front_discard(c);
		return;
	}
	if (c->c_state == CL_HEAD)
		front_deadline_start(c);
	front_feed(c);
}

static void
front_writecb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	if (c->c_state == CL_STREAM && c->c_chan != NULL) {
		/* The client drained: let the data channel flow again. */
		api_chan_resume(c);
		return;
	}
	if (c->c_state != CL_DONE ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (!c->c_closing)
		front_next_request(c);
	else if (http_done(c->c_http))
		front_client_free(c);
	else
		front_linger(c);
}

static void
front_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;

	if (what & BEV_EVENT_TIMEOUT)
		log_debug("client %u: timeout in state %d", c->c_reqid,
		    c->c_state);
	/*
	 * A client that half-closes after its request still gets the
	 * answer; one that leaves mid-request or mid-transfer does not.
	 */
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    (c->c_state == CL_WAIT || (c->c_state == CL_DONE &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) ||
	    (c->c_state == CL_STREAM && c->c_op.op != OP_UPLOAD))) {
		c->c_closing = 1;
		c->c_keepalive = 0;
		bufferevent_disable(c->c_bev, EV_READ);
		return;
	}
	front_client_free(c);
}

static void
front_client_free(struct client *c)
{
	api_client_gone(c);
	TAILQ_REMOVE(&front_env->f_clients, c, c_entry);
	front_env->f_nclients--;
	event_free(c->c_deadline);
	http_free(c->c_http);
	bufferevent_free(c->c_bev);
	free(c);
}

static void
front_accept(int lfd, short ev, void *arg)
{
	struct client	*c;
	int		 fd, on = 1;

	(void)ev;
	(void)arg;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (front_env->f_nclients >= front_env->f_conf.max_clients) {
		static const char busy[] =
		    "HTTP/1.1 503 Service Unavailable\r\n"
		    "Content-Type: application/json\r\nContent-Length: 55\r\n"
		    "Connection: close\r\n\r\n{\"error\":\"Too many "
		    "connections\",\"code\":\"unavailable\"}";

		(void)write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->c_bev = bufferevent_socket_new(proc_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	c->c_http = http_new(NULL, &front_http_cb, c);
	c->c_deadline = evtimer_new(proc_base, front_deadline, c);
	if (c->c_bev == NULL || c->c_http == NULL || c->c_deadline == NULL) {
		if (c->c_bev != NULL)
			bufferevent_free(c->c_bev);
		else
			close(fd);
		if (c->c_deadline != NULL)
			event_free(c->c_deadline);
		http_free(c->c_http);
		free(c);
		return;
	}
	c->c_reqid = ++front_env->f_reqid;
	TAILQ_INSERT_TAIL(&front_env->f_clients, c, c_entry);
	front_env->f_nclients++;
	bufferevent_setcb(c->c_bev, front_readcb, front_writecb,
	    front_eventcb, c);
	bufferevent_setwatermark(c->c_bev, EV_READ, 0, 256 * 1024);
	front_bev_bulk(c->c_bev);
	front_timeouts(c, front_env->f_conf.header_timeout);
	front_deadline_start(c);
	bufferevent_enable(c->c_bev, EV_READ | EV_WRITE);
}

static void
front_parent_closed(struct peer *p, const char *why)
{
	(void)p;
	fatalx("parent channel: %s", why);
}

/* Configuration and listening sockets from the parent, then sandbox. */
static void
front_setup(struct imsgbuf *ib)
{
	struct sandbox_conf	 sc;
	struct msg_sandbox	 sb;
	struct imsg		 im;
	int			 i;

	if (proc_child_recv(ib, &im, IMSG_SANDBOX, sizeof(sb)) == -1)
		fatal("sandbox message");
	memcpy(&sb, im.data, sizeof(sb));
	imsg_free(&im);
	if (proc_child_recv(ib, &im, IMSG_FRONT_CONFIG,
	    sizeof(front_env->f_conf)) == -1)
		fatal("config message");
	memcpy(&front_env->f_conf, im.data, sizeof(front_env->f_conf));
	imsg_free(&im);
	if (!STR_BOUNDED(sb.user) || !STR_BOUNDED(sb.chroot) ||
	    front_env->f_conf.norigins > P_ORIGINS)
		fatalx("bad configuration message");
	for (i = 0; i < (int)front_env->f_conf.norigins; i++)
		if (!STR_BOUNDED(front_env->f_conf.origins[i]))
			fatalx("bad origin");
	for (;;) {
		if (proc_child_recv(ib, &im, IMSG_FRONT_LISTEN, 0) == -1) {
			if (errno == EBADMSG && front_nlisten > 0)
				break;
			fatal("listen message");
		}
		if (im.fd == -1 || front_nlisten == 8)
			fatalx("bad listen message");
		front_listen_ev[front_nlisten++] = event_new(proc_base,
		    imsg_take_fd(&im), EV_READ | EV_PERSIST, front_accept,
		    NULL);
		imsg_free(&im);
	}
	memset(&sc, 0, sizeof(sc));
	sc.sc_user = sb.user;
	sc.sc_chroot = sb.chroot;
	sc.sc_nofile = FRONT_NOFILE;
	sc.sc_as = FRONT_AS;
	sandbox_enter(SANDBOX_FRONT, &sc);
}

void
front_main(void)
{
	static struct front_env	 env;
	struct imsgbuf		 ib;
	int			 i;

	front_env = &env;
	TAILQ_INIT(&env.f_clients);
	proc_child_setup();
	log_procname("front");
	setproctitle("front");
	tzset();
	if ((proc_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (imsgbuf_init(&ib, PROC_FD_PARENT) == -1)
		fatal("imsgbuf_init");
	proc_log_to(&ib);
	front_setup(&ib);

	/* The message that ended the setup loop was FRONT_READY. */
	if (peer_init(&env.f_parent, PROC_FD_PARENT, "parent",
	    api_dispatch_parent, front_parent_closed, NULL) == -1)
		fatal("parent channel");
	/* Keep bytes already read past the setup messages. */
	memcpy(env.f_parent.p_ib.ib_rbuf, ib.ib_rbuf, ib.ib_rlen);
	env.f_parent.p_ib.ib_rlen = ib.ib_rlen;
	proc_log_to(&env.f_parent.p_ib);
	for (i = 0; i < front_nlisten; i++)
		if (event_add(front_listen_ev[i], NULL) == -1)
			fatalx("event_add");
	event_base_dispatch(proc_base);
	fatalx("event loop ended");
}
