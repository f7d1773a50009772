/*
 * HTTP/1.1 request parsing for the front, without I/O.
 *
 * The caller feeds the bytes of one connection as they arrive; the parser
 * calls back once the head is complete (on_request), with each piece of
 * the de-chunked body (on_body) and at the end of the message
 * (on_complete).  It then stops consuming: pipelined bytes wait until the
 * caller has answered and called http_reset.  Memory per connection is
 * bounded by the limits; nothing is read past the bytes given.
 *
 * http_feed returns how many bytes it consumed; the caller keeps the rest
 * and feeds them again later.  It consumes less than it was given when:
 * a message ended (http_done), the caller paused (http_pause, or on_body
 * taking fewer bytes than offered), or -1 on an error, with http_error
 * giving the status to answer before closing the connection.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define HTTP_URL_MAX		8192		/* 414 beyond */
#define HTTP_HEADERS_MAX	16384		/* header bytes, 431 beyond */
#define HTTP_NHEADERS_MAX	64		/* 431 beyond */
#define HTTP_BODY_MAX		(1024 * 1024)	/* 413 beyond */
#define HTTP_HEAD_MAX		1024		/* http_format_head output */

struct http_limits {
	size_t		 l_url_max;
	size_t		 l_headers_max;
	size_t		 l_nheaders_max;
	uint64_t	 l_body_max;	/* default; see http_set_body_max */
};

enum http_meth {
	HTTP_M_OTHER = 0,	/* known to the parser, not routed: 405 */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_PATCH
};

struct http_header {
	const char	*h_name;	/* lowercase */
	const char	*h_value;	/* without surrounding blanks */
};

/* Valid from on_request until http_reset or http_free. */
struct http_request {
	enum http_meth		 r_method;
	const char		*r_method_name;	/* "GET", "PROPFIND" ... */
	const char		*r_url;		/* as received */
	const char		*r_path;	/* raw, not decoded */
	const char		*r_query;	/* raw, "" when none */
	const struct http_header *r_headers;
	size_t			 r_nheaders;
	int64_t			 r_content_length;	/* -1 when absent */
	int			 r_chunked;
	int			 r_keep_alive;
	int			 r_expect_continue;
	int			 r_http_major;
	int			 r_http_minor;
};

struct http_callbacks {
	/*
	 * The head is complete and valid.  May call http_set_body_max,
	 * http_pause or http_set_error.  0 goes on, -1 stops with the
	 * error set by http_set_error (default 500).
	 */
	int	(*on_request)(void *, const struct http_request *);
	/*
	 * Body bytes, de-chunked.  Returns how many it took (-1 stops as
	 * above); taking fewer than offered pauses the parser, and the
	 * rest is offered again after http_pause(ctx, 0) and http_feed.
	 */
	ssize_t	(*on_body)(void *, const char *, size_t);
	/* The message is complete.  0, or -1 as above. */
	int	(*on_complete)(void *, const struct http_request *);
};

struct http_ctx;

void		 http_limits_default(struct http_limits *);
struct http_ctx	*http_new(const struct http_limits *,
		    const struct http_callbacks *, void *);
void		 http_free(struct http_ctx *);
ssize_t		 http_feed(struct http_ctx *, const char *, size_t);
void		 http_pause(struct http_ctx *, int);
int		 http_paused(const struct http_ctx *);
int		 http_done(const struct http_ctx *);
int		 http_reset(struct http_ctx *);
void		 http_set_body_max(struct http_ctx *, uint64_t);
void		 http_set_error(struct http_ctx *, int, const char *);
int		 http_error(const struct http_ctx *);
const char	*http_error_reason(const struct http_ctx *);

const char	*http_header_get(const struct http_request *, const char *);
ssize_t		 http_pct_decode(const char *, size_t, char *, size_t, int);
ssize_t		 http_query_get(const struct http_request *, const char *,
		    char *, size_t);
const char	*http_status_text(int);
int		 http_format_head(char *, size_t, int, const char *);

#endif
