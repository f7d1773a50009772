/*
 * Unit tests for the HTTP request parser (http_): the callback sequence
 * and the body for sample requests fed whole, at every split point, one
 * byte at a time, with pauses and partial takes; pipelining; keep-alive;
 * limits; malformed heads and bodies; and the small helpers.
 */
#include <sys/types.h>

#include <atf-c.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* What the callbacks saw, and how they behave. */
struct rec {
	struct http_ctx	*ctx;
	char		*log;		/* transcript */
	size_t		 loglen;
	char		*body;		/* body of the current request */
	size_t		 bodylen;
	size_t		 take;		/* on_body takes at most this, 0 all */
	int		 pause_req;	/* pause in on_request */
	int		 fail_req;	/* on_request fails with this status */
	int		 fail_body;
	int		 fail_done;
	uint64_t	 body_max;	/* set in on_request when non-zero */
	int		 nreq;
	int		 ndone;
};

static uint32_t	 t_seed = 2463534242U;

static uint32_t
t_rand(void)
{
	t_seed ^= t_seed << 13;
	t_seed ^= t_seed >> 17;
	t_seed ^= t_seed << 5;
	return t_seed;
}

static void
t_logf(struct rec *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ATF_REQUIRE(n != -1);
	ATF_REQUIRE((r->log = realloc(r->log, r->loglen + n + 1)) != NULL);
	memcpy(r->log + r->loglen, s, n + 1);
	r->loglen += n;
	free(s);
}

/* FNV-1a, to log binary bodies compactly. */
static uint32_t
t_hash(const char *p, size_t n)
{
	uint32_t	 h = 2166136261U;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 16777619U;
	}
	return h;
}

static int
t_on_request(void *arg, const struct http_request *req)
{
	struct rec	*r = arg;
	size_t		 i;

	r->nreq++;
	r->bodylen = 0;
	t_logf(r, "REQ %d %s %s path=%s q=%s %d.%d ka=%d cl=%lld ch=%d ec=%d\n",
	    req->r_method, req->r_method_name, req->r_url, req->r_path,
	    req->r_query, req->r_http_major, req->r_http_minor,
	    req->r_keep_alive, (long long)req->r_content_length,
	    req->r_chunked, req->r_expect_continue);
	for (i = 0; i < req->r_nheaders; i++)
		t_logf(r, " %s: %s\n", req->r_headers[i].h_name,
		    req->r_headers[i].h_value);
	if (r->body_max != 0)
		http_set_body_max(r->ctx, r->body_max);
	if (r->pause_req)
		http_pause(r->ctx, 1);
	if (r->fail_req > 0)
		http_set_error(r->ctx, r->fail_req, "refused");
	return r->fail_req != 0 ? -1 : 0;
}

static ssize_t
t_on_body(void *arg, const char *buf, size_t len)
{
	struct rec	*r = arg;

	ATF_REQUIRE(len > 0);
	if (r->fail_body)
		return -1;
	if (r->take != 0 && len > r->take)
		len = r->take;
	ATF_REQUIRE((r->body = realloc(r->body, r->bodylen + len + 1)) !=
	    NULL);
	memcpy(r->body + r->bodylen, buf, len);
	r->bodylen += len;
	r->body[r->bodylen] = '\0';
	return len;
}

static int
t_on_complete(void *arg, const struct http_request *req)
{
	struct rec	*r = arg;

	r->ndone++;
	t_logf(r, "END %s body %zu %08x\n", req->r_path, r->bodylen,
	    t_hash(r->body, r->bodylen));
	return r->fail_done ? -1 : 0;
}

static const struct http_callbacks t_cb = {
	t_on_request, t_on_body, t_on_complete
};

static void
t_rec_init(struct rec *r, const struct http_limits *lim)
{
	memset(r, 0, sizeof(*r));
	ATF_REQUIRE((r->ctx = http_new(lim, &t_cb, r)) != NULL);
	ATF_REQUIRE((r->log = strdup("")) != NULL);
	ATF_REQUIRE((r->body = strdup("")) != NULL);
}

static void
t_rec_free(struct rec *r)
{
	http_free(r->ctx);
	free(r->log);
	free(r->body);
}

/*
 * Deliver in as a client would: in pieces of the given sizes (the last
 * repeated, 0 for the rest), feeding what is pending after each arrival
 * as a front would, resuming pauses at once and starting the next request
 * after each complete one.  Returns the error status, or 0.
 */
static int
t_drive(struct rec *r, const char *in, size_t len, const size_t *sizes,
    size_t nsizes)
{
	char	*pend;
	size_t	 plen = 0, off = 0, k = 0, piece, guard;
	ssize_t	 n;
	int	 status = 0;

	ATF_REQUIRE((pend = malloc(len + 1)) != NULL);
	for (;;) {
		for (guard = 0; guard < 4 * len + 16; guard++) {
			n = http_feed(r->ctx, pend, plen);
			if (n == -1) {
				status = http_error(r->ctx);
				ATF_REQUIRE(status >= 400 && status <= 599);
				t_logf(r, "ERR %d\n", status);
				goto out;
			}
			ATF_REQUIRE((size_t)n <= plen);
			memmove(pend, pend + n, plen - n);
			plen -= n;
			if (http_done(r->ctx)) {
				if (http_reset(r->ctx) == -1) {
					t_logf(r, "CLOSE\n");
					goto out;
				}
				continue;
			}
			if (http_paused(r->ctx)) {
				http_pause(r->ctx, 0);
				continue;
			}
			break;
		}
		ATF_REQUIRE_EQ(plen, 0);
		if (off == len)
			break;
		piece = nsizes == 0 ? 0 : sizes[k < nsizes ? k : nsizes - 1];
		k++;
		if (piece == 0 || piece > len - off)
			piece = len - off;
		memcpy(pend + plen, in + off, piece);
		plen += piece;
		off += piece;
	}
 out:
	free(pend);
	return status;
}

/* Transcript of in fed as given; the caller frees it. */
static char *
t_transcript(const char *in, size_t len, const size_t *sizes, size_t nsizes,
    size_t take, int pause_req, int *status)
{
	struct rec	 r;
	char		*log;

	t_rec_init(&r, NULL);
	r.take = take;
	r.pause_req = pause_req;
	*status = t_drive(&r, in, len, sizes, nsizes);
	log = r.log;
	r.log = NULL;
	t_rec_free(&r);
	return log;
}

/*
 * Feed in at every split point, one byte at a time, and with partial
 * takes and pauses: the transcript must match the one-piece run.
 */
static void
t_splits(const char *in, size_t len, int want)
{
	char	*base, *got;
	size_t	 sz[2], one = 1, i;
	int	 status, st;

	base = t_transcript(in, len, &len, 1, 0, 0, &status);
	ATF_CHECK_EQ_MSG(status, want, "status %d want %d for %.40s", status,
	    want, in);
	for (i = 1; i < len; i++) {
		sz[0] = i;
		sz[1] = 0;
		got = t_transcript(in, len, sz, 2, 0, 0, &st);
		ATF_CHECK_EQ_MSG(st, status, "split %zu", i);
		ATF_CHECK_STREQ_MSG(got, base, "split %zu", i);
		free(got);
	}
	got = t_transcript(in, len, &one, 1, 0, 0, &st);
	ATF_CHECK_EQ(st, status);
	ATF_CHECK_STREQ_MSG(got, base, "byte at a time");
	free(got);
	got = t_transcript(in, len, &one, 1, 1, 1, &st);
	ATF_CHECK_EQ(st, status);
	ATF_CHECK_STREQ_MSG(got, base, "byte at a time, take 1, pause");
	free(got);
	got = t_transcript(in, len, &len, 1, 3, 1, &st);
	ATF_CHECK_EQ(st, status);
	ATF_CHECK_STREQ_MSG(got, base, "whole, take 3, pause");
	free(got);
	free(base);
}

#define T_SPLITS(s, want)	t_splits((s), sizeof(s) - 1, (want))

/* Run in whole with default limits; returns the status, log in r. */
static int
t_run(struct rec *r, const char *in, size_t len)
{
	t_rec_init(r, NULL);
	return t_drive(r, in, len, &len, 1);
}

#define T_RUN(r, s)	t_run((r), (s), sizeof(s) - 1)
#define T_DRIVE(r, s)	t_drive((r), (s), sizeof(s) - 1, NULL, 0)

static int
t_status(const char *in, size_t len)
{
	struct rec	 r;
	int		 st;

	st = t_run(&r, in, len);
	t_rec_free(&r);
	return st;
}

#define T_STATUS(s)	t_status((s), sizeof(s) - 1)

/* A request whose head and body are built from parts; caller frees. */
static char *
t_req(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	ATF_REQUIRE(vasprintf(&s, fmt, ap) != -1);
	va_end(ap);
	return s;
}

#define GET_HEALTH \
	"GET /health HTTP/1.1\r\nHost: localhost:8000\r\n" \
	"User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n"
#define POST_JSON \
	"POST /connections/ssh?x=1&y=%2F HTTP/1.1\r\nHost: a\r\n" \
	"Content-Type: application/json\r\nContent-Length: 22\r\n\r\n" \
	"{\"host\":\"h\",\"port\":22}"
#define POST_CHUNKED \
	"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" \
	"5;name=\"va;l\"\r\nhello\r\n00A \r\n0123456789\r\n" \
	"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n" \
	"0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"
#define POST_TRICKY \
	"POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" \
	"7\r\n\r\n0\r\n\r\n\r\n3;a=b;c\r\n\r\n\n\r\n0\r\n\r\n"

ATF_TC_WITHOUT_HEAD(simple_get);
ATF_TC_BODY(simple_get, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_RUN(&r, GET_HEALTH), 0);
	ATF_CHECK_STREQ(r.log,
	    "REQ 1 GET /health path=/health q= 1.1 ka=1 cl=-1 ch=0 ec=0\n"
	    " host: localhost:8000\n user-agent: curl/7.88\n accept: */*\n"
	    "END /health body 0 811c9dc5\n");
	ATF_CHECK_EQ(r.nreq, 1);
	ATF_CHECK_EQ(r.ndone, 1);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(post_json);
ATF_TC_BODY(post_json, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_RUN(&r, POST_JSON), 0);
	ATF_CHECK(strstr(r.log, "REQ 3 POST /connections/ssh?x=1&y=%2F "
	    "path=/connections/ssh q=x=1&y=%2F 1.1 ka=1 cl=22 ch=0") != NULL);
	ATF_CHECK_STREQ(r.body, "{\"host\":\"h\",\"port\":22}");
	ATF_CHECK_EQ(r.ndone, 1);
	t_rec_free(&r);

	/* One feed takes the whole message. */
	t_rec_init(&r, NULL);
	ATF_REQUIRE_EQ(http_feed(r.ctx, POST_JSON, sizeof(POST_JSON) - 1),
	    sizeof(POST_JSON) - 1);
	ATF_REQUIRE(http_done(r.ctx));
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(chunked);
ATF_TC_BODY(chunked, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_RUN(&r, POST_CHUNKED), 0);
	ATF_CHECK(strstr(r.log, "cl=-1 ch=1") != NULL);
	ATF_CHECK_STREQ(r.body,
	    "hello0123456789abcdefghijklmnopqrstuvwxyz");
	ATF_CHECK_EQ(r.ndone, 1);
	t_rec_free(&r);

	/* Chunk data that looks like framing. */
	ATF_CHECK_EQ(T_RUN(&r, POST_TRICKY), 0);
	ATF_CHECK_EQ(r.bodylen, 10);
	ATF_CHECK(memcmp(r.body, "\r\n0\r\n\r\n\r\n\n", 10) == 0);
	t_rec_free(&r);

	/* Upper case hex, leading zeros, empty body. */
	ATF_CHECK_EQ(T_STATUS("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n000001F\r\n"
	    "0123456789012345678901234567890\r\n0000\r\n\r\n"), 0);
	ATF_CHECK_EQ(T_RUN(&r, "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 0);
	ATF_CHECK_EQ(r.ndone, 1);
	ATF_CHECK_EQ(r.bodylen, 0);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(chunked_bad);
ATF_TC_BODY(chunked_bad, tc)
{
	char	*s;

#define CH_HEAD \
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5\r\nhelloXY0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5\r\nhelloX\n0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5\r\nhello\r0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5\nhello\r\n0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5\rXhello\r\n0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "g\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD ";x\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "-5\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "5;a\0b\r\nhello\r\n0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "0\r\nX: \0\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "0\r\nX: a\rb\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "0\r\n\rX"), 400);
	/* Too big: refused at the size line, before any data. */
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "FFFFFFFFFFFFFFFFF\r\n"), 413);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "100001\r\n"), 413);
	ATF_CHECK_EQ(T_STATUS(CH_HEAD "80000\r\n"), 0);

	/* A chunk line longer than the limit. */
	s = t_req(CH_HEAD "1;%01100d\r\nx\r\n0\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 400);
	free(s);
	s = t_req(CH_HEAD "1;%0900d\r\nx\r\n0\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 0);
	free(s);
	/* Trailers longer than the header limit. */
	s = t_req(CH_HEAD "0\r\nX: %017000d\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 431);
	free(s);
#undef CH_HEAD
}

ATF_TC_WITHOUT_HEAD(chunked_sum_limit);
ATF_TC_BODY(chunked_sum_limit, tc)
{
	struct http_limits	 lim;
	struct rec		 r;
	static const char	 req[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "4\r\nabcd\r\n4\r\nefgh\r\n1\r\ni\r\n0\r\n\r\n";

	http_limits_default(&lim);
	lim.l_body_max = 8;
	t_rec_init(&r, &lim);
	ATF_CHECK_EQ(T_DRIVE(&r, req), 413);
	/* The first two chunks were delivered, the third refused. */
	ATF_CHECK_STREQ(r.body, "abcdefgh");
	ATF_CHECK_EQ(r.ndone, 0);
	t_rec_free(&r);

	lim.l_body_max = 9;
	t_rec_init(&r, &lim);
	ATF_CHECK_EQ(T_DRIVE(&r, req), 0);
	ATF_CHECK_STREQ(r.body, "abcdefghi");
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(splits_valid);
ATF_TC_BODY(splits_valid, tc)
{
	T_SPLITS(GET_HEALTH, 0);
	T_SPLITS(POST_JSON, 0);
	T_SPLITS(POST_CHUNKED, 0);
	T_SPLITS(POST_TRICKY, 0);
	T_SPLITS("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	T_SPLITS("GET /a HTTP/1.1\nHost: a\nX:\n\n", 0);
	T_SPLITS("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"
	    "\r\n\r\n0\r\n\r\nGET", 0);
	T_SPLITS("PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	    "Content-Length: 3\r\n\r\nabc", 0);
}

ATF_TC_WITHOUT_HEAD(splits_pipeline);
ATF_TC_BODY(splits_pipeline, tc)
{
	struct rec	 r;
	static const char in[] = GET_HEALTH "\r\n" POST_JSON POST_CHUNKED
	    "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	    "GET /ignored HTTP/1.1\r\nHost: a\r\n\r\n";

	T_SPLITS(in, 0);
	ATF_CHECK_EQ(T_RUN(&r, in), 0);
	ATF_CHECK_EQ(r.nreq, 4);
	ATF_CHECK_EQ(r.ndone, 4);
	ATF_CHECK(strstr(r.log, "END /last body 0 811c9dc5\nCLOSE\n") !=
	    NULL);
	ATF_CHECK(strstr(r.log, "ignored") == NULL);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(splits_invalid);
ATF_TC_BODY(splits_invalid, tc)
{
	T_SPLITS("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);
	T_SPLITS("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400);
	T_SPLITS("FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
	T_SPLITS("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	T_SPLITS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\nhello", 400);
	T_SPLITS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
	T_SPLITS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
	    "\r\n", 501);
	T_SPLITS("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhelloXX", 400);
	T_SPLITS("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n"
	    "\r\n", 413);
	T_SPLITS("GET / HTTP/1.1\r\nX: a\r\n\r\n", 400);
	T_SPLITS("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417);
	T_SPLITS("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
	T_SPLITS("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
	T_SPLITS("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n"
	    "Host: a\r\n\r\nBREW / HTTP/1.1\r\n\r\n", 501);
}

ATF_TC_WITHOUT_HEAD(pipeline_stops);
ATF_TC_BODY(pipeline_stops, tc)
{
	struct rec	 r;
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t		 first = sizeof(in) / 2;

	t_rec_init(&r, NULL);
	ATF_REQUIRE_EQ(http_feed(r.ctx, in, sizeof(in) - 1), first);
	ATF_CHECK(http_done(r.ctx));
	ATF_CHECK_EQ(r.ndone, 1);
	/* Nothing more until the caller has answered and reset. */
	ATF_CHECK_EQ(http_feed(r.ctx, in + first, sizeof(in) - 1 - first), 0);
	ATF_CHECK_EQ(r.nreq, 1);
	ATF_REQUIRE_EQ(http_reset(r.ctx), 0);
	ATF_CHECK(!http_done(r.ctx));
	ATF_CHECK_EQ(http_feed(r.ctx, in + first, sizeof(in) - 1 - first),
	    sizeof(in) - 1 - first);
	ATF_CHECK_EQ(r.ndone, 2);
	ATF_CHECK(strstr(r.log, "END /2") != NULL);
	/* Reset mid-request is refused. */
	ATF_REQUIRE_EQ(http_reset(r.ctx), 0);
	ATF_CHECK_EQ(http_feed(r.ctx, in, 5), 5);
	ATF_CHECK_EQ(http_reset(r.ctx), -1);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(keep_alive);
ATF_TC_BODY(keep_alive, tc)
{
	struct rec	 r;
	static const char v10[] = "GET /a HTTP/1.0\r\nConnection: keep-alive"
	    "\r\n\r\nGET /b HTTP/1.0\r\n\r\nGET /c HTTP/1.0\r\n\r\n";
	static const char v11[] = "GET /a HTTP/1.1\r\nHost: a\r\nConnection: "
	    "foo, Close\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";

	ATF_CHECK_EQ(T_RUN(&r, v10), 0);
	ATF_CHECK(strstr(r.log, "/a path=/a q= 1.0 ka=1") != NULL);
	ATF_CHECK(strstr(r.log, "/b path=/b q= 1.0 ka=0") != NULL);
	ATF_CHECK(strstr(r.log, "END /b body 0 811c9dc5\nCLOSE\n") != NULL);
	ATF_CHECK(strstr(r.log, "/c") == NULL);
	t_rec_free(&r);

	ATF_CHECK_EQ(T_RUN(&r, v11), 0);
	ATF_CHECK(strstr(r.log, "1.1 ka=0") != NULL);
	ATF_CHECK(strstr(r.log, "CLOSE") != NULL);
	ATF_CHECK_EQ(r.nreq, 1);
	t_rec_free(&r);

	/* HTTP/1.1 keeps alive by default, also with a later minor. */
	ATF_CHECK_EQ(T_RUN(&r, "GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0);
	ATF_CHECK(strstr(r.log, "1.2 ka=1") != NULL);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(headers);
ATF_TC_BODY(headers, tc)
{
	struct rec	 r;
	static const char in[] = "GET /p?q HTTP/1.1\r\nHOST: a\r\n"
	    "X-Foo:   bar baz \t \r\nx-foo: second\r\nX-Empty:\r\n"
	    "X-Utf8: caf\xc3\xa9\r\n\r\n";

	t_rec_init(&r, NULL);
	r.pause_req = 1;
	ATF_REQUIRE_EQ(http_feed(r.ctx, in, sizeof(in) - 1), sizeof(in) - 1);
	ATF_REQUIRE(http_paused(r.ctx));
	ATF_CHECK(strstr(r.log, " host: a\n x-foo: bar baz\n x-foo: second\n"
	    " x-empty: \n x-utf8: caf\xc3\xa9\n") != NULL);
	t_rec_free(&r);
}

/* on_request that checks lookups on the live request. */
static int
t_on_request_lookup(void *arg, const struct http_request *req)
{
	int	*ok = arg;

	*ok = strcmp(http_header_get(req, "X-FOO"), "bar baz") == 0 &&
	    strcmp(http_header_get(req, "host"), "a") == 0 &&
	    strcmp(http_header_get(req, "x-empty"), "") == 0 &&
	    http_header_get(req, "x-none") == NULL &&
	    strcmp(req->r_path, "/p") == 0 && strcmp(req->r_query, "q") == 0;
	return 0;
}

ATF_TC_WITHOUT_HEAD(header_get);
ATF_TC_BODY(header_get, tc)
{
	static const struct http_callbacks cb = { t_on_request_lookup, NULL,
	    NULL };
	static const char in[] = "GET /p?q#frag HTTP/1.1\r\nHOST: a\r\n"
	    "X-Foo:   bar baz \t \r\nx-foo: second\r\nX-Empty:\r\n\r\n";
	struct http_ctx	*ctx;
	int		 ok = 0;

	ATF_REQUIRE((ctx = http_new(NULL, &cb, &ok)) != NULL);
	ATF_REQUIRE_EQ(http_feed(ctx, in, sizeof(in) - 1), sizeof(in) - 1);
	ATF_CHECK(http_done(ctx));
	ATF_CHECK_EQ(ok, 1);
	http_free(ctx);
}

ATF_TC_WITHOUT_HEAD(methods);
ATF_TC_BODY(methods, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_STATUS("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
	    501);
	ATF_CHECK_EQ(T_RUN(&r, "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ATF_CHECK(strstr(r.log, "REQ 0 PROPFIND /") != NULL);
	t_rec_free(&r);
	ATF_CHECK_EQ(T_RUN(&r, "DELETE /connections/ab HTTP/1.1\r\n"
	    "Host: a\r\n\r\nOPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n"
	    "PATCH / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n"
	    "\r\nPUT / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ATF_CHECK(strstr(r.log, "REQ 5 DELETE /connections/ab") != NULL);
	ATF_CHECK(strstr(r.log, "REQ 6 OPTIONS /x") != NULL);
	ATF_CHECK(strstr(r.log, "REQ 7 PATCH /") != NULL);
	ATF_CHECK(strstr(r.log, "REQ 2 HEAD /") != NULL);
	ATF_CHECK(strstr(r.log, "REQ 4 PUT /") != NULL);
	ATF_CHECK_EQ(r.ndone, 5);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(versions);
ATF_TC_BODY(versions, tc)
{
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/11.1\r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET /\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HXTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 505);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.0\r\n\r\n"), 0);
}

ATF_TC_WITHOUT_HEAD(content_length);
ATF_TC_BODY(content_length, tc)
{
	struct rec	 r;

#define P "POST / HTTP/1.1\r\nHost: a\r\n"
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: 5, 5\r\n\r\nhello"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: abc\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: -1\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: +1\r\n\r\nx"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length:\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: 1 2\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: 3\r\ncontent-length: 3\r\n"
	    "\r\nabc"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: "
	    "99999999999999999999999\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: 18446744073709551615\r\n"
	    "\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS(P "Content-Length: 1048577\r\n\r\n"), 413);
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n0\r\n\r\n"), 400);

	/* 413 comes right after the head: no body byte delivered. */
	ATF_CHECK_EQ(T_RUN(&r, P "Content-Length: 1048577\r\n\r\nabc"), 413);
	ATF_CHECK_EQ(r.nreq, 1);
	ATF_CHECK_EQ(r.bodylen, 0);
	t_rec_free(&r);

	/* Leading zeros and blanks are fine; no length is no body. */
	ATF_CHECK_EQ(T_RUN(&r, P "Content-Length: 003 \r\n\r\nabc"), 0);
	ATF_CHECK_STREQ(r.body, "abc");
	ATF_CHECK(strstr(r.log, "cl=3") != NULL);
	t_rec_free(&r);
	ATF_CHECK_EQ(T_RUN(&r, P "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    0);
	ATF_CHECK_EQ(r.ndone, 2);
	t_rec_free(&r);
#undef P
}

ATF_TC_WITHOUT_HEAD(body_max);
ATF_TC_BODY(body_max, tc)
{
	struct http_limits	 lim;
	struct rec		 r;
	static const char	 in[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 10\r\n\r\n0123456789";

	http_limits_default(&lim);
	lim.l_body_max = 9;
	t_rec_init(&r, &lim);
	ATF_CHECK_EQ(T_DRIVE(&r, in), 413);
	ATF_CHECK_STREQ(http_error_reason(r.ctx), "request body too large");
	t_rec_free(&r);

	/* on_request may raise the limit for this request. */
	t_rec_init(&r, &lim);
	r.body_max = 10;
	ATF_CHECK_EQ(T_DRIVE(&r, in), 0);
	ATF_CHECK_STREQ(r.body, "0123456789");
	t_rec_free(&r);

	/* ... or lower it. */
	t_rec_init(&r, NULL);
	r.body_max = 5;
	ATF_CHECK_EQ(T_DRIVE(&r, in), 413);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(transfer_encoding);
ATF_TC_BODY(transfer_encoding, tc)
{
#define P "POST / HTTP/1.1\r\nHost: a\r\n"
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: gzip\r\n\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: gzip, chunked\r\n\r\n"
	    "0\r\n\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: chunked, identity\r\n"
	    "\r\n"), 501);
	ATF_CHECK_EQ(T_STATUS(P "Transfer-Encoding: CHUNKED \r\n\r\n"
	    "0\r\n\r\n"), 0);
	ATF_CHECK_EQ(T_STATUS("POST / HTTP/1.0\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n1\r\nx\r\n0\r\n\r\n"), 0);
#undef P
}

ATF_TC_WITHOUT_HEAD(head_bytes);
ATF_TC_BODY(head_bytes, tc)
{
	struct rec	 r;

	/* Folding, NULs, control bytes, bare CR, blanks in names. */
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n"
	    "\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX:\0\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX\0: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET /\t HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\n\rX"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nX:\rY\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nX Y: a\r\nHost: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nX(: a\r\nHost: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400);

	/* Tabs and obs-text in values are fine. */
	ATF_CHECK_EQ(T_RUN(&r, "GET / HTTP/1.1\r\nHost: a\r\nX:\ta\tb\xff\r\n"
	    "\r\n"), 0);
	ATF_CHECK(strstr(r.log, " x: a\tb\xff\n") != NULL);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(host);
ATF_TC_BODY(host, tc)
{
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
}

ATF_TC_WITHOUT_HEAD(target);
ATF_TC_BODY(target, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_STATUS("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
	    400);
	ATF_CHECK_EQ(T_STATUS("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
	ATF_CHECK_EQ(T_STATUS("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ATF_CHECK_EQ(T_RUN(&r, "GET /a/b%20c?path=%2Fx%20y&z#f?g HTTP/1.1\r\n"
	    "Host: a\r\n\r\nGET /?#x HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	ATF_CHECK(strstr(r.log, "path=/a/b%20c q=path=%2Fx%20y&z 1.1") !=
	    NULL);
	ATF_CHECK(strstr(r.log, "path=/ q= 1.1") != NULL);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(expect);
ATF_TC_BODY(expect, tc)
{
	struct rec	 r;

	ATF_CHECK_EQ(T_RUN(&r, "POST / HTTP/1.1\r\nHost: a\r\nExpect: "
	    "100-Continue\r\nContent-Length: 1\r\n\r\nx"), 0);
	ATF_CHECK(strstr(r.log, "ec=1") != NULL);
	t_rec_free(&r);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\n\r\n"),
	    417);
	ATF_CHECK_EQ(T_RUN(&r, "POST / HTTP/1.0\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\nx"), 0);
	ATF_CHECK(strstr(r.log, "1.0 ka=0 cl=1 ch=0 ec=0") != NULL);
	t_rec_free(&r);
	ATF_CHECK_EQ(T_STATUS("GET / HTTP/1.0\r\nExpect: x\r\n\r\n"), 0);
}

ATF_TC_WITHOUT_HEAD(upgrade_ignored);
ATF_TC_BODY(upgrade_ignored, tc)
{
	struct rec	 r;
	static const char in[] = "GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	    "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

	ATF_CHECK_EQ(T_RUN(&r, in), 0);
	ATF_CHECK_EQ(r.ndone, 2);
	ATF_CHECK(strstr(r.log, "END /next") != NULL);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(url_limit);
ATF_TC_BODY(url_limit, tc)
{
	struct http_limits	 lim;
	struct rec		 r;
	char			*s;

	/* Exactly the limit passes, one more is refused. */
	s = t_req("GET /%08191d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 0);
	free(s);
	s = t_req("GET /%08192d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 414);
	free(s);
	s = t_req("GET /%0100000d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 414);
	free(s);
	/* Padding the request line with blanks counts too. */
	s = t_req("GET%08300s/ HTTP/1.1\r\nHost: a\r\n\r\n", "");
	ATF_CHECK_EQ(t_status(s, strlen(s)), 414);
	free(s);

	http_limits_default(&lim);
	lim.l_url_max = 10;
	t_rec_init(&r, &lim);
	ATF_CHECK_EQ(T_DRIVE(&r, "GET /123456789 HTTP/1.1\r\nHost: a\r\n"
	    "\r\n"), 0);
	t_rec_free(&r);
	t_rec_init(&r, &lim);
	ATF_CHECK_EQ(T_DRIVE(&r, "GET /1234567890 HTTP/1.1\r\nHost: a\r\n"
	    "\r\n"), 414);
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(header_limits);
ATF_TC_BODY(header_limits, tc)
{
	char	*s, *h;
	size_t	 i;

	/* 16384 bytes of header lines pass, one more does not. */
	s = t_req("GET / HTTP/1.1\r\nHost: a\r\nX: %016370d\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 0);
	free(s);
	s = t_req("GET / HTTP/1.1\r\nHost: a\r\nX: %016371d\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 431);
	free(s);
	s = t_req("GET / HTTP/1.1\r\nHost: a\r\nX: %0200000d\r\n\r\n", 0);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 431);
	free(s);

	/* 64 fields pass, 65 do not. */
	ATF_REQUIRE((h = calloc(65, 8)) != NULL);
	for (i = 0; i < 63; i++)
		strlcat(h, "X: y\r\n", 65 * 8);
	s = t_req("GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", h);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 0);
	free(s);
	strlcat(h, "X: y\r\n", 65 * 8);
	s = t_req("GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", h);
	ATF_CHECK_EQ(t_status(s, strlen(s)), 431);
	free(s);
	free(h);
}

ATF_TC_WITHOUT_HEAD(pause);
ATF_TC_BODY(pause, tc)
{
	struct rec	 r;
	static const char in[] = "POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 10\r\n\r\n0123456789";
	size_t		 head = sizeof(in) - 11;

	t_rec_init(&r, NULL);
	r.pause_req = 1;
	ATF_REQUIRE_EQ(http_feed(r.ctx, in, sizeof(in) - 1), head);
	ATF_CHECK(http_paused(r.ctx));
	ATF_CHECK_EQ(http_feed(r.ctx, in + head, 10), 0);
	ATF_CHECK_EQ(r.bodylen, 0);
	http_pause(r.ctx, 0);

	/* A partial take pauses; the rest is offered again. */
	r.take = 4;
	ATF_CHECK_EQ(http_feed(r.ctx, in + head, 10), 4);
	ATF_CHECK(http_paused(r.ctx));
	http_pause(r.ctx, 0);
	r.take = 0;
	ATF_CHECK_EQ(http_feed(r.ctx, in + head + 4, 6), 6);
	ATF_CHECK(http_done(r.ctx));
	ATF_CHECK_STREQ(r.body, "0123456789");
	t_rec_free(&r);

	/* Paused on the last bytes: completion waits for a feed. */
	t_rec_init(&r, NULL);
	r.take = 10;
	ATF_REQUIRE_EQ(http_feed(r.ctx, in, head), head);
	http_pause(r.ctx, 1);
	ATF_CHECK_EQ(http_feed(r.ctx, in + head, 10), 0);
	http_pause(r.ctx, 0);
	ATF_CHECK_EQ(http_feed(r.ctx, in + head, 10), 10);
	ATF_CHECK(http_done(r.ctx));
	t_rec_free(&r);

	/* Paused in on_request with no body: complete on the next feed. */
	t_rec_init(&r, NULL);
	r.pause_req = 1;
	ATF_REQUIRE_EQ(http_feed(r.ctx, GET_HEALTH, sizeof(GET_HEALTH) - 1),
	    sizeof(GET_HEALTH) - 1);
	ATF_CHECK(!http_done(r.ctx));
	http_pause(r.ctx, 0);
	ATF_CHECK_EQ(http_feed(r.ctx, NULL, 0), 0);
	ATF_CHECK(http_done(r.ctx));
	t_rec_free(&r);
}

/* A body callback that pauses on every call after taking everything. */
static ssize_t
t_on_body_pause(void *arg, const char *buf, size_t len)
{
	struct rec	*r = arg;

	(void)buf;
	r->bodylen += len;
	http_pause(r->ctx, 1);
	return len;
}

ATF_TC_WITHOUT_HEAD(pause_in_body);
ATF_TC_BODY(pause_in_body, tc)
{
	static const struct http_callbacks cb = { NULL, t_on_body_pause,
	    NULL };
	struct rec	 r;
	static const char in[] = POST_CHUNKED;
	size_t		 off = 0, guard;
	ssize_t		 n;

	memset(&r, 0, sizeof(r));
	ATF_REQUIRE((r.ctx = http_new(NULL, &cb, &r)) != NULL);
	for (guard = 0; guard < 100 && !http_done(r.ctx); guard++) {
		n = http_feed(r.ctx, in + off, sizeof(in) - 1 - off);
		ATF_REQUIRE(n >= 0);
		off += n;
		http_pause(r.ctx, 0);
	}
	ATF_CHECK(http_done(r.ctx));
	ATF_CHECK_EQ(off, sizeof(in) - 1);
	ATF_CHECK_EQ(r.bodylen, 41);
	http_free(r.ctx);
}

ATF_TC_WITHOUT_HEAD(callback_errors);
ATF_TC_BODY(callback_errors, tc)
{
	struct rec	 r;

	t_rec_init(&r, NULL);
	r.fail_req = -1;
	ATF_CHECK_EQ(T_DRIVE(&r, POST_JSON), 500);
	ATF_CHECK_EQ(r.bodylen, 0);
	/* Errors stick. */
	ATF_CHECK_EQ(http_feed(r.ctx, GET_HEALTH, 10), -1);
	ATF_CHECK_EQ(http_reset(r.ctx), -1);
	t_rec_free(&r);

	t_rec_init(&r, NULL);
	r.fail_req = 403;
	ATF_CHECK_EQ(T_DRIVE(&r, POST_JSON), 403);
	ATF_CHECK_STREQ(http_error_reason(r.ctx), "refused");
	t_rec_free(&r);

	t_rec_init(&r, NULL);
	r.fail_body = 1;
	ATF_CHECK_EQ(T_DRIVE(&r, POST_JSON), 500);
	t_rec_free(&r);

	t_rec_init(&r, NULL);
	r.fail_done = 1;
	ATF_CHECK_EQ(T_DRIVE(&r, POST_JSON), 500);
	ATF_CHECK(!http_done(r.ctx));
	t_rec_free(&r);
}

ATF_TC_WITHOUT_HEAD(limits_bad);
ATF_TC_BODY(limits_bad, tc)
{
	struct http_limits	 lim;

	http_limits_default(&lim);
	lim.l_url_max = 0;
	errno = 0;
	ATF_CHECK(http_new(&lim, NULL, NULL) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	http_limits_default(&lim);
	lim.l_headers_max = SIZE_MAX;
	ATF_CHECK(http_new(&lim, NULL, NULL) == NULL);
	http_free(NULL);
}

ATF_TC_WITHOUT_HEAD(no_callbacks);
ATF_TC_BODY(no_callbacks, tc)
{
	struct http_ctx	*ctx;

	ATF_REQUIRE((ctx = http_new(NULL, NULL, NULL)) != NULL);
	ATF_CHECK_EQ(http_feed(ctx, POST_CHUNKED, sizeof(POST_CHUNKED) - 1),
	    sizeof(POST_CHUNKED) - 1);
	ATF_CHECK(http_done(ctx));
	http_free(ctx);
}

/* The query of a request line, through a parsed request. */
static int
t_on_request_query(void *arg, const struct http_request *req)
{
	const struct http_request	**rp = arg;

	*rp = req;
	return 0;
}

ATF_TC_WITHOUT_HEAD(query_get);
ATF_TC_BODY(query_get, tc)
{
	static const struct http_callbacks cb = { t_on_request_query, NULL,
	    NULL };
	static const char in[] = "GET /f?path=%2Fhome%2Fa+b%20c&empty=&flag"
	    "&pa%74h=second&bad=%zz&short=%4&nul=%00&big=0123456789"
	    "&u=%C3%A9&pct=%25 HTTP/1.1\r\nHost: a\r\n\r\n";
	const struct http_request *req = NULL;
	struct http_ctx	*ctx;
	char		 v[8], big[256];

	ATF_REQUIRE((ctx = http_new(NULL, &cb, &req)) != NULL);
	ATF_REQUIRE_EQ(http_feed(ctx, in, sizeof(in) - 1), sizeof(in) - 1);
	ATF_REQUIRE(req != NULL);

	ATF_CHECK_EQ(http_query_get(req, "path", big, sizeof(big)), 11);
	ATF_CHECK_STREQ(big, "/home/a b c");
	ATF_CHECK_EQ(http_query_get(req, "empty", v, sizeof(v)), 0);
	ATF_CHECK_STREQ(v, "");
	ATF_CHECK_EQ(http_query_get(req, "flag", v, sizeof(v)), 0);
	ATF_CHECK_EQ(http_query_get(req, "u", v, sizeof(v)), 2);
	ATF_CHECK_STREQ(v, "\xc3\xa9");
	ATF_CHECK_EQ(http_query_get(req, "pct", v, sizeof(v)), 1);
	ATF_CHECK_STREQ(v, "%");
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "bad", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "short", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "nul", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "big", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, ERANGE);
	ATF_CHECK_EQ(http_query_get(req, "big", big, 11), 10);
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "none", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	errno = 0;
	ATF_CHECK_EQ(http_query_get(req, "pat", v, sizeof(v)), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	http_free(ctx);
}

ATF_TC_WITHOUT_HEAD(pct_decode);
ATF_TC_BODY(pct_decode, tc)
{
	char	 o[16];

	ATF_CHECK_EQ(http_pct_decode("a%2fb+c", 7, o, sizeof(o), 0), 5);
	ATF_CHECK_STREQ(o, "a/b+c");
	ATF_CHECK_EQ(http_pct_decode("a%2Fb+c", 7, o, sizeof(o), 1), 5);
	ATF_CHECK_STREQ(o, "a/b c");
	ATF_CHECK_EQ(http_pct_decode("abc", 2, o, sizeof(o), 0), 2);
	ATF_CHECK_STREQ(o, "ab");
	ATF_CHECK_EQ(http_pct_decode("abc", 3, o, 4, 0), 3);
	ATF_CHECK_EQ(http_pct_decode("abc", 3, o, 3, 0), -1);
	ATF_CHECK_EQ(http_pct_decode("", 0, o, 0, 0), -1);
	ATF_CHECK_EQ(http_pct_decode("%", 1, o, sizeof(o), 0), -1);
	ATF_CHECK_EQ(http_pct_decode("%g0", 3, o, sizeof(o), 0), -1);
	ATF_CHECK_EQ(http_pct_decode("%0g", 3, o, sizeof(o), 0), -1);
	ATF_CHECK_EQ(http_pct_decode("a\0b", 3, o, sizeof(o), 0), -1);
	/* The escape must be complete within len. */
	ATF_CHECK_EQ(http_pct_decode("%41", 2, o, sizeof(o), 0), -1);
}

ATF_TC_WITHOUT_HEAD(format_head);
ATF_TC_BODY(format_head, tc)
{
	char	 b[128];

	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, NULL), 19);
	ATF_CHECK_STREQ(b, "HTTP/1.1 200 OK\r\n\r\n");
	ATF_CHECK(http_format_head(b, sizeof(b), 413, "Content-Length: 0\r\n"
	    "Connection: close\r\n") > 0);
	ATF_CHECK_STREQ(b, "HTTP/1.1 413 Payload Too Large\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	ATF_CHECK(http_format_head(b, sizeof(b), 599, "") > 0);
	ATF_CHECK_STREQ(b, "HTTP/1.1 599 Unknown\r\n\r\n");
	errno = 0;
	ATF_CHECK_EQ(http_format_head(b, 19, 200, NULL), -1);
	ATF_CHECK_EQ(errno, ENOSPC);
	ATF_CHECK_EQ(http_format_head(b, 20, 200, NULL), 19);
	errno = 0;
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 99, NULL), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 600, NULL), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: a"), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: a\n"), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: a\r\n\r\n"), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: a\rb\r\n"), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: a\r\n b\r\n"),
	    -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "X: \x01\r\n"), -1);
	ATF_CHECK_EQ(http_format_head(b, sizeof(b), 200, "\r\n"), -1);
}

ATF_TC_WITHOUT_HEAD(status_text);
ATF_TC_BODY(status_text, tc)
{
	ATF_CHECK_STREQ(http_status_text(200), "OK");
	ATF_CHECK_STREQ(http_status_text(201), "Created");
	ATF_CHECK_STREQ(http_status_text(404), "Not Found");
	ATF_CHECK_STREQ(http_status_text(431),
	    "Request Header Fields Too Large");
	ATF_CHECK_STREQ(http_status_text(504), "Gateway Timeout");
	ATF_CHECK_STREQ(http_status_text(0), "Unknown");
	ATF_CHECK_STREQ(http_status_text(-1), "Unknown");
}

/* Random edits of valid requests: same result whatever the pieces. */
ATF_TC_WITHOUT_HEAD(mutations);
ATF_TC_BODY(mutations, tc)
{
	static const char *const samples[] = {
		GET_HEALTH "\r\n" POST_JSON, POST_CHUNKED GET_HEALTH,
		POST_TRICKY, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		"POST /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		"Content-Length: 4\r\n\r\nabcd"
	};
	static const char	 bytes[] = "\r\n\0 \t:;0aF-%\x80\xff";
	char			 in[1024], *base, *got;
	size_t			 len, i, j, sz[8], one = 1;
	int			 iter, st, st2;

	for (iter = 0; iter < 1500; iter++) {
		len = strlcpy(in, samples[iter % 4], sizeof(in));
		for (j = t_rand() % 4 + 1; j > 0; j--) {
			i = t_rand() % len;
			switch (t_rand() % 4) {
			case 0:
				in[i] = bytes[t_rand() % (sizeof(bytes) - 1)];
				break;
			case 1:
				in[i] ^= 1 << (t_rand() % 8);
				break;
			case 2:
				memmove(in + i, in + i + 1, len - i - 1);
				len--;
				break;
			default:
				if (len + 1 >= sizeof(in))
					break;
				memmove(in + i + 1, in + i, len - i);
				in[i] = bytes[t_rand() % (sizeof(bytes) - 1)];
				len++;
				break;
			}
		}
		for (i = 0; i < 8; i++)
			sz[i] = t_rand() % 40 + 1;
		base = t_transcript(in, len, &len, 1, 0, 0, &st);
		got = t_transcript(in, len, sz, 8, t_rand() % 5, iter & 1,
		    &st2);
		ATF_CHECK_EQ_MSG(st, st2, "iteration %d", iter);
		ATF_CHECK_STREQ_MSG(base, got, "iteration %d", iter);
		free(got);
		got = t_transcript(in, len, &one, 1, 0, 0, &st2);
		ATF_CHECK_EQ_MSG(st, st2, "iteration %d", iter);
		ATF_CHECK_STREQ_MSG(base, got, "iteration %d", iter);
		free(got);
		free(base);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, simple_get);
	ATF_TP_ADD_TC(tp, post_json);
	ATF_TP_ADD_TC(tp, chunked);
	ATF_TP_ADD_TC(tp, chunked_bad);
	ATF_TP_ADD_TC(tp, chunked_sum_limit);
	ATF_TP_ADD_TC(tp, splits_valid);
	ATF_TP_ADD_TC(tp, splits_pipeline);
	ATF_TP_ADD_TC(tp, splits_invalid);
	ATF_TP_ADD_TC(tp, pipeline_stops);
	ATF_TP_ADD_TC(tp, keep_alive);
	ATF_TP_ADD_TC(tp, headers);
	ATF_TP_ADD_TC(tp, header_get);
	ATF_TP_ADD_TC(tp, methods);
	ATF_TP_ADD_TC(tp, versions);
	ATF_TP_ADD_TC(tp, content_length);
	ATF_TP_ADD_TC(tp, body_max);
	ATF_TP_ADD_TC(tp, transfer_encoding);
	ATF_TP_ADD_TC(tp, head_bytes);
	ATF_TP_ADD_TC(tp, host);
	ATF_TP_ADD_TC(tp, target);
	ATF_TP_ADD_TC(tp, expect);
	ATF_TP_ADD_TC(tp, upgrade_ignored);
	ATF_TP_ADD_TC(tp, url_limit);
	ATF_TP_ADD_TC(tp, header_limits);
	ATF_TP_ADD_TC(tp, pause);
	ATF_TP_ADD_TC(tp, pause_in_body);
	ATF_TP_ADD_TC(tp, callback_errors);
	ATF_TP_ADD_TC(tp, limits_bad);
	ATF_TP_ADD_TC(tp, no_callbacks);
	ATF_TP_ADD_TC(tp, query_get);
	ATF_TP_ADD_TC(tp, pct_decode);
	ATF_TP_ADD_TC(tp, format_head);
	ATF_TP_ADD_TC(tp, status_text);
	ATF_TP_ADD_TC(tp, mutations);
	return atf_no_error();
}
