/*
 * The REST API in the front: routing, request validation, the requests
 * sent to the parent and the rendering of what comes back, including the
 * records of a data channel (listings, execute output, file bytes).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "front.h"
#include "json.h"
#include "log.h"
#include "multipart.h"
#include "util.h"

#define R_UPLOAD	0x1	/* body streams to a data channel */

struct route {
	enum http_meth	 rt_method;
	const char	*rt_pattern;	/* '*' is a session id */
	int		 rt_flags;
	void		(*rt_run)(struct client *);
};

static void	api_health(struct client *);
static void	api_ssh_open(struct client *);
static void	api_ftp_open(struct client *);
static void	api_list(struct client *);
static void	api_cleanup(struct client *);
static void	api_get(struct client *);
static void	api_close(struct client *);
static void	api_files(struct client *);
static void	api_download(struct client *);
static void	api_content(struct client *);
static void	api_upload(struct client *);
static void	api_execute(struct client *);

static const struct route api_routes[] = {
	{ HTTP_M_GET,	 "/health",			0, api_health },
	{ HTTP_M_POST,	 "/connections/ssh",		0, api_ssh_open },
	{ HTTP_M_POST,	 "/connections/ftp",		0, api_ftp_open },
	{ HTTP_M_GET,	 "/connections",		0, api_list },
	{ HTTP_M_POST,	 "/connections/cleanup",	0, api_cleanup },
	{ HTTP_M_GET,	 "/connections/*",		0, api_get },
	{ HTTP_M_DELETE, "/connections/*",		0, api_close },
	{ HTTP_M_GET,	 "/connections/*/files",	0, api_files },
	{ HTTP_M_GET,	 "/connections/*/files/content", 0, api_content },
	{ HTTP_M_PUT,	 "/connections/*/files/content", R_UPLOAD,
	    api_upload },
	{ HTTP_M_POST,	 "/connections/*/download",	0, api_download },
	{ HTTP_M_POST,	 "/connections/*/upload",	R_UPLOAD, api_upload },
	{ HTTP_M_POST,	 "/connections/*/execute",	0, api_execute },
};
#define NROUTES	(sizeof(api_routes) / sizeof(api_routes[0]))

static ssize_t	api_upload_raw(struct client *, const char *, size_t);
static int	api_upload_end(struct client *);
static void	api_exec_json(struct client *, struct json_object *);

static const char *const api_method_names[] = {
	"", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"
};

/* An error with extra header lines (405 needs Allow). */
static void
api_error_extra(struct client *c, int status, const char *code,
    const char *msg, const char *extra)
{
	struct json_object	*o = jr_error(msg, code);
	const char		*s;
	size_t			 len;

	if (o == NULL) {
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	front_respond(c, status, "application/json", s, len, extra);
	json_object_put(o);
}

/* A session id segment: UUID text (hex digits and dashes). */
static int
api_id_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len >= P_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/*
 * Match a raw path against a pattern.  Returns 1 on a match, with the
 * '*' segment copied to id (or id[0] = 1 when it is not a valid id).
 */
static int
api_match(const char *pattern, const char *path, char *id)
{
	const char	*p = pattern, *q = path, *e;

	while (*p != '\0') {
		if (*p == '*') {
			e = q + strcspn(q, "/");
			if (e == q)
				return 0;
			if (api_id_ok(q, e - q)) {
				memcpy(id, q, e - q);
				id[e - q] = '\0';
			} else {
				id[0] = 1;
				id[1] = '\0';
			}
			q = e;
			p++;
			continue;
		}
		if (*p++ != *q++)
			return 0;
	}
	/* One trailing slash is forgiven. */
	return *q == '\0' || (q[0] == '/' && q[1] == '\0');
}

/* Find the route; sets *allow to the methods the path supports. */
static const struct route *
api_route(const struct http_request *req, char *id, char *allow,
    size_t alen)
{
	const struct route	*found = NULL;
	enum http_meth		 m = req->r_method;
	size_t			 i;

	allow[0] = '\0';
	if (m == HTTP_M_HEAD)
		m = HTTP_M_GET;
	for (i = 0; i < NROUTES; i++) {
		if (!api_match(api_routes[i].rt_pattern, req->r_path, id))
			continue;
		if (allow[0] != '\0')
			strlcat(allow, ", ", alen);
		strlcat(allow, api_method_names[api_routes[i].rt_method],
		    alen);
		if (api_routes[i].rt_method == m && found == NULL)
			found = &api_routes[i];
	}
	id[0] = '\0';
	if (found != NULL)
		api_match(found->rt_pattern, req->r_path, id);
	return found;
}

static void
api_preflight(struct client *c)
{
	char	 extra[512];

	if (c->c_origin[0] == '\0') {
		front_respond(c, 204, NULL, NULL, 0, NULL);
		return;
	}
	snprintf(extra, sizeof(extra), "Access-Control-Allow-Methods: GET, "
	    "POST, PUT, DELETE, OPTIONS\r\nAccess-Control-Allow-Headers: "
	    "Content-Type, Authorization, X-Requested-With\r\n"
	    "Access-Control-Max-Age: 600\r\n");
	front_respond(c, 204, NULL, NULL, 0, extra);
}

/* The head is in: route it and decide how the body will be read. */
int
api_on_request(struct client *c, const struct http_request *req)
{
	struct front_env	*env = front_env;
	char			 allow[128];

	c->c_route = NULL;
	c->c_id[0] = '\0';
	http_set_body_max(c->c_http, env->f_conf.max_body);
	if (req->r_method == HTTP_M_OPTIONS)
		return 0;
	c->c_route = api_route(req, c->c_id, allow, sizeof(allow));
	if (c->c_route == NULL || !(c->c_route->rt_flags & R_UPLOAD))
		return 0;
	if (c->c_id[0] == 1)
		return 0;
	if (env->f_conf.max_file_size != 0 && req->r_content_length > 0 &&
	    (uint64_t)req->r_content_length > env->f_conf.max_file_size +
	    64 * 1024) {
		c->c_closing = 1;
		front_error(c, 413, "too_large", "Upload exceeds the limit of "
		    "%llu bytes",
		    (unsigned long long)env->f_conf.max_file_size);
		return 0;
	}
	http_set_body_max(c->c_http, UINT64_MAX);
	/* Uploads take as long as they take; inactivity still counts. */
	front_deadline_stop(c);
	c->c_route->rt_run(c);
	return 0;
}

/*
 * Keep JSON body bytes.  The buffer grows by copying, and every copy it
 * leaves is wiped: the body may hold passwords and keys.  The parser
 * bounds its size by the body limit.
 */
static int
api_body_add(struct client *c, const char *buf, size_t len)
{
	size_t	 cap;
	char	*nb;

	if (c->c_bodylen + len + 1 > c->c_bodycap) {
		cap = c->c_bodycap ? c->c_bodycap : 4096;
		while (cap < c->c_bodylen + len + 1)
			cap *= 2;
		if ((nb = malloc(cap)) == NULL)
			return -1;
		if (c->c_body != NULL)
			memcpy(nb, c->c_body, c->c_bodylen);
		if (c->c_body != NULL)
			freezero(c->c_body, c->c_bodycap);
		c->c_body = nb;
		c->c_bodycap = cap;
	}
	memcpy(c->c_body + c->c_bodylen, buf, len);
	c->c_bodylen += len;
	c->c_body[c->c_bodylen] = '\0';
	return 0;
}

/* Body bytes: JSON bodies are kept, uploads stream to the channel. */
ssize_t
api_on_body(struct client *c, const char *buf, size_t len)
{
	ssize_t	 n;

	if (c->c_state == CL_DONE)
		return len;
	if (c->c_route != NULL && (c->c_route->rt_flags & R_UPLOAD) &&
	    c->c_id[0] != 1) {
		if (c->c_mp == NULL)
			return api_upload_raw(c, buf, len);
		if ((n = mp_feed(c->c_mp, buf, len)) == -1) {
			/* Mid-transfer, the caller drops the connection. */
			c->c_closing = 1;
			if (c->c_state != CL_STREAM)
				front_error(c, 400, "invalid_request",
				    "Malformed multipart body: %s",
				    mp_error(c->c_mp));
			return -1;
		}
		return n;
	}
	if (api_body_add(c, buf, len) == -1)
		return -1;
	return len;
}

/* The whole request is in. */
int
api_on_complete(struct client *c)
{
	char	 allow[128], id[P_ID_LEN], extra[160];

	if (c->c_state == CL_DONE)
		return 0;
	if (c->c_req->r_method == HTTP_M_OPTIONS) {
		if (api_route(c->c_req, id, allow, sizeof(allow)) == NULL &&
		    allow[0] == '\0')
			front_error(c, 404, "not_found", "No such endpoint");
		else
			api_preflight(c);
		return 0;
	}
	if (c->c_route == NULL) {
		if (api_route(c->c_req, id, allow, sizeof(allow)) == NULL &&
		    allow[0] == '\0') {
			front_error(c, 404, "not_found", "No such endpoint");
			return 0;
		}
		snprintf(extra, sizeof(extra), "Allow: %s, OPTIONS\r\n",
		    allow);
		api_error_extra(c, 405, "method_not_allowed",
		    "Method not allowed", extra);
		return 0;
	}
	if (c->c_id[0] == 1) {
		front_error(c, 404, "session_not_found",
		    "Session expired or not found");
		return 0;
	}
	if (c->c_route->rt_flags & R_UPLOAD)
		return api_upload_end(c);
	c->c_state = CL_WAIT;
	c->c_route->rt_run(c);
	return 0;
}

/* The JSON body as a string (NUL-terminated), or "" when none. */
static const char *
api_body(struct client *c, size_t *len)
{
	*len = c->c_bodylen;
	return c->c_body != NULL ? c->c_body : "";
}

/* Forget the body, wiping it: it may hold credentials. */
static void
api_body_wipe(struct client *c)
{
	if (c->c_body != NULL)
		freezero(c->c_body, c->c_bodycap);
	c->c_body = NULL;
	c->c_bodylen = c->c_bodycap = 0;
}

static void
api_health(struct client *c)
{
	struct msg_req	 r;

	r.reqid = c->c_reqid;
	front_send(IMSG_REQ_HEALTH, &r, sizeof(r));
}

static void
api_ssh_open(struct client *c)
{
	struct msg_ssh_open	*m;
	const char		*body;
	size_t			 len;
	char			 err[256];

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	body = api_body(c, &len);
	if (jv_ssh_open(body, len, m, err, sizeof(err)) == -1) {
		api_body_wipe(c);
		free(m);
		front_error(c, errno == ENOMEM ? 500 : 400, errno == ENOMEM ?
		    "internal" : "invalid_request", "%s", err);
		return;
	}
	api_body_wipe(c);
	m->reqid = c->c_reqid;
	front_send(IMSG_REQ_SSH_OPEN, m, sizeof(*m));
	freezero(m, sizeof(*m));
}

static void
api_ftp_open(struct client *c)
{
	struct msg_ftp_open	 m;
	const char		*body;
	size_t			 len;
	char			 err[256];

	body = api_body(c, &len);
	if (jv_ftp_open(body, len, &m, err, sizeof(err)) == -1) {
		api_body_wipe(c);
		front_error(c, errno == ENOMEM ? 500 : 400, errno == ENOMEM ?
		    "internal" : "invalid_request", "%s", err);
		return;
	}
	api_body_wipe(c);
	m.reqid = c->c_reqid;
	front_send(IMSG_REQ_FTP_OPEN, &m, sizeof(m));
	explicit_bzero(&m, sizeof(m));
}

static void
api_list(struct client *c)
{
	struct msg_req	 r;

	if ((c->c_entries = json_object_new_array()) == NULL) {
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	r.reqid = c->c_reqid;
	front_send(IMSG_REQ_LIST, &r, sizeof(r));
}

static void
api_cleanup(struct client *c)
{
	struct msg_req	 r;

	r.reqid = c->c_reqid;
	front_send(IMSG_REQ_CLEANUP, &r, sizeof(r));
}

static void
api_by_id(struct client *c, uint32_t type)
{
	struct msg_req_id	 r;

	memset(&r, 0, sizeof(r));
	r.reqid = c->c_reqid;
	strlcpy(r.id, c->c_id, sizeof(r.id));
	front_send(type, &r, sizeof(r));
}

static void
api_get(struct client *c)
{
	api_by_id(c, IMSG_REQ_GET);
}

static void
api_close(struct client *c)
{
	api_by_id(c, IMSG_REQ_CLOSE);
}

/* Ask the parent to run an operation; the reply brings a channel. */
static void
api_op(struct client *c, enum op_kind kind)
{
	c->c_op.reqid = c->c_reqid;
	c->c_op.op = kind;
	strlcpy(c->c_op.id, c->c_id, sizeof(c->c_op.id));
	c->c_state = CL_WAIT;
	front_send(IMSG_REQ_OP, &c->c_op, sizeof(c->c_op));
}

/* The path from the query string; "" when absent.  0 or -1 answered. */
static int
api_query_path(struct client *c, int required)
{
	char	 err[256];
	ssize_t	 n;

	n = http_query_get(c->c_req, "path", c->c_op.path,
	    sizeof(c->c_op.path));
	if (n == -1 && errno != ENOENT) {
		front_error(c, 400, "invalid_request", "Invalid path");
		return -1;
	}
	if (n == -1 || n == 0) {
		c->c_op.path[0] = '\0';
		if (required) {
			front_error(c, 400, "invalid_request",
			    "path is required");
			return -1;
		}
		return 0;
	}
	if (jv_path_okn(c->c_op.path, n, err, sizeof(err)) == -1) {
		front_error(c, 400, "invalid_request", "%s", err);
		return -1;
	}
	return 0;
}

static void
api_files(struct client *c)
{
	if (api_query_path(c, 0) == -1)
		return;
	if ((c->c_entries = json_object_new_array()) == NULL) {
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	api_op(c, OP_LIST);
}

static void
api_content(struct client *c)
{
	if (api_query_path(c, 1) == -1)
		return;
	api_op(c, OP_DOWNLOAD);
}

static void
api_download(struct client *c)
{
	const char	*body;
	size_t		 len;
	char		 err[256];

	body = api_body(c, &len);
	if (jv_path_req(body, len, c->c_op.path, sizeof(c->c_op.path), err,
	    sizeof(err)) == -1) {
		front_error(c, 400, "invalid_request", "%s", err);
		return;
	}
	api_op(c, OP_DOWNLOAD);
}

static void
api_execute(struct client *c)
{
	const char	*body;
	size_t		 len;
	char		 err[256];

	body = api_body(c, &len);
	if (jv_exec(body, len, &c->c_op, err, sizeof(err)) == -1) {
		front_error(c, 400, "invalid_request", "%s", err);
		return;
	}
	if ((c->c_out = evbuffer_new()) == NULL ||
	    (c->c_err = evbuffer_new()) == NULL) {
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	api_op(c, OP_EXEC);
}

/*
 * Uploads.  PUT sends the raw body; POST is multipart/form-data with a
 * "path" field before the "file" part.  The parent is asked for a
 * channel only once the target is known; until it comes, the body waits
 * in the socket.
 */
static int
api_mp_begin(void *arg, const char *name, const char *filename,
    const char *ctype)
{
	struct client	*c = arg;

	(void)ctype;
	c->c_field_path = 0;
	if (name != NULL && strcmp(name, "path") == 0 && !c->c_in_file) {
		c->c_field_path = 1;
		c->c_fieldlen = 0;
		return 0;
	}
	if (name == NULL || strcmp(name, "file") != 0 || c->c_op.op != 0)
		return 0;
	if (c->c_op.path[0] == '\0') {
		front_error(c, 400, "invalid_request", "%s",
		    c->c_fieldlen > 0 ? "path is invalid: it must not "
		    "contain CR, LF or NUL" :
		    "path is required and must come before file");
		return -1;
	}
	c->c_in_file = 1;
	strlcpy(c->c_op.filename, filename != NULL ? filename : "",
	    sizeof(c->c_op.filename));
	api_op(c, OP_UPLOAD);
	mp_pause(c->c_mp, 1);
	return 0;
}

/*
 * Upload bytes are framed in records as large as the channel allows:
 * the worker hands each record to the remote as it comes, and small
 * records would cost a round trip each.
 */
void
api_upload_flush(struct client *c)
{
	struct dc_hdr	 h;
	size_t		 len;

	if (c->c_chan == NULL || c->c_upbuf == NULL)
		return;
	while ((len = evbuffer_get_length(c->c_upbuf)) > 0) {
		if (len > DC_MAX_RECORD)
			len = DC_MAX_RECORD;
		h.kind = DC_DATA;
		h.len = len;
		evbuffer_add(bufferevent_get_output(c->c_chan), &h, sizeof(h));
		evbuffer_remove_buffer(c->c_upbuf,
		    bufferevent_get_output(c->c_chan), len);
	}
}

/* Queue body bytes for the worker; 1 when the channel is full. */
static int
api_upload_add(struct client *c, const char *buf, size_t len)
{
	if (c->c_upbuf == NULL && (c->c_upbuf = evbuffer_new()) == NULL)
		return -1;
	evbuffer_add(c->c_upbuf, buf, len);
	c->c_moved += len;
	if (evbuffer_get_length(c->c_upbuf) >= DC_MAX_RECORD)
		api_upload_flush(c);
	return evbuffer_get_length(bufferevent_get_output(c->c_chan)) +
	    evbuffer_get_length(c->c_upbuf) > FRONT_STREAM_HIGH;
}

static int
api_mp_data(void *arg, const char *buf, size_t len)
{
	struct client	*c = arg;

	if (c->c_field_path) {
		if (c->c_fieldlen + len >= sizeof(c->c_fieldbuf)) {
			front_error(c, 400, "invalid_request",
			    "path is too long");
			return -1;
		}
		memcpy(c->c_fieldbuf + c->c_fieldlen, buf, len);
		c->c_fieldlen += len;
		return 0;
	}
	if (!c->c_in_file || c->c_chan == NULL)
		return 0;
	switch (api_upload_add(c, buf, len)) {
	case -1:
		return -1;
	case 1:
		mp_pause(c->c_mp, 1);
		break;
	}
	return 0;
}

static int
api_mp_end(void *arg)
{
	struct client	*c = arg;
	char		 err[256];

	if (c->c_field_path) {
		c->c_fieldbuf[c->c_fieldlen] = '\0';
		c->c_field_path = 0;
		if (strlen(c->c_fieldbuf) != c->c_fieldlen ||
		    jv_path_ok(c->c_fieldbuf, err, sizeof(err)) == -1) {
			c->c_op.path[0] = '\0';
			return 0;
		}
		strlcpy(c->c_op.path, c->c_fieldbuf, sizeof(c->c_op.path));
	}
	if (c->c_in_file)
		c->c_in_file = 2;	/* the file part is complete */
	return 0;
}

static const struct mp_callbacks api_mp_cb = {
	api_mp_begin,
	api_mp_data,
	api_mp_end,
	NULL
};

static void
api_upload(struct client *c)
{
	const char	*ctype;
	char		 boundary[128];

	if (c->c_req->r_method == HTTP_M_PUT) {
		if (api_query_path(c, 1) == -1)
			return;
		api_op(c, OP_UPLOAD);
		http_pause(c->c_http, 1);
		return;
	}
	ctype = http_header_get(c->c_req, "content-type");
	if (ctype == NULL || mp_boundary_from_content_type(ctype, boundary,
	    sizeof(boundary)) == -1) {
		c->c_closing = 1;
		front_error(c, 400, "invalid_request",
		    "Upload must be multipart/form-data with a boundary");
		return;
	}
	if ((c->c_mp = mp_new(boundary, &api_mp_cb, c)) == NULL) {
		c->c_closing = 1;
		front_error(c, 500, "internal", "Out of memory");
	}
}

static ssize_t
api_upload_raw(struct client *c, const char *buf, size_t len)
{
	if (c->c_chan == NULL || evbuffer_get_length(
	    bufferevent_get_output(c->c_chan)) > FRONT_STREAM_HIGH)
		return 0;
	if (api_upload_add(c, buf, len) == -1)
		return -1;
	return len;
}

/* The client sent the whole body: tell the worker it may commit. */
static int
api_upload_end(struct client *c)
{
	struct dc_hdr	 h;

	if (c->c_state == CL_DONE)
		return 0;
	if (c->c_mp != NULL && (mp_end(c->c_mp) == -1 || c->c_in_file != 2)) {
		/* Mid-transfer, the caller drops the connection. */
		if (c->c_chan != NULL)
			return -1;
		front_error(c, 400, "invalid_request", "%s", c->c_op.op == 0 ?
		    "Upload has no file part" : "Malformed multipart body");
		return 0;
	}
	if (c->c_chan == NULL) {
		/* Still waiting for the channel: finish when it comes. */
		c->c_body_done = 1;
		return 0;
	}
	api_upload_flush(c);
	h.kind = DC_END;
	h.len = 0;
	evbuffer_add(bufferevent_get_output(c->c_chan), &h, sizeof(h));
	c->c_body_done = 2;
	return 0;
}

/* Content-Disposition with an ASCII fallback and RFC 5987 filename*. */
static void
api_disposition(const char *name, char *out, size_t len)
{
	char		 ascii[256], enc[3 * 256 + 1];
	size_t		 i, a = 0, e = 0;
	unsigned char	 ch;

	for (i = 0; name[i] != '\0' && a + 1 < sizeof(ascii) &&
	    e + 4 < sizeof(enc); i++) {
		ch = name[i];
		ascii[a++] = (ch < 0x20 || ch >= 0x7f || ch == '"' ||
		    ch == '\\' || ch == '%' || ch == ';') ? '_' : ch;
		if (isalnum(ch) || strchr("!#$&+-.^_`|~", ch) != NULL)
			enc[e++] = ch;
		else
			e += snprintf(enc + e, sizeof(enc) - e, "%%%02X", ch);
	}
	ascii[a] = '\0';
	enc[e] = '\0';
	snprintf(out, len, "Content-Disposition: attachment; "
	    "filename=\"%s\"; filename*=UTF-8''%s\r\n", ascii[0] ? ascii :
	    "download", enc[0] ? enc : "download");
}

static void
api_chan_close(struct client *c)
{
	if (c->c_chan != NULL) {
		bufferevent_free(c->c_chan);
		c->c_chan = NULL;
	}
}

/* Render the final answer of a channel operation; -1: client freed. */
static int
api_op_result(struct client *c)
{
	struct dc_result	*r = &c->c_result;
	struct json_object	*o;

	r->r_code[sizeof(r->r_code) - 1] = '\0';
	r->r_message[sizeof(r->r_message) - 1] = '\0';
	r->r_path[sizeof(r->r_path) - 1] = '\0';
	if (c->c_op.op == OP_DOWNLOAD && c->c_head_sent) {
		api_chan_close(c);
		if (r->r_status >= 400 || c->c_moved != c->c_expect) {
			front_abort(c, "download failed mid-stream");
			return -1;
		}
		front_request_done(c);
		return 0;
	}
	if (r->r_status >= 400) {
		if (c->c_op.op == OP_UPLOAD && c->c_body_done != 2)
			c->c_closing = 1;
		api_chan_close(c);
		front_error(c, r->r_status, r->r_code[0] ? r->r_code :
		    "internal", "%s", r->r_message);
		return 0;
	}
	api_chan_close(c);
	if ((o = json_object_new_object()) == NULL) {
		front_json(c, 500, NULL);
		return 0;
	}
	switch (c->c_op.op) {
	case OP_LIST:
		jr_entries_sort(c->c_entries);
		json_object_object_add(o, "path",
		    jr_string_new(r->r_path, strlen(r->r_path)));
		json_object_object_add(o, "entries", c->c_entries);
		c->c_entries = NULL;
		front_json(c, 200, o);
		break;
	case OP_UPLOAD:
		json_object_object_add(o, "path",
		    jr_string_new(r->r_path, strlen(r->r_path)));
		json_object_object_add(o, "size",
		    json_object_new_uint64(r->r_size));
		front_json(c, 201, o);
		break;
	case OP_EXEC:
		api_exec_json(c, o);
		front_json(c, 200, o);
		break;
	default:
		json_object_put(o);
		front_error(c, 500, "internal", "Unexpected result");
	}
	return 0;
}

static struct json_object *
api_evbuffer_string(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);

	return jr_string_new(len ? (const char *)evbuffer_pullup(b, -1) : "",
	    len);
}

static void
api_exec_json(struct client *c, struct json_object *o)
{
	struct dc_result	*r = &c->c_result;

	json_object_object_add(o, "stdout", api_evbuffer_string(c->c_out));
	json_object_object_add(o, "stderr", api_evbuffer_string(c->c_err));
	json_object_object_add(o, "exit_code", r->r_exit_code < 0 ? NULL :
	    json_object_new_int(r->r_exit_code));
	r->r_exit_signal[sizeof(r->r_exit_signal) - 1] = '\0';
	json_object_object_add(o, "exit_signal", r->r_exit_signal[0] ?
	    json_object_new_string(r->r_exit_signal) : NULL);
	json_object_object_add(o, "truncated",
	    json_object_new_boolean(r->r_truncated != 0));
	json_object_object_add(o, "stdout_truncated",
	    json_object_new_boolean(r->r_truncated & 1));
	json_object_object_add(o, "stderr_truncated",
	    json_object_new_boolean((r->r_truncated & 2) != 0));
	json_object_object_add(o, "duration_ms",
	    json_object_new_uint64(r->r_duration_ms));
}

/* A download's file information: write the response head. */
static int
api_fileinfo(struct client *c, struct evbuffer *in, size_t len)
{
	struct dc_fileinfo	 fi;
	char			 extra[1200];

	if (len != sizeof(fi) || c->c_op.op != OP_DOWNLOAD || c->c_head_sent)
		return -1;
	evbuffer_remove(in, &fi, sizeof(fi));
	fi.f_name[sizeof(fi.f_name) - 1] = '\0';
	api_disposition(fi.f_name, extra, sizeof(extra));
	c->c_expect = fi.f_size;
	c->c_head_sent = 1;
	/* An unknown size ends with the connection. */
	if (!(fi.f_flags & DC_F_SIZEKNOWN))
		c->c_keepalive = 0;
	front_head_stream(c, "application/octet-stream",
	    (fi.f_flags & DC_F_SIZEKNOWN) ? (int64_t)fi.f_size : -1, extra);
	bufferevent_setwatermark(c->c_bev, EV_WRITE, FRONT_STREAM_HIGH / 2,
	    0);
	return 0;
}

static int
api_entry(struct client *c, struct evbuffer *in, size_t len)
{
	struct dc_entry	 e;
	char		*p;

	if (c->c_op.op != OP_LIST || len < sizeof(e))
		return -1;
	evbuffer_remove(in, &e, sizeof(e));
	len -= sizeof(e);
	if ((uint64_t)e.e_namelen + e.e_targetlen != len)
		return -1;
	if ((p = malloc(len + 1)) == NULL)
		return -1;
	evbuffer_remove(in, p, len);
	e.e_owner[sizeof(e.e_owner) - 1] = '\0';
	e.e_group[sizeof(e.e_group) - 1] = '\0';
	json_object_array_add(c->c_entries, jr_entry(&e, p, e.e_namelen,
	    p + e.e_namelen, e.e_targetlen));
	free(p);
	return 0;
}

/* Handle one complete record from the worker. */
static int
api_record(struct client *c, struct evbuffer *in, uint32_t kind,
    size_t len)
{
	struct evbuffer	*cout = bufferevent_get_output(c->c_bev);

	switch (kind) {
	case DC_FILEINFO:
		return api_fileinfo(c, in, len);
	case DC_ENTRY:
		return api_entry(c, in, len);
	case DC_DATA:
		if (c->c_op.op == OP_EXEC)
			return evbuffer_remove_buffer(in, c->c_out, len) ==
			    (int)len ? 0 : -1;
		if (c->c_op.op != OP_DOWNLOAD || !c->c_head_sent)
			return -1;
		c->c_moved += len;
		if (evbuffer_remove_buffer(in, cout, len) != (int)len)
			return -1;
		if (evbuffer_get_length(cout) > FRONT_STREAM_HIGH)
			bufferevent_disable(c->c_chan, EV_READ);
		return 0;
	case DC_STDERR:
		if (c->c_op.op != OP_EXEC)
			return -1;
		return evbuffer_remove_buffer(in, c->c_err, len) == (int)len ?
		    0 : -1;
	case DC_RESULT:
		if (len != sizeof(c->c_result))
			return -1;
		evbuffer_remove(in, &c->c_result, len);
		c->c_result_seen = 1;
		return 0;
	}
	return -1;
}

/*
 * Take every complete record the channel has.  Returns -1 when the
 * client is gone (freed), 0 otherwise.
 */
static int
api_chan_take(struct client *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_chan);
	struct dc_hdr	 h;

	/* Bounded by the input: every turn drains a record. */
	while (!c->c_result_seen) {
		if (c->c_op.op == OP_DOWNLOAD && c->c_head_sent &&
		    evbuffer_get_length(bufferevent_get_output(c->c_bev)) >
		    FRONT_STREAM_HIGH)
			return 0;
		if (evbuffer_copyout(in, &h, sizeof(h)) != sizeof(h))
			return 0;
		if (h.len > DC_MAX_RECORD)
			break;
		if (evbuffer_get_length(in) < sizeof(h) + h.len)
			return 0;
		evbuffer_drain(in, sizeof(h));
		if (api_record(c, in, h.kind, h.len) == -1)
			break;
	}
	if (!c->c_result_seen) {
		front_abort(c, "bad record from worker");
		return -1;
	}
	return api_op_result(c);
}

static void
api_chan_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)api_chan_take(arg);
}

static void
api_chan_write(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	/* The worker took the upload bytes: read more from the client. */
	if (c->c_state == CL_STREAM && c->c_body_done == 0) {
		if (c->c_mp != NULL)
			mp_pause(c->c_mp, 0);
		front_read_more(c);
	}
}

/*
 * A worker that refuses an upload writes its result and closes the
 * channel while we may still be writing upload bytes: our write then
 * fails (EPIPE) before libevent has read the result.  Move what the
 * socket still holds into the input, bounded by two records' worth.
 */
static void
api_chan_drain(struct client *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->c_chan);
	char		 buf[16384];
	ssize_t		 n;
	size_t		 i;
	int		 fd = bufferevent_getfd(c->c_chan);

	/* A bufferevent keeps its input's end frozen to all but itself. */
	evbuffer_unfreeze(in, 0);
	for (i = 0; i < 2 * DC_MAX_RECORD / sizeof(buf) + 1; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0 || evbuffer_add(in, buf, n) == -1)
			break;
	}
	evbuffer_freeze(in, 0);
}

static void
api_chan_event(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR)
		api_chan_drain(c);
	if (api_chan_take(c) == -1 || c->c_result_seen || c->c_chan == NULL)
		return;
	/* The worker went away without a result. */
	if (c->c_head_sent || c->c_state != CL_STREAM) {
		front_abort(c, "worker closed the data channel");
		return;
	}
	api_chan_close(c);
	c->c_closing = 1;
	front_error(c, 500, "internal", "The session's worker failed "
	    "during the operation");
}

/* The parent started our operation: here is its data channel. */
static void
api_op_start(struct client *c, int fd)
{
	struct dc_hdr	 h;

	c->c_chan = bufferevent_socket_new(proc_base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->c_chan == NULL) {
		close(fd);
		front_error(c, 500, "internal", "Out of memory");
		return;
	}
	c->c_state = CL_STREAM;
	front_bev_bulk(c->c_chan);
	bufferevent_setcb(c->c_chan, api_chan_read, api_chan_write,
	    api_chan_event, c);
	bufferevent_setwatermark(c->c_chan, EV_READ, 0, 2 * DC_MAX_RECORD);
	bufferevent_setwatermark(c->c_chan, EV_WRITE, FRONT_STREAM_HIGH / 2,
	    0);
	bufferevent_enable(c->c_chan, EV_READ | EV_WRITE);
	if (c->c_op.op != OP_UPLOAD)
		return;
	if (c->c_body_done == 1) {
		h.kind = DC_END;
		h.len = 0;
		evbuffer_add(bufferevent_get_output(c->c_chan), &h, sizeof(h));
		c->c_body_done = 2;
		return;
	}
	if (c->c_mp != NULL)
		mp_pause(c->c_mp, 0);
	front_read_more(c);
}

/* The client drained its output: let the download flow again. */
void
api_chan_resume(struct client *c)
{
	if (c->c_chan == NULL)
		return;
	bufferevent_enable(c->c_chan, EV_READ);
	(void)api_chan_take(c);
}

static void
api_rep_session(struct client *c, struct msg_session *m)
{
	struct json_object	*o;

	if (!STR_BOUNDED(m->id) || !STR_BOUNDED(m->host) ||
	    !STR_BOUNDED(m->username) || !STR_BOUNDED(m->name) ||
	    !STR_BOUNDED(m->hostkey_type) || !STR_BOUNDED(m->hostkey_sha256))
		fatalx("bad session message from parent");
	o = jr_session(m);
	if (c->c_route == NULL || c->c_route->rt_run != api_list) {
		front_json(c, c->c_route != NULL &&
		    c->c_route->rt_method == HTTP_M_POST ? 201 : 200, o);
		return;
	}
	if (o != NULL)
		json_object_array_add(c->c_entries, o);
}

static void
api_rep_count(struct client *c, const struct msg_count *m)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL) {
		front_json(c, 500, NULL);
		return;
	}
	if (c->c_route != NULL && c->c_route->rt_run == api_list) {
		json_object_object_add(o, "sessions", c->c_entries);
		c->c_entries = NULL;
	} else if (c->c_route != NULL && c->c_route->rt_run == api_close) {
		json_object_object_add(o, "status",
		    json_object_new_string("closed"));
		json_object_object_add(o, "session_id",
		    json_object_new_string(c->c_id));
	} else
		json_object_object_add(o, "removed",
		    json_object_new_int64(m->count));
	front_json(c, 200, o);
}

static void
api_rep_health(struct client *c, const struct msg_health *h)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL) {
		front_json(c, 500, NULL);
		return;
	}
	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "service",
	    json_object_new_string("coreastra-connection-manager"));
	json_object_object_add(o, "version",
	    json_object_new_string(COREASTRA_VERSION));
	json_object_object_add(o, "sessions",
	    json_object_new_int64(h->sessions));
	json_object_object_add(o, "max_sessions",
	    json_object_new_int64(h->max_sessions));
	json_object_object_add(o, "uptime",
	    json_object_new_int64((int64_t)h->uptime));
	front_json(c, 200, o);
}

static void
api_rep_error(struct client *c, struct msg_error *e)
{
	if (!STR_BOUNDED(e->code) || !STR_BOUNDED(e->message) ||
	    e->status < 400 || e->status > 599)
		fatalx("bad error message from parent");
	if (c->c_op.op == OP_UPLOAD)
		c->c_closing = 1;	/* the body was not read */
	front_error(c, e->status, e->code, "%s", e->message);
}

/* Replies from the parent, matched to the waiting client by reqid. */
void
api_dispatch_parent(struct peer *p, struct imsg *im)
{
	struct client	*c;
	uint32_t	 reqid;
	size_t		 want;

	(void)p;
	switch (im->hdr.type) {
	case IMSG_LOG_VERBOSE:
		if (im->hdr.len != sizeof(struct msg_count) || im->fd != -1)
			fatalx("bad message %u from parent", im->hdr.type);
		log_setverbose(((struct msg_count *)im->data)->count);
		return;
	case IMSG_REP_HEALTH:
		want = sizeof(struct msg_health);
		break;
	case IMSG_REP_SESSION:
		want = sizeof(struct msg_session);
		break;
	case IMSG_REP_LIST_END:
	case IMSG_REP_COUNT:
		want = sizeof(struct msg_count);
		break;
	case IMSG_REP_OP_START:
		want = sizeof(struct msg_req);
		break;
	case IMSG_REP_ERROR:
		want = sizeof(struct msg_error);
		break;
	default:
		fatalx("unexpected message %u from parent", im->hdr.type);
	}
	if (im->hdr.len != want || (im->fd != -1) !=
	    (im->hdr.type == IMSG_REP_OP_START))
		fatalx("bad message %u from parent", im->hdr.type);
	memcpy(&reqid, im->data, sizeof(reqid));
	/* The client may be gone or answered; its channel end just closes. */
	if ((c = front_find(reqid)) == NULL || c->c_state == CL_DONE ||
	    c->c_state == CL_LINGER)
		return;
	switch (im->hdr.type) {
	case IMSG_REP_HEALTH:
		api_rep_health(c, im->data);
		break;
	case IMSG_REP_SESSION:
		api_rep_session(c, im->data);
		break;
	case IMSG_REP_LIST_END:
	case IMSG_REP_COUNT:
		api_rep_count(c, im->data);
		break;
	case IMSG_REP_OP_START:
		api_op_start(c, imsg_take_fd(im));
		break;
	case IMSG_REP_ERROR:
		api_rep_error(c, im->data);
		break;
	}
}

/* Release what a request held (between requests and at close). */
void
api_client_gone(struct client *c)
{
	api_body_wipe(c);
	api_chan_close(c);
	if (c->c_entries != NULL)
		json_object_put(c->c_entries);
	if (c->c_out != NULL)
		evbuffer_free(c->c_out);
	if (c->c_err != NULL)
		evbuffer_free(c->c_err);
	if (c->c_mp != NULL)
		mp_free(c->c_mp);
	if (c->c_upbuf != NULL)
		evbuffer_free(c->c_upbuf);
	c->c_upbuf = NULL;
	c->c_entries = NULL;
	c->c_out = c->c_err = NULL;
	c->c_mp = NULL;
	c->c_route = NULL;
	memset(&c->c_op, 0, sizeof(c->c_op));
	c->c_head_sent = c->c_result_seen = c->c_in_file = 0;
	c->c_body_done = c->c_field_path = 0;
	c->c_expect = c->c_moved = 0;
	c->c_fieldlen = 0;
}
