/*
 * HTTP/1.1 request parsing for the front, without I/O.
 *
 * http-parser reads the head: method, target, version and header fields.
 * Debian builds it without HTTP_PARSER_STRICT, so a scanner runs over the
 * same bytes first and refuses what the relaxed parser would let through
 * (control bytes, CR without LF, folded lines, a malformed version) and
 * enforces the size limits.  The body is framed here, not by http-parser:
 * on_headers_complete tells it there is no body, and a small decoder
 * handles Content-Length and chunked bodies byte-exactly, so that body
 * bytes can be taken partially and chunk framing is checked strictly.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "http.h"

#define HTTP_RLINE_SLACK	32	/* method, spaces, version, CRLF */
#define HTTP_CHUNK_LINE_MAX	1024	/* chunk size and extensions */
#define HTTP_BUF_INIT		1024
#define HTTP_LIMIT_MAX		(16 * 1024 * 1024)

enum http_state {
	HTTP_S_HEAD,
	HTTP_S_BODY,
	HTTP_S_DONE
};

/* Where the head scanner is. */
enum http_scan {
	SCAN_START,		/* blank lines before the request line */
	SCAN_RLINE,		/* request line */
	SCAN_BOL,		/* beginning of a header line */
	SCAN_HDR,		/* inside a header line */
	SCAN_END		/* past the blank line that ends the head */
};

/* Which item of the head the http-parser callbacks are filling. */
enum http_phase {
	PH_NONE,
	PH_URL,
	PH_NAME,
	PH_VALUE
};

/* Where the chunked body decoder is. */
enum http_chunk {
	CH_SIZE,		/* hex digits */
	CH_EXT,			/* chunk extensions, ignored */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_BOL,		/* beginning of a trailer line */
	CH_TRAILER,		/* trailer fields, ignored */
	CH_TRAILER_LF,
	CH_END_LF		/* LF of the final blank line */
};

struct http_hoff {
	size_t		 ho_name;	/* offsets into c_buf */
	size_t		 ho_value;
};

struct http_ctx {
	http_parser		 c_parser;
	struct http_limits	 c_lim;
	struct http_callbacks	 c_cb;
	void			*c_arg;
	enum http_state		 c_state;
	int			 c_paused;
	int			 c_status;	/* error to answer, 0 none */
	const char		*c_reason;
	uint64_t		 c_body_max;

	/* Head scanner. */
	enum http_scan		 c_scan;
	int			 c_scan_cr;	/* the last byte was CR */
	int			 c_scan_status;
	const char		*c_scan_reason;
	size_t			 c_rline;	/* request line bytes */
	size_t			 c_hbytes;	/* header section bytes */
	char			 c_tail[9];	/* " HTTP/1.1" */

	/* The head's strings: URL, names and values, path, query. */
	char			*c_buf;
	size_t			 c_buflen;
	size_t			 c_bufsize;
	size_t			 c_bufmax;
	enum http_phase		 c_phase;
	size_t			 c_urllen;
	struct http_hoff	*c_hoff;
	struct http_header	*c_hdrs;
	size_t			 c_nhdr;
	struct http_request	 c_req;

	/* Body. */
	uint64_t		 c_remaining;	/* of the body or chunk */
	uint64_t		 c_total;	/* chunk sizes so far */
	enum http_chunk		 c_chunk;
	size_t			 c_linelen;	/* chunk line or trailers */
	int			 c_ndigits;
};

static int	 http_fail(struct http_ctx *, int, const char *);
static int	 http_cb_fail(struct http_ctx *);
static int	 http_fail_hpe(struct http_ctx *, enum http_errno);
static void	 http_clear(struct http_ctx *);
static int	 http_reserve(struct http_ctx *, size_t);
static int	 http_append(struct http_ctx *, const char *, size_t);
static int	 http_phase(struct http_ctx *, enum http_phase);
static int	 http_on_url(http_parser *, const char *, size_t);
static int	 http_on_field(http_parser *, const char *, size_t);
static int	 http_on_value(http_parser *, const char *, size_t);
static int	 http_on_headers(http_parser *);
static int	 http_on_message(http_parser *);
static int	 http_check_line(struct http_ctx *);
static int	 http_build_target(struct http_ctx *);
static int	 http_build_headers(struct http_ctx *);
static size_t	 http_header_count(const struct http_request *, const char *);
static int	 http_has_token(const struct http_request *, const char *,
		    const char *);
static int	 http_check_head(struct http_ctx *);
static int	 http_check_body(struct http_ctx *);
static int	 http_tail_ok(const struct http_ctx *);
static size_t	 http_scan_fail(struct http_ctx *, size_t, int,
		    const char *);
static size_t	 http_scan(struct http_ctx *, const char *, size_t);
static ssize_t	 http_head(struct http_ctx *, const char *, size_t);
static ssize_t	 http_deliver(struct http_ctx *, const char *, size_t);
static int	 http_complete(struct http_ctx *);
static ssize_t	 http_identity(struct http_ctx *, const char *, size_t);
static int	 http_chunk_size(struct http_ctx *, unsigned char);
static int	 http_chunk_header(struct http_ctx *);
static int	 http_chunk_byte(struct http_ctx *, unsigned char);
static ssize_t	 http_chunked(struct http_ctx *, const char *, size_t);
static int	 http_hexval(unsigned char);
static int	 http_is_tchar(unsigned char);
static int	 http_block_ok(const char *);

static const http_parser_settings http_settings = {
	.on_url = http_on_url,
	.on_header_field = http_on_field,
	.on_header_value = http_on_value,
	.on_headers_complete = http_on_headers,
	.on_message_complete = http_on_message
};

/* Fill in the default limits. */
void
http_limits_default(struct http_limits *lim)
{
	lim->l_url_max = HTTP_URL_MAX;
	lim->l_headers_max = HTTP_HEADERS_MAX;
	lim->l_nheaders_max = HTTP_NHEADERS_MAX;
	lim->l_body_max = HTTP_BODY_MAX;
}

/* A parser for one connection; lim NULL takes the defaults. */
struct http_ctx *
http_new(const struct http_limits *lim, const struct http_callbacks *cb,
    void *arg)
{
	struct http_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (lim != NULL)
		c->c_lim = *lim;
	else
		http_limits_default(&c->c_lim);
	if (c->c_lim.l_url_max == 0 || c->c_lim.l_url_max > HTTP_LIMIT_MAX ||
	    c->c_lim.l_headers_max == 0 ||
	    c->c_lim.l_headers_max > HTTP_LIMIT_MAX ||
	    c->c_lim.l_nheaders_max == 0 ||
	    c->c_lim.l_nheaders_max > HTTP_LIMIT_MAX / 64) {
		free(c);
		errno = EINVAL;
		return NULL;
	}
	if (cb != NULL)
		c->c_cb = *cb;
	c->c_arg = arg;

	/* URL, its path and query copies, fields, and their NULs. */
	c->c_bufmax = 2 * c->c_lim.l_url_max + c->c_lim.l_headers_max +
	    2 * c->c_lim.l_nheaders_max + 8;
	c->c_bufsize = HTTP_BUF_INIT;
	c->c_buf = malloc(c->c_bufsize);
	c->c_hoff = calloc(c->c_lim.l_nheaders_max, sizeof(*c->c_hoff));
	c->c_hdrs = calloc(c->c_lim.l_nheaders_max, sizeof(*c->c_hdrs));
	if (c->c_buf == NULL || c->c_hoff == NULL || c->c_hdrs == NULL) {
		http_free(c);
		return NULL;
	}
	http_clear(c);
	return c;
}

void
http_free(struct http_ctx *c)
{
	if (c == NULL)
		return;
	free(c->c_buf);
	free(c->c_hoff);
	free(c->c_hdrs);
	free(c);
}

/* Make ready for a new request. */
static void
http_clear(struct http_ctx *c)
{
	http_parser_init(&c->c_parser, HTTP_REQUEST);
	c->c_parser.data = c;
	c->c_state = HTTP_S_HEAD;
	c->c_paused = 0;
	c->c_body_max = c->c_lim.l_body_max;

	c->c_scan = SCAN_START;
	c->c_scan_cr = 0;
	c->c_scan_status = 0;
	c->c_scan_reason = NULL;
	c->c_rline = 0;
	c->c_hbytes = 0;
	memset(c->c_tail, 0, sizeof(c->c_tail));

	c->c_buflen = 0;
	c->c_phase = PH_NONE;
	c->c_urllen = 0;
	c->c_nhdr = 0;
	memset(&c->c_req, 0, sizeof(c->c_req));

	c->c_remaining = 0;
	c->c_total = 0;
	c->c_chunk = CH_SIZE;
	c->c_linelen = 0;
	c->c_ndigits = 0;
}

/*
 * Feed bytes; returns how many were consumed, or -1 with http_error set.
 * Feeding 0 bytes after a pause delivers what the pause held back.
 */
ssize_t
http_feed(struct http_ctx *c, const char *buf, size_t len)
{
	ssize_t	 head = 0, body;

	if (c->c_status != 0)
		return -1;
	if (c->c_paused || c->c_state == HTTP_S_DONE)
		return 0;
	if (c->c_state == HTTP_S_HEAD) {
		if (len == 0)
			return 0;
		if ((head = http_head(c, buf, len)) == -1)
			return -1;
		if (c->c_state == HTTP_S_HEAD || c->c_paused)
			return head;
		buf += head;
		len -= head;
	}
	if (c->c_req.r_chunked)
		body = http_chunked(c, buf, len);
	else
		body = http_identity(c, buf, len);
	if (body == -1)
		return -1;
	return head + body;
}

/* Stop (1) or resume (0) delivering; resuming needs another http_feed. */
void
http_pause(struct http_ctx *c, int paused)
{
	c->c_paused = paused != 0;
}

int
http_paused(const struct http_ctx *c)
{
	return c->c_paused;
}

/* True once on_complete has been called for the current request. */
int
http_done(const struct http_ctx *c)
{
	return c->c_state == HTTP_S_DONE && c->c_status == 0;
}

/*
 * After a complete message, get ready for the next one on the same
 * connection.  -1 when the connection must close instead.
 */
int
http_reset(struct http_ctx *c)
{
	if (c->c_state != HTTP_S_DONE || c->c_status != 0 ||
	    !c->c_req.r_keep_alive) {
		errno = EINVAL;
		return -1;
	}
	http_clear(c);
	return 0;
}

/* The largest body accepted for the current request. */
void
http_set_body_max(struct http_ctx *c, uint64_t max)
{
	c->c_body_max = max;
}

/* Fail the request with this answer; the first error set sticks. */
void
http_set_error(struct http_ctx *c, int status, const char *reason)
{
	if (c->c_status != 0)
		return;
	if (status < 400 || status > 599)
		status = 500;
	c->c_status = status;
	c->c_reason = reason != NULL ? reason : http_status_text(status);
}

int
http_error(const struct http_ctx *c)
{
	return c->c_status;
}

const char *
http_error_reason(const struct http_ctx *c)
{
	return c->c_reason != NULL ? c->c_reason : "";
}

/* Record an error; always returns -1. */
static int
http_fail(struct http_ctx *c, int status, const char *reason)
{
	http_set_error(c, status, reason);
	return -1;
}

/* A callback refused to go on. */
static int
http_cb_fail(struct http_ctx *c)
{
	return http_fail(c, 500, "request aborted");
}

/* Translate an error of http-parser. */
static int
http_fail_hpe(struct http_ctx *c, enum http_errno e)
{
	switch (e) {
	case HPE_INVALID_METHOD:
		return http_fail(c, 501, "unknown method");
	case HPE_INVALID_VERSION:
		return http_fail(c, 505, "bad HTTP version");
	case HPE_HEADER_OVERFLOW:
		return http_fail(c, 431, "header section too large");
	case HPE_INVALID_TRANSFER_ENCODING:
		return http_fail(c, 501, "unsupported transfer coding");
	default:
		return http_fail(c, 400, http_errno_description(e));
	}
}

/* Room for n more bytes in c_buf, within c_bufmax. */
static int
http_reserve(struct http_ctx *c, size_t n)
{
	size_t	 size;
	char	*p;

	if (n > c->c_bufmax - c->c_buflen)
		return http_fail(c, 431, "request head too large");
	if (c->c_buflen + n <= c->c_bufsize)
		return 0;
	size = c->c_bufsize;
	while (size < c->c_buflen + n)
		size *= 2;
	if (size > c->c_bufmax)
		size = c->c_bufmax;
	if ((p = realloc(c->c_buf, size)) == NULL)
		return http_fail(c, 500, "out of memory");
	c->c_buf = p;
	c->c_bufsize = size;
	return 0;
}

static int
http_append(struct http_ctx *c, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (http_reserve(c, n) == -1)
		return -1;
	memcpy(c->c_buf + c->c_buflen, p, n);
	c->c_buflen += n;
	return 0;
}

/* End the item being filled with a NUL and start one of kind ph. */
static int
http_phase(struct http_ctx *c, enum http_phase ph)
{
	if (c->c_phase == ph)
		return 0;
	if (c->c_phase != PH_NONE && http_append(c, "", 1) == -1)
		return -1;

	switch (ph) {
	case PH_URL:
		if (c->c_phase != PH_NONE || c->c_buflen != 0)
			return http_fail(c, 400, "malformed request line");
		break;
	case PH_NAME:
		if (c->c_nhdr == c->c_lim.l_nheaders_max)
			return http_fail(c, 431, "too many header fields");
		c->c_hoff[c->c_nhdr++].ho_name = c->c_buflen;
		break;
	case PH_VALUE:
		if (c->c_phase != PH_NAME)
			return http_fail(c, 400, "malformed header field");
		c->c_hoff[c->c_nhdr - 1].ho_value = c->c_buflen;
		break;
	case PH_NONE:
		break;
	}
	c->c_phase = ph;
	return 0;
}

static int
http_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_ctx	*c = p->data;

	if (http_phase(c, PH_URL) == -1)
		return -1;
	if (len > c->c_lim.l_url_max - c->c_urllen)
		return http_fail(c, 414, "URL too long");
	c->c_urllen += len;
	return http_append(c, at, len);
}

static int
http_on_field(http_parser *p, const char *at, size_t len)
{
	struct http_ctx	*c = p->data;

	if (http_phase(c, PH_NAME) == -1)
		return -1;
	return http_append(c, at, len);
}

static int
http_on_value(http_parser *p, const char *at, size_t len)
{
	struct http_ctx	*c = p->data;

	if (http_phase(c, PH_VALUE) == -1)
		return -1;
	return http_append(c, at, len);
}

/*
 * The head is complete: check it, hand it to the caller, and tell
 * http-parser there is no body (1): the body is framed here.
 */
static int
http_on_headers(http_parser *p)
{
	struct http_ctx	*c = p->data;
	int		 rv;

	if (http_phase(c, PH_NONE) == -1 || http_check_line(c) == -1 ||
	    http_build_target(c) == -1 || http_build_headers(c) == -1 ||
	    http_check_head(c) == -1)
		return -1;
	c->c_state = HTTP_S_BODY;

	if (c->c_cb.on_request != NULL) {
		rv = c->c_cb.on_request(c->c_arg, &c->c_req);
		if (rv == -1 || c->c_status != 0)
			return http_cb_fail(c);
	}
	if (http_check_body(c) == -1)
		return -1;
	return 1;
}

/* http-parser stops right after the head; see http_on_headers. */
static int
http_on_message(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

/* Version and method; CONNECT would need an authority-form target. */
static int
http_check_line(struct http_ctx *c)
{
	struct http_request	*r = &c->c_req;
	http_parser		*p = &c->c_parser;

	if (p->http_major != 1)
		return http_fail(c, 505, "HTTP version not supported");
	r->r_http_major = p->http_major;
	r->r_http_minor = p->http_minor;

	r->r_method_name = http_method_str(p->method);
	switch (p->method) {
	case HTTP_GET:
		r->r_method = HTTP_M_GET;
		break;
	case HTTP_HEAD:
		r->r_method = HTTP_M_HEAD;
		break;
	case HTTP_POST:
		r->r_method = HTTP_M_POST;
		break;
	case HTTP_PUT:
		r->r_method = HTTP_M_PUT;
		break;
	case HTTP_DELETE:
		r->r_method = HTTP_M_DELETE;
		break;
	case HTTP_OPTIONS:
		r->r_method = HTTP_M_OPTIONS;
		break;
	case HTTP_PATCH:
		r->r_method = HTTP_M_PATCH;
		break;
	case HTTP_CONNECT:
		return http_fail(c, 501, "CONNECT not supported");
	default:
		r->r_method = HTTP_M_OTHER;
		break;
	}
	return 0;
}

/* Split the URL into path and query, each copied after the URL. */
static int
http_build_target(struct http_ctx *c)
{
	const char	*url, *q, *h;
	size_t		 pathlen, querylen = 0, off;

	if (c->c_urllen == 0 || c->c_buf[0] != '/')
		return http_fail(c, 400, "request target not in origin form");
	if (http_reserve(c, c->c_urllen + 2) == -1)
		return -1;

	url = c->c_buf;
	h = memchr(url, '#', c->c_urllen);
	pathlen = h != NULL ? (size_t)(h - url) : c->c_urllen;
	if ((q = memchr(url, '?', pathlen)) != NULL) {
		querylen = pathlen - (q - url) - 1;
		pathlen = q - url;
	}

	off = c->c_buflen;
	memcpy(c->c_buf + off, url, pathlen);
	c->c_buf[off + pathlen] = '\0';
	if (q != NULL)
		memcpy(c->c_buf + off + pathlen + 1, q + 1, querylen);
	c->c_buf[off + pathlen + 1 + querylen] = '\0';
	c->c_buflen += pathlen + querylen + 2;

	c->c_req.r_url = c->c_buf;
	c->c_req.r_path = c->c_buf + off;
	c->c_req.r_query = c->c_buf + off + pathlen + 1;
	return 0;
}

/* Point the header array into c_buf: names lowercased, values trimmed. */
static int
http_build_headers(struct http_ctx *c)
{
	struct http_header	*h;
	char			*name, *value, *end;
	size_t			 i;

	for (i = 0; i < c->c_nhdr; i++) {
		h = &c->c_hdrs[i];
		name = c->c_buf + c->c_hoff[i].ho_name;
		value = c->c_buf + c->c_hoff[i].ho_value;
		if (*name == '\0')
			return http_fail(c, 400, "empty header name");
		for (end = name; *end != '\0'; end++) {
			if (!http_is_tchar(*end))
				return http_fail(c, 400, "bad header name");
			if (*end >= 'A' && *end <= 'Z')
				*end += 'a' - 'A';
		}
		while (*value == ' ' || *value == '\t')
			value++;
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		h->h_name = name;
		h->h_value = value;
	}
	c->c_req.r_headers = c->c_hdrs;
	c->c_req.r_nheaders = c->c_nhdr;
	return 0;
}

static size_t
http_header_count(const struct http_request *r, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < r->r_nheaders; i++)
		if (strcmp(r->r_headers[i].h_name, name) == 0)
			n++;
	return n;
}

/* Does a comma-separated list in any header "name" hold this token? */
static int
http_has_token(const struct http_request *r, const char *name,
    const char *token)
{
	const char	*v, *e;
	size_t		 i, len = strlen(token), n;

	for (i = 0; i < r->r_nheaders; i++) {
		if (strcmp(r->r_headers[i].h_name, name) != 0)
			continue;
		for (v = r->r_headers[i].h_value; *v != '\0'; v = e) {
			v += strspn(v, " \t,");
			e = v + strcspn(v, ",");
			n = e - v;
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n == len && strncasecmp(v, token, len) == 0)
				return 1;
		}
	}
	return 0;
}

/* Derive the request's fields and refuse what we do not serve. */
static int
http_check_head(struct http_ctx *c)
{
	struct http_request	*r = &c->c_req;
	http_parser		*p = &c->c_parser;
	const char		*v;
	size_t			 n;

	n = http_header_count(r, "host");
	if (n > 1 || (n == 0 && r->r_http_minor >= 1))
		return http_fail(c, 400, "missing or repeated Host");

	if ((n = http_header_count(r, "transfer-encoding")) != 0) {
		v = http_header_get(r, "transfer-encoding");
		if (n > 1 || strcasecmp(v, "chunked") != 0)
			return http_fail(c, 501, "unsupported transfer coding");
		r->r_chunked = 1;
	}

	r->r_content_length = -1;
	if ((n = http_header_count(r, "content-length")) != 0) {
		if (n > 1 || !(p->flags & F_CONTENTLENGTH) || r->r_chunked)
			return http_fail(c, 400, "bad Content-Length");
		if (p->content_length > INT64_MAX)
			return http_fail(c, 413, "request body too large");
		r->r_content_length = p->content_length;
	}

	/* HTTP/1.0 clients know no 100 Continue: ignore their Expect. */
	v = http_header_get(r, "expect");
	if (v != NULL && r->r_http_minor >= 1) {
		if (http_header_count(r, "expect") > 1 ||
		    strcasecmp(v, "100-continue") != 0)
			return http_fail(c, 417, "unsupported expectation");
		r->r_expect_continue = 1;
	}

	if (http_has_token(r, "connection", "close"))
		r->r_keep_alive = 0;
	else if (r->r_http_minor >= 1)
		r->r_keep_alive = 1;
	else
		r->r_keep_alive = http_has_token(r, "connection", "keep-alive");
	return 0;
}

/* After on_request: set up the body decoder, within the body limit. */
static int
http_check_body(struct http_ctx *c)
{
	if (c->c_req.r_content_length > 0) {
		if ((uint64_t)c->c_req.r_content_length > c->c_body_max)
			return http_fail(c, 413, "request body too large");
		c->c_remaining = c->c_req.r_content_length;
	}
	return 0;
}

/* Does the request line end in " HTTP/d.d"? */
static int
http_tail_ok(const struct http_ctx *c)
{
	const char	*t = c->c_tail;

	return memcmp(t, " HTTP/", 6) == 0 && t[6] >= '0' && t[6] <= '9' &&
	    t[7] == '.' && t[8] >= '0' && t[8] <= '9';
}

/* Record the scanner's error at byte i; returns i. */
static size_t
http_scan_fail(struct http_ctx *c, size_t i, int status, const char *reason)
{
	c->c_scan_status = status;
	c->c_scan_reason = reason;
	return i;
}

/*
 * Check the raw head bytes that the relaxed http-parser lets through,
 * and the limits.  Returns how many bytes were scanned: all of them, up
 * to the end of the head, or up to an offending byte (c_scan_status set).
 */
static size_t
http_scan(struct http_ctx *c, const char *buf, size_t len)
{
	unsigned char	 ch;
	size_t		 i;

	for (i = 0; i < len && c->c_scan != SCAN_END; i++) {
		ch = buf[i];
		if (c->c_scan_cr && ch != '\n')
			return http_scan_fail(c, i, 400, "CR without LF");
		c->c_scan_cr = ch == '\r';

		switch (c->c_scan) {
		case SCAN_START:
			if (ch == '\r' || ch == '\n')
				break;
			c->c_scan = SCAN_RLINE;
			/* FALLTHROUGH */
		case SCAN_RLINE:
			if (++c->c_rline >
			    c->c_lim.l_url_max + HTTP_RLINE_SLACK)
				return http_scan_fail(c, i, 414,
				    "request line too long");
			if (ch == '\n' && !http_tail_ok(c))
				return http_scan_fail(c, i, 400,
				    "malformed request line");
			if (ch == '\n')
				c->c_scan = SCAN_BOL;
			else if (ch < 0x20 && ch != '\r')
				return http_scan_fail(c, i, 400,
				    "control byte in request line");
			else if (ch >= 0x7f)
				return http_scan_fail(c, i, 400,
				    "non-ASCII byte in request line");
			else if (ch != '\r') {
				memmove(c->c_tail, c->c_tail + 1,
				    sizeof(c->c_tail) - 1);
				c->c_tail[sizeof(c->c_tail) - 1] = ch;
			}
			break;
		case SCAN_BOL:
			if (ch == ' ' || ch == '\t')
				return http_scan_fail(c, i, 400,
				    "folded header line");
			if (ch == '\n')
				c->c_scan = SCAN_END;
			if (ch == '\n' || ch == '\r')
				break;
			c->c_scan = SCAN_HDR;
			/* FALLTHROUGH */
		case SCAN_HDR:
			if (++c->c_hbytes > c->c_lim.l_headers_max)
				return http_scan_fail(c, i, 431,
				    "header section too large");
			if (ch == '\n')
				c->c_scan = SCAN_BOL;
			else if ((ch < 0x20 && ch != '\t' && ch != '\r') ||
			    ch == 0x7f)
				return http_scan_fail(c, i, 400,
				    "control byte in header");
			break;
		case SCAN_END:
			break;
		}
	}
	return i;
}

/* Parse head bytes; returns how many were consumed, or -1. */
static ssize_t
http_head(struct http_ctx *c, const char *buf, size_t len)
{
	enum http_errno	 e;
	size_t		 n;

	/* An offending byte: parse what precedes it, for the first error. */
	n = http_scan(c, buf, len);
	if (c->c_scan_status == 0)
		n = len;
	if (n > 0)
		n = http_parser_execute(&c->c_parser, &http_settings, buf, n);
	if (c->c_status != 0)
		return -1;
	e = HTTP_PARSER_ERRNO(&c->c_parser);
	if (e != HPE_OK && e != HPE_PAUSED)
		return http_fail_hpe(c, e);
	if (c->c_scan_status != 0)
		return http_fail(c, c->c_scan_status, c->c_scan_reason);

	/* Both must agree on where the head ends. */
	if ((c->c_state != HTTP_S_HEAD) != (c->c_scan == SCAN_END) ||
	    (c->c_state == HTTP_S_HEAD && n != len))
		return http_fail(c, 400, "inconsistent head framing");
	return n;
}

/* Offer body bytes to the caller; returns how many it took. */
static ssize_t
http_deliver(struct http_ctx *c, const char *buf, size_t len)
{
	ssize_t	 took = len;

	if (c->c_cb.on_body != NULL)
		took = c->c_cb.on_body(c->c_arg, buf, len);
	if (took < 0 || c->c_status != 0)
		return http_cb_fail(c);
	if ((size_t)took > len)
		return http_fail(c, 500, "body callback took too much");
	if ((size_t)took < len)
		c->c_paused = 1;
	c->c_remaining -= took;
	return took;
}

static int
http_complete(struct http_ctx *c)
{
	int	 rv;

	c->c_state = HTTP_S_DONE;
	if (c->c_cb.on_complete != NULL) {
		rv = c->c_cb.on_complete(c->c_arg, &c->c_req);
		if (rv == -1 || c->c_status != 0)
			return http_cb_fail(c);
	}
	return 0;
}

/* A body of Content-Length bytes, or none. */
static ssize_t
http_identity(struct http_ctx *c, const char *buf, size_t len)
{
	ssize_t	 n = 0;

	if (c->c_remaining > 0 && len > 0) {
		if (len > c->c_remaining)
			len = c->c_remaining;
		if ((n = http_deliver(c, buf, len)) == -1)
			return -1;
	}
	if (c->c_remaining == 0 && !c->c_paused && http_complete(c) == -1)
		return -1;
	return n;
}

static int
http_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A byte of the chunk size line, before any extension. */
static int
http_chunk_size(struct http_ctx *c, unsigned char ch)
{
	int	 x;

	if ((x = http_hexval(ch)) != -1) {
		if (c->c_remaining > (UINT64_MAX >> 4))
			return http_fail(c, 413, "request body too large");
		c->c_remaining = c->c_remaining * 16 + x;
		c->c_ndigits++;
		return 0;
	}
	if (c->c_ndigits == 0)
		return http_fail(c, 400, "bad chunk size");
	if (ch == ';' || ch == ' ' || ch == '\t')
		c->c_chunk = CH_EXT;
	else if (ch == '\r')
		c->c_chunk = CH_SIZE_LF;
	else
		return http_fail(c, 400, "bad chunk size");
	return 0;
}

/* The chunk size line is complete. */
static int
http_chunk_header(struct http_ctx *c)
{
	c->c_linelen = 0;
	c->c_ndigits = 0;
	if (c->c_remaining == 0) {
		c->c_chunk = CH_TRAILER_BOL;
		return 0;
	}
	if (c->c_total > c->c_body_max ||
	    c->c_remaining > c->c_body_max - c->c_total)
		return http_fail(c, 413, "request body too large");
	c->c_total += c->c_remaining;
	c->c_chunk = CH_DATA;
	return 0;
}

/* One byte of chunked framing, anywhere but inside chunk data. */
static int
http_chunk_byte(struct http_ctx *c, unsigned char ch)
{
	int	 ctl = (ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f;

	switch (c->c_chunk) {
	case CH_SIZE:
	case CH_EXT:
		if (++c->c_linelen > HTTP_CHUNK_LINE_MAX)
			return http_fail(c, 400, "chunk line too long");
		if (c->c_chunk == CH_SIZE)
			return http_chunk_size(c, ch);
		if (ctl)
			return http_fail(c, 400, "control byte in chunk");
		if (ch == '\r')
			c->c_chunk = CH_SIZE_LF;
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n')
			return http_fail(c, 400, "CR without LF");
		return http_chunk_header(c);
	case CH_DATA_CR:
		if (ch != '\r')
			return http_fail(c, 400, "no CRLF after chunk");
		c->c_chunk = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (ch != '\n')
			return http_fail(c, 400, "no CRLF after chunk");
		c->c_chunk = CH_SIZE;
		return 0;
	case CH_TRAILER_BOL:
		if (ch == '\r') {
			c->c_chunk = CH_END_LF;
			return 0;
		}
		c->c_chunk = CH_TRAILER;
		/* FALLTHROUGH */
	case CH_TRAILER:
		if (++c->c_linelen > c->c_lim.l_headers_max)
			return http_fail(c, 431, "trailer section too large");
		if (ctl)
			return http_fail(c, 400, "control byte in trailer");
		if (ch == '\r')
			c->c_chunk = CH_TRAILER_LF;
		return 0;
	case CH_TRAILER_LF:
		if (ch != '\n')
			return http_fail(c, 400, "CR without LF");
		c->c_chunk = CH_TRAILER_BOL;
		return 0;
	case CH_END_LF:
		if (ch != '\n')
			return http_fail(c, 400, "CR without LF");
		return http_complete(c);
	case CH_DATA:
		break;
	}
	return http_fail(c, 500, "chunk decoder state");
}

/* A chunked body: framing checked byte by byte, data passed through. */
static ssize_t
http_chunked(struct http_ctx *c, const char *buf, size_t len)
{
	size_t	 off = 0, n;
	ssize_t	 took;

	while (off < len && !c->c_paused && c->c_state == HTTP_S_BODY) {
		if (c->c_chunk != CH_DATA) {
			if (http_chunk_byte(c, buf[off]) == -1)
				return -1;
			off++;
			continue;
		}
		n = len - off;
		if (n > c->c_remaining)
			n = c->c_remaining;
		if ((took = http_deliver(c, buf + off, n)) == -1)
			return -1;
		off += took;
		if (c->c_remaining == 0)
			c->c_chunk = CH_DATA_CR;
	}
	return off;
}

static int
http_is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* The first header of that name (any case), or NULL. */
const char *
http_header_get(const struct http_request *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->r_nheaders; i++)
		if (strcasecmp(r->r_headers[i].h_name, name) == 0)
			return r->r_headers[i].h_value;
	return NULL;
}

/*
 * Percent-decode len bytes of src into dst (NUL-terminated), '+' as a
 * space when plus is set.  Returns the decoded length; -1 and EINVAL for
 * a bad escape or a NUL, ERANGE when dst is too small.
 */
ssize_t
http_pct_decode(const char *src, size_t len, char *dst, size_t size,
    int plus)
{
	size_t	 i, o = 0;
	int	 hi, lo, ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)src[i];
		if (ch == '%') {
			if (len - i < 3 ||
			    (hi = http_hexval(src[i + 1])) == -1 ||
			    (lo = http_hexval(src[i + 2])) == -1) {
				errno = EINVAL;
				return -1;
			}
			ch = hi * 16 + lo;
			i += 2;
		} else if (ch == '+' && plus)
			ch = ' ';
		if (ch == '\0') {
			errno = EINVAL;
			return -1;
		}
		if (o + 1 >= size) {
			errno = ERANGE;
			return -1;
		}
		dst[o++] = ch;
	}
	if (size == 0) {
		errno = ERANGE;
		return -1;
	}
	dst[o] = '\0';
	return o;
}

/*
 * Decode the value of the first query parameter called key into out.
 * Returns its length; -1 and ENOENT when absent, else as http_pct_decode.
 */
ssize_t
http_query_get(const struct http_request *r, const char *key, char *out,
    size_t outlen)
{
	const char	*p, *end, *eq;
	char		 name[64];
	size_t		 klen = strlen(key), n;

	if (klen >= sizeof(name)) {
		errno = EINVAL;
		return -1;
	}
	for (p = r->r_query; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, "&");
		n = end - p;
		if ((eq = memchr(p, '=', n)) != NULL)
			n = eq - p;
		if (http_pct_decode(p, n, name, sizeof(name), 1) == -1 ||
		    strcmp(name, key) != 0)
			continue;
		if (eq == NULL)
			return http_pct_decode("", 0, out, outlen, 1);
		return http_pct_decode(eq + 1, end - eq - 1, out, outlen, 1);
	}
	errno = ENOENT;
	return -1;
}

/* The reason phrase of a status code. */
const char *
http_status_text(int status)
{
	const char	*s;

	s = http_status_str((enum http_status)status);
	return s[0] == '<' ? "Unknown" : s;
}

/* Header lines each ending in CRLF, no other control bytes, no blank line. */
static int
http_block_ok(const char *h)
{
	const unsigned char	*p = (const unsigned char *)h;
	int			 bol = 1;

	for (; *p != '\0'; p++) {
		if (*p == '\r') {
			if (bol || p[1] != '\n')
				return 0;
			p++;
			bol = 1;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
		if (bol && (*p == ' ' || *p == '\t'))
			return 0;
		bol = 0;
	}
	return bol;
}

/*
 * Write a response head: status line, the caller's header lines (NULL or
 * lines ending in CRLF), blank line.  Returns its length, or -1 with
 * EINVAL for a bad status or block, ENOSPC when buf is too small.
 */
int
http_format_head(char *buf, size_t size, int status, const char *headers)
{
	int	 n;

	if (headers == NULL)
		headers = "";
	if (status < 100 || status > 599 || !http_block_ok(headers)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "HTTP/1.1 %d %s\r\n%s\r\n", status,
	    http_status_text(status), headers);
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}
