/*
 * Fuzz target for the HTTP/1.1 request parser (daemon/http.c).
 *
 * Input: a mode byte, FZ_NSPLIT chunk size bytes, then the bytes of one
 * connection (pipelined requests).  The stream is parsed twice: fed
 * whole, and fed in input-derived chunks with pauses in the callbacks
 * and partial takes of the body.  Both runs must tell the same story
 * (requests, headers, bodies, final error), each request must satisfy
 * what http.h promises, and every http_feed must make progress.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "fz.h"

#define FZH_SMALL	0x01	/* small limits */
#define FZH_BODYMAX	0x02	/* on_request lowers the body limit */
#define FZH_PAUSE_REQ	0x04	/* split run: pause in on_request */
#define FZH_PAUSE_DONE	0x08	/* split run: pause in on_complete */
#define FZH_TAKE	0x10	/* split run: on_body takes little */
#define FZH_ZERO_FEED	0x20	/* split run: feed 0 bytes after a resume */
#define FZH_FORMAT	0x40	/* also try http_format_head */

#define FZH_SCRATCH	1024

struct fzh_run {
	struct http_ctx		*r_ctx;
	struct http_limits	 r_lim;
	int			 r_mode;
	int			 r_split;	/* the chunked, pausing run */
	uint64_t		 r_h;		/* transcript */
	uint64_t		 r_bodyh;	/* this request's body */
	uint64_t		 r_body;	/* its length so far */
	uint64_t		 r_bodymax;
	int64_t			 r_clen;
	int			 r_chunked;
	int			 r_keepalive;
	int			 r_inreq;
	int			 r_nreq;
	int			 r_ndone;
	size_t			 r_ncall;
	struct fz_split		*r_sp;
};

static void
fzh_fold(struct fzh_run *r, const void *p, size_t len)
{
	r->r_h = fz_hash(r->r_h, &len, sizeof(len));
	r->r_h = fz_hash(r->r_h, p, len);
}

static void
fzh_fold_str(struct fzh_run *r, const char *s)
{
	fz_trace("%s: \"%s\"", r->r_split ? "split" : "whole", s);
	fzh_fold(r, s, strlen(s) + 1);
}

static int
fzh_is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* What http.h promises about a header field. */
static void
fzh_check_header(const struct http_header *h)
{
	const unsigned char	*v = (const unsigned char *)h->h_value;
	const char		*n;
	size_t			 len = strlen(h->h_value);

	FZ_CHECK(h->h_name[0] != '\0');
	for (n = h->h_name; *n != '\0'; n++)
		FZ_CHECK(fzh_is_tchar(*n));
	if (len > 0) {
		FZ_CHECK(v[0] != ' ' && v[0] != '\t');
		FZ_CHECK(v[len - 1] != ' ' && v[len - 1] != '\t');
	}
	for (; *v != '\0'; v++)
		FZ_CHECK((*v >= 0x20 || *v == '\t') && *v != 0x7f);
}

/* The target's pieces, and the helpers that read them. */
static void
fzh_check_target(const struct fzh_run *r, const struct http_request *req)
{
	char		 buf[FZH_SCRATCH];
	size_t		 plen = strlen(req->r_path);
	ssize_t		 n;

	FZ_CHECK(req->r_url[0] == '/');
	FZ_CHECK(strlen(req->r_url) <= r->r_lim.l_url_max);
	FZ_CHECK(strncmp(req->r_url, req->r_path, plen) == 0);
	FZ_CHECK(strpbrk(req->r_path, "?#") == NULL);
	FZ_CHECK(strchr(req->r_query, '#') == NULL);

	n = http_pct_decode(req->r_path, plen, buf, sizeof(buf), 0);
	FZ_CHECK(n == -1 || (size_t)n == strlen(buf));
	n = http_query_get(req, "path", buf, sizeof(buf));
	FZ_CHECK(n == -1 || (size_t)n == strlen(buf));
}

/* Check the head and add it to the transcript. */
static void
fzh_record_request(struct fzh_run *r, const struct http_request *req)
{
	int64_t		 v[8];
	size_t		 i;

	FZ_CHECK(req->r_method >= HTTP_M_OTHER &&
	    req->r_method <= HTTP_M_PATCH);
	FZ_CHECK(req->r_method_name != NULL);
	FZ_CHECK(req->r_http_major == 1);
	FZ_CHECK(req->r_nheaders <= r->r_lim.l_nheaders_max);
	FZ_CHECK(!req->r_chunked || req->r_content_length == -1);
	fzh_check_target(r, req);

	v[0] = req->r_method;
	v[1] = req->r_http_major;
	v[2] = req->r_http_minor;
	v[3] = req->r_chunked;
	v[4] = req->r_keep_alive;
	v[5] = req->r_expect_continue;
	v[6] = req->r_nheaders;
	v[7] = req->r_content_length;
	fzh_fold(r, v, sizeof(v));
	fzh_fold_str(r, req->r_method_name);
	fzh_fold_str(r, req->r_url);
	fzh_fold_str(r, req->r_path);
	fzh_fold_str(r, req->r_query);
	for (i = 0; i < req->r_nheaders; i++) {
		fzh_check_header(&req->r_headers[i]);
		fzh_fold_str(r, req->r_headers[i].h_name);
		fzh_fold_str(r, req->r_headers[i].h_value);
	}
}

static int
fzh_on_request(void *arg, const struct http_request *req)
{
	struct fzh_run	*r = arg;

	FZ_CHECK(!r->r_inreq);
	FZ_CHECK(r->r_nreq == r->r_ndone);
	r->r_inreq = 1;
	r->r_nreq++;
	r->r_ncall++;
	r->r_body = 0;
	r->r_bodyh = 0;
	r->r_clen = req->r_content_length;
	r->r_chunked = req->r_chunked;
	r->r_keepalive = req->r_keep_alive;
	r->r_bodymax = r->r_lim.l_body_max;
	fzh_record_request(r, req);

	/* Decisions that depend on the request only, so both runs agree. */
	if ((r->r_mode & FZH_BODYMAX) && strstr(req->r_path, "small")) {
		r->r_bodymax = 16;
		http_set_body_max(r->r_ctx, r->r_bodymax);
	}
	if (strncmp(req->r_path, "/fail", 5) == 0)
		return -1;
	if (strncmp(req->r_path, "/deny", 5) == 0)
		http_set_error(r->r_ctx, 403, "denied");
	if (r->r_split && (r->r_mode & FZH_PAUSE_REQ) && (r->r_ncall & 1))
		http_pause(r->r_ctx, 1);
	return 0;
}

static ssize_t
fzh_on_body(void *arg, const char *buf, size_t len)
{
	struct fzh_run	*r = arg;
	size_t		 take = len;

	FZ_CHECK(r->r_inreq);
	FZ_CHECK(len > 0);
	r->r_ncall++;
	if (r->r_split && (r->r_mode & FZH_TAKE)) {
		/* Every other call takes nothing, the rest a few bytes. */
		take = (r->r_ncall & 1) ? 0 : fz_split_next(r->r_sp, len);
	}
	r->r_bodyh = fz_hash(r->r_bodyh, buf, take);
	r->r_body += take;
	if (r->r_clen >= 0)
		FZ_CHECK(r->r_body <= (uint64_t)r->r_clen);
	FZ_CHECK(r->r_body <= r->r_bodymax);
	return take;
}

static int
fzh_on_complete(void *arg, const struct http_request *req)
{
	struct fzh_run	*r = arg;
	uint64_t	 v[2];

	FZ_CHECK(r->r_inreq);
	r->r_inreq = 0;
	r->r_ndone++;
	r->r_ncall++;
	if (r->r_clen > 0)
		FZ_CHECK(r->r_body == (uint64_t)r->r_clen);
	else if (!r->r_chunked)
		FZ_CHECK(r->r_body == 0);
	v[0] = r->r_body;
	v[1] = r->r_bodyh;
	fzh_fold(r, v, sizeof(v));
	if (strncmp(req->r_path, "/late", 5) == 0)
		return -1;
	if (r->r_split && (r->r_mode & FZH_PAUSE_DONE) && (r->r_ncall & 1))
		http_pause(r->r_ctx, 1);
	return 0;
}

static const struct http_callbacks fzh_cb = {
	.on_request = fzh_on_request,
	.on_body = fzh_on_body,
	.on_complete = fzh_on_complete
};

/*
 * After an error: the status to answer, recorded in the transcript.
 * A head that is both malformed and over a limit gets 400 or 414/431
 * depending on where http-parser's data callbacks fell (they run at the
 * end of each buffer), so those three compare as one.
 */
static void
fzh_error(struct fzh_run *r)
{
	int	 status = http_error(r->r_ctx);

	fz_trace("error %d %s", status, http_error_reason(r->r_ctx));
	FZ_CHECK(status >= 400 && status <= 599);
	FZ_CHECK(!http_done(r->r_ctx));
	FZ_CHECK(http_feed(r->r_ctx, "x", 1) == -1);
	if (status == 414 || status == 431)
		status = 400;
	fzh_fold(r, &status, sizeof(status));
}

/* A message ended: get ready for the next one, or stop. */
static int
fzh_next(struct fzh_run *r)
{
	FZ_CHECK(r->r_ndone == r->r_nreq && !r->r_inreq);
	FZ_CHECK(http_feed(r->r_ctx, "x", 1) == 0);
	if (http_reset(r->r_ctx) == -1) {
		FZ_CHECK(!r->r_keepalive);
		fzh_fold_str(r, "close");
		return -1;
	}
	FZ_CHECK(r->r_keepalive);
	return 0;
}

/* One run over the stream; sp NULL feeds all that is left each time. */
static void
fzh_drive(struct fzh_run *r, const uint8_t *p, size_t len,
    struct fz_split *sp)
{
	const char	*data = (const char *)p;
	size_t		 off = 0, avail = sp == NULL ? len : 0, steps = 0;
	ssize_t		 n;

	for (;;) {
		FZ_CHECK(++steps < 8 * len + 64);
		if (http_paused(r->r_ctx)) {
			FZ_CHECK(sp != NULL);
			http_pause(r->r_ctx, 0);
			if ((r->r_mode & FZH_ZERO_FEED) &&
			    http_feed(r->r_ctx, data + off, 0) == -1)
				break;
			continue;
		}
		if (sp != NULL && avail == off && avail < len)
			avail += fz_split_next(sp, len - avail);
		if ((n = http_feed(r->r_ctx, data + off, avail - off)) == -1)
			break;
		FZ_CHECK((size_t)n <= avail - off);
		off += n;
		if (http_done(r->r_ctx)) {
			if (fzh_next(r) == -1)
				return;
			continue;
		}
		if (http_paused(r->r_ctx))
			continue;
		/* Not paused, not done, no error: all was consumed. */
		FZ_CHECK(off == avail);
		if (avail == len) {
			fzh_fold_str(r, "eof");
			return;
		}
	}
	fzh_error(r);
}

static uint64_t
fzh_run(int mode, int split, const uint8_t *data, size_t len,
    struct fz_split *sp)
{
	struct fzh_run	 r;

	memset(&r, 0, sizeof(r));
	r.r_mode = mode;
	r.r_split = split;
	r.r_sp = sp;
	http_limits_default(&r.r_lim);
	if (mode & FZH_SMALL) {
		r.r_lim.l_url_max = 64;
		r.r_lim.l_headers_max = 256;
		r.r_lim.l_nheaders_max = 4;
		r.r_lim.l_body_max = 256;
	}
	if ((r.r_ctx = http_new(&r.r_lim, &fzh_cb, &r)) == NULL)
		abort();
	fzh_drive(&r, data, len, split ? sp : NULL);
	http_free(r.r_ctx);
	return r.r_h;
}

/* The response head writer, with the input as the header block. */
static void
fzh_format(const uint8_t *data, size_t len, int status)
{
	char		 hdrs[512], out[HTTP_HEAD_MAX];
	int		 n, i;

	if (len >= sizeof(hdrs))
		len = sizeof(hdrs) - 1;
	memcpy(hdrs, data, len);
	hdrs[len] = '\0';
	if ((n = http_format_head(out, sizeof(out), status, hdrs)) == -1)
		return;
	FZ_CHECK(n >= 4 && (size_t)n < sizeof(out));
	FZ_CHECK(strncmp(out, "HTTP/1.1 ", 9) == 0);
	FZ_CHECK(memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < n; i++) {
		if (out[i] == '\n')
			FZ_CHECK(i > 0 && out[i - 1] == '\r');
		if (out[i] == '\r')
			FZ_CHECK(out[i + 1] == '\n');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in	 in;
	struct fz_split	 sp;
	const uint8_t	*p;
	size_t		 len;
	uint64_t	 whole, split;
	int		 mode;

	fz_in_init(&in, data, size);
	mode = fz_u8(&in);
	fz_split_init(&sp, &in);
	len = fz_take(&in, fz_left(&in), &p);

	whole = fzh_run(mode, 0, p, len, &sp);
	split = fzh_run(mode, 1, p, len, &sp);
	if (whole != split)
		fz_fail(__FILE__, __LINE__, "whole and split runs differ");
	if (mode & FZH_FORMAT)
		fzh_format(p, len, 100 + sp.sp_ctl[0] * 2);
	return 0;
}
