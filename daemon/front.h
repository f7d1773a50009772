/*
 * The front: the sandboxed HTTP server.  It parses requests and JSON,
 * asks the parent for everything, and moves file bytes between HTTP
 * clients and data channels.  front.c holds connections and responses,
 * front_api.c the REST routes and what the parent answers.
 */
#ifndef DAEMON_FRONT_H
#define DAEMON_FRONT_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "http.h"
#include "proc.h"

#define FRONT_ORIGIN_MAX	256
#define FRONT_STREAM_HIGH	(1024 * 1024)	/* backpressure mark */
#define FRONT_IO_MAX		(256 * 1024)	/* one read or write */

enum client_state {
	CL_HEAD = 0,	/* reading a request head */
	CL_BODY,	/* reading a body for a JSON endpoint */
	CL_WAIT,	/* waiting for the parent */
	CL_STREAM,	/* a data channel operation is running */
	CL_DONE,	/* response queued, then next request or close */
	CL_LINGER	/* answered; reading what the client still sends */
};

struct route;
struct mp;
struct json_object;

struct client {
	TAILQ_ENTRY(client)	 c_entry;
	uint32_t		 c_reqid;
	enum client_state	 c_state;
	struct bufferevent	*c_bev;
	struct http_ctx		*c_http;
	struct event		*c_deadline;	/* head (and JSON body) */
	const struct http_request *c_req;
	int			 c_keepalive;
	int			 c_closing;	/* close once output drains */
	char			 c_origin[FRONT_ORIGIN_MAX];	/* allowed */
	char			*c_body;	/* JSON request body, NUL */
	size_t			 c_bodylen;
	size_t			 c_bodycap;
	const struct route	*c_route;
	char			 c_id[P_ID_LEN]; /* session in the path */

	/* an operation on a data channel */
	struct msg_op		 c_op;
	struct bufferevent	*c_chan;
	int			 c_chan_eof;
	int			 c_head_sent;	/* download head written */
	uint64_t		 c_expect;	/* download Content-Length */
	uint64_t		 c_moved;	/* bytes moved either way */
	int			 c_result_seen;
	struct dc_result	 c_result;
	struct json_object	*c_entries;
	struct evbuffer		*c_out;		/* execute stdout */
	struct evbuffer		*c_err;		/* execute stderr */

	/* upload */
	struct mp		*c_mp;
	struct evbuffer		*c_upbuf;	/* body bytes not yet framed */
	int			 c_in_file;	/* inside the file part */
	int			 c_body_done;
	char			 c_fieldbuf[P_PATH_LEN];
	size_t			 c_fieldlen;
	int			 c_field_path;	/* collecting "path" */
};

struct front_env {
	struct msg_front_config	 f_conf;
	struct peer		 f_parent;
	TAILQ_HEAD(, client)	 f_clients;
	unsigned int		 f_nclients;
	uint32_t		 f_reqid;
};

extern struct front_env	*front_env;

void	 front_main(void) __attribute__((__noreturn__));
void	 front_respond(struct client *, int, const char *, const char *,
	    size_t, const char *);
void	 front_json(struct client *, int, struct json_object *);
void	 front_error(struct client *, int, const char *, const char *, ...)
	    __attribute__((__format__ (printf, 4, 5)));
void	 front_abort(struct client *, const char *);
void	 front_head_stream(struct client *, const char *, int64_t,
	    const char *);
void	 front_request_done(struct client *);
struct client *front_find(uint32_t);
void	 front_send(uint32_t, const void *, size_t);
void	 front_read_more(struct client *);
void	 front_deadline_stop(struct client *);
void	 front_bev_bulk(struct bufferevent *);

/* front_api.c */
int	 api_on_request(struct client *, const struct http_request *);
ssize_t	 api_on_body(struct client *, const char *, size_t);
int	 api_on_complete(struct client *);
void	 api_dispatch_parent(struct peer *, struct imsg *);
void	 api_client_gone(struct client *);
void	 api_chan_resume(struct client *);
void	 api_upload_flush(struct client *);

#endif
