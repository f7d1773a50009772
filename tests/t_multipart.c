/*
 * Unit tests for the multipart/form-data parser (mp_): boundaries from
 * Content-Type, the callback sequence and part data for sample forms fed
 * whole, at every split point, one byte at a time and with pauses; data
 * full of near-delimiters; malformed part headers and delimiters.
 */
#include <sys/types.h>

#include <atf-c.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

/* What the callbacks saw, and how they behave. */
struct mrec {
	struct mp	*mp;
	char		*log;		/* transcript */
	size_t		 loglen;
	char		*data;		/* data of the current part */
	size_t		 datalen;
	size_t		 datasize;
	size_t		 maxpiece;	/* largest on_part_data call */
	int		 pause;		/* pause in every callback */
	int		 fail_begin;
	int		 fail_data;
	int		 fail_end;
	int		 fail_finish;
	int		 nparts;
};

static uint32_t	 t_seed = 88172645U;

static uint32_t
t_rand(void)
{
	t_seed ^= t_seed << 13;
	t_seed ^= t_seed >> 17;
	t_seed ^= t_seed << 5;
	return t_seed;
}

static void
t_logf(struct mrec *r, const char *fmt, ...)
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
t_begin(void *arg, const char *name, const char *filename, const char *ct)
{
	struct mrec	*r = arg;

	r->nparts++;
	r->datalen = 0;
	t_logf(r, "BEGIN name=[%s] file=[%s] type=[%s]\n", name,
	    filename != NULL ? filename : "(null)", ct != NULL ? ct : "(null)");
	if (r->pause)
		mp_pause(r->mp, 1);
	return r->fail_begin ? -1 : 0;
}

static int
t_data(void *arg, const char *buf, size_t len)
{
	struct mrec	*r = arg;

	ATF_REQUIRE(len > 0);
	if (len > r->maxpiece)
		r->maxpiece = len;
	if (r->datalen + len + 1 > r->datasize) {
		r->datasize = 2 * (r->datalen + len + 1);
		ATF_REQUIRE((r->data = realloc(r->data, r->datasize)) != NULL);
	}
	memcpy(r->data + r->datalen, buf, len);
	r->datalen += len;
	r->data[r->datalen] = '\0';
	if (r->pause)
		mp_pause(r->mp, 1);
	return r->fail_data ? -1 : 0;
}

static int
t_end(void *arg)
{
	struct mrec	*r = arg;

	t_logf(r, "END %zu %08x\n", r->datalen, t_hash(r->data, r->datalen));
	if (r->pause)
		mp_pause(r->mp, 1);
	return r->fail_end ? -1 : 0;
}

static int
t_finish(void *arg)
{
	struct mrec	*r = arg;

	t_logf(r, "FINISH\n");
	if (r->pause)
		mp_pause(r->mp, 1);
	return r->fail_finish ? -1 : 0;
}

static const struct mp_callbacks t_cb = { t_begin, t_data, t_end, t_finish };

static void
t_init(struct mrec *r, const char *boundary)
{
	memset(r, 0, sizeof(*r));
	ATF_REQUIRE((r->mp = mp_new(boundary, &t_cb, r)) != NULL);
	ATF_REQUIRE((r->log = strdup("")) != NULL);
	ATF_REQUIRE((r->data = strdup("")) != NULL);
	r->datasize = 1;
}

static void
t_free(struct mrec *r)
{
	mp_free(r->mp);
	free(r->log);
	free(r->data);
}

/*
 * Feed in pieces of the given sizes (the last repeated, 0 for the rest),
 * resuming pauses at once, then end the body.  Returns 0 when the form
 * was complete, -1 otherwise; the transcript says why.
 */
static int
t_drive(struct mrec *r, const char *in, size_t len, const size_t *sizes,
    size_t nsizes)
{
	size_t	 off = 0, k = 0, piece, guard;
	ssize_t	 n;

	while (off < len) {
		piece = nsizes == 0 ? 0 : sizes[k < nsizes ? k : nsizes - 1];
		k++;
		if (piece == 0 || piece > len - off)
			piece = len - off;
		for (guard = 0; piece > 0 && guard < 4 * len + 16; guard++) {
			if ((n = mp_feed(r->mp, in + off, piece)) == -1) {
				t_logf(r, "ERR %s\n", mp_error(r->mp));
				return -1;
			}
			ATF_REQUIRE((size_t)n <= piece);
			off += n;
			piece -= n;
			if (piece > 0) {
				ATF_REQUIRE(mp_paused(r->mp));
				mp_pause(r->mp, 0);
			}
		}
		ATF_REQUIRE_EQ(piece, 0);
	}
	if (mp_end(r->mp) == -1) {
		t_logf(r, "ERR %s\n", mp_error(r->mp));
		return -1;
	}
	t_logf(r, "EOF\n");
	return 0;
}

/* Transcript of in fed as given; the caller frees it. */
static char *
t_transcript(const char *b, const char *in, size_t len, const size_t *sizes,
    size_t nsizes, int pause, int *rv)
{
	struct mrec	 r;
	char		*log;

	t_init(&r, b);
	r.pause = pause;
	*rv = t_drive(&r, in, len, sizes, nsizes);
	log = r.log;
	r.log = NULL;
	t_free(&r);
	return log;
}

/* Every split point, one byte at a time, with pauses: same transcript. */
static void
t_splits(const char *b, const char *in, size_t len, int want)
{
	char	*base, *got;
	size_t	 sz[2], one = 1, i;
	int	 rv, rv2;

	base = t_transcript(b, in, len, &len, 1, 0, &rv);
	ATF_CHECK_EQ_MSG(rv, want, "%s", base);
	for (i = 1; i < len; i++) {
		sz[0] = i;
		sz[1] = 0;
		got = t_transcript(b, in, len, sz, 2, 0, &rv2);
		ATF_CHECK_EQ_MSG(rv2, rv, "split %zu", i);
		ATF_CHECK_STREQ_MSG(got, base, "split %zu", i);
		free(got);
		got = t_transcript(b, in, len, sz, 2, 1, &rv2);
		ATF_CHECK_STREQ_MSG(got, base, "split %zu, pauses", i);
		free(got);
	}
	got = t_transcript(b, in, len, &one, 1, 0, &rv2);
	ATF_CHECK_STREQ_MSG(got, base, "byte at a time");
	free(got);
	got = t_transcript(b, in, len, &one, 1, 1, &rv2);
	ATF_CHECK_STREQ_MSG(got, base, "byte at a time, pauses");
	free(got);
	free(base);
}

#define T_SPLITS(b, s, want)	t_splits((b), (s), sizeof(s) - 1, (want))

/* Run in whole; returns as t_drive, transcript in r. */
static int
t_run(struct mrec *r, const char *b, const char *in, size_t len)
{
	t_init(r, b);
	return t_drive(r, in, len, NULL, 0);
}

#define T_RUN(r, b, s)	t_run((r), (b), (s), sizeof(s) - 1)

/* The error of a body, or "" when it parses. */
static const char *
t_error(const char *b, const char *in, size_t len)
{
	static char	 err[128];
	struct mrec	 r;

	t_init(&r, b);
	if (t_drive(&r, in, len, NULL, 0) == 0)
		err[0] = '\0';
	else
		strlcpy(err, mp_error(r.mp), sizeof(err));
	t_free(&r);
	return err;
}

#define T_ERROR(b, s)	t_error((b), (s), sizeof(s) - 1)

#define B	"----WebKitFormBoundary7MA4YWxkTrZu0gW"
#define FORM \
	"--" B "\r\n" \
	"Content-Disposition: form-data; name=\"path\"\r\n\r\n" \
	"/home/user/up.bin\r\n" \
	"--" B "\r\n" \
	"Content-Disposition: form-data; name=\"file\"; " \
	"filename=\"up.bin\"\r\nContent-Type: application/octet-stream\r\n" \
	"\r\n" \
	"\x00\x01\r\n--" "----WebKit\r\r\n-\r\n--\r\n" \
	"\r\n--" B "--\r\n"

ATF_TC_WITHOUT_HEAD(boundary_ct);
ATF_TC_BODY(boundary_ct, tc)
{
	char	 b[MP_BOUNDARY_MAX + 1], small[4];
	char	 ct[160];

	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "multipart/form-data; boundary=" B, b, sizeof(b)), 37);
	ATF_CHECK_STREQ(b, B);
	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "Multipart/Form-Data;charset=utf-8 ;  BOUNDARY=\"a b\"; x=y", b,
	    sizeof(b)), 3);
	ATF_CHECK_STREQ(b, "a b");
	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "multipart/form-data; boundary=\"'()+_,-./:=?\"", b, sizeof(b)),
	    12);
	ATF_CHECK_STREQ(b, "'()+_,-./:=?");
	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "multipart/form-data; boundary=\"q\\\"\"", b, sizeof(b)), -1);
	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "  multipart/form-data;boundary=x;", b, sizeof(b)), 1);

	/* 70 characters pass, 71 do not. */
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 0);
	ATF_CHECK_EQ(mp_boundary_from_content_type(ct, b, sizeof(b)), 70);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 0);
	errno = 0;
	ATF_CHECK_EQ(mp_boundary_from_content_type(ct, b, sizeof(b)), -1);
	ATF_CHECK_EQ(errno, EINVAL);

	errno = 0;
	ATF_CHECK_EQ(mp_boundary_from_content_type(
	    "multipart/form-data; boundary=abcd", small, sizeof(small)), -1);
	ATF_CHECK_EQ(errno, ERANGE);

#define BAD(s)	ATF_CHECK_EQ(mp_boundary_from_content_type((s), b, \
	    sizeof(b)), -1)
	BAD("multipart/mixed; boundary=x");
	BAD("multipart/form-datax; boundary=x");
	BAD("application/json");
	BAD("");
	BAD("multipart/form-data");
	BAD("multipart/form-data; charset=utf-8");
	BAD("multipart/form-data; boundary=");
	BAD("multipart/form-data; boundary=\"\"");
	BAD("multipart/form-data; boundary=\"ab \"");
	BAD("multipart/form-data; boundary=\"a@b\"");
	BAD("multipart/form-data; boundary=a:b");
	BAD("multipart/form-data; boundary=\"unterminated");
	BAD("multipart/form-data; boundary=a; boundary=a");
	BAD("multipart/form-data; boundary x");
	BAD("multipart/form-data boundary=x");
	BAD("multipart/form-data; =x");
#undef BAD
}

ATF_TC_WITHOUT_HEAD(new_bad);
ATF_TC_BODY(new_bad, tc)
{
	char	 b[80];

	errno = 0;
	ATF_CHECK(mp_new("", NULL, NULL) == NULL);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK(mp_new("a\r", NULL, NULL) == NULL);
	ATF_CHECK(mp_new("ab ", NULL, NULL) == NULL);
	memset(b, 'x', 71);
	b[71] = '\0';
	ATF_CHECK(mp_new(b, NULL, NULL) == NULL);
	b[70] = '\0';
	mp_free(mp_new(b, NULL, NULL));
	mp_free(NULL);
}

ATF_TC_WITHOUT_HEAD(simple_form);
ATF_TC_BODY(simple_form, tc)
{
	struct mrec	 r;

	ATF_CHECK_EQ(T_RUN(&r, B, FORM), 0);
	ATF_CHECK_STREQ(r.log,
	    "BEGIN name=[path] file=[(null)] type=[(null)]\n"
	    "END 17 a35ee66c\n"
	    "BEGIN name=[file] file=[up.bin] "
	    "type=[application/octet-stream]\n"
	    "END 26 fcefc2f0\n"
	    "FINISH\nEOF\n");
	ATF_CHECK_EQ(r.datalen, 26);
	ATF_CHECK(memcmp(r.data, "\x00\x01\r\n------WebKit\r\r\n-\r\n--\r\n",
	    26) == 0);
	t_free(&r);
}

ATF_TC_WITHOUT_HEAD(splits);
ATF_TC_BODY(splits, tc)
{
	T_SPLITS(B, FORM, 0);
	T_SPLITS("b", "preamble --b\r\n--c\r\n--b \t\r\n"
	    "content-disposition: form-data; name=a\r\n\r\n"
	    "\r\n-\r\n--\r\n--b\r\n"
	    "Content-Disposition: form-data; name=\"e\"\r\n\r\n"
	    "\r\n--b--\r\nepilogue\r\n--b\r\n", 0);
	T_SPLITS("xy", "--xy\r\nContent-Disposition: form-data; name=z\r\n"
	    "\r\n\r\r\r\n-\r\n--x\r\n--xy\r\n", -1);
	T_SPLITS("b", "--b\r\nContent-Disposition: form-data; name=z\r\n"
	    "\r\nabc\r\n--bad\r\n--b--", -1);
	T_SPLITS("b", "--b\r\nContent-Disposition: form-data\r\n\r\n", -1);
}

/* Data around near-delimiters arrives exactly. */
ATF_TC_WITHOUT_HEAD(near_delimiters);
ATF_TC_BODY(near_delimiters, tc)
{
	static const char *const data[] = {
		"", "\r", "\n", "\r\n", "\r\n-", "\r\n--", "\r\n--boun",
		"\r\n--boundar", "\r\r\n--boundar", "x\r\n--boundar\r\n--bo",
		"---boundary", "\n--boundary", "\r--boundary", "\r\n-boundary",
		"\r\n---boundary", "\r\n--Boundary", "boundary\r\n\r\n",
		"\r\n--boundar\r", "\r\r\r\r\n\n\n--", "-\r\n--b-\r\n--bo-"
	};
	struct mrec	 r;
	char		*in;
	size_t		 i, len, one = 1;
	int		 rv;

	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		len = asprintf(&in, "--boundary\r\nContent-Disposition: "
		    "form-data; name=f\r\n\r\n%s\r\n--boundary--", data[i]);
		ATF_REQUIRE(len != (size_t)-1);
		t_init(&r, "boundary");
		rv = t_drive(&r, in, len, &one, 1);
		ATF_CHECK_EQ_MSG(rv, 0, "case %zu: %s", i, r.log);
		ATF_CHECK_EQ_MSG(r.datalen, strlen(data[i]), "case %zu", i);
		ATF_CHECK_STREQ_MSG(r.data, data[i], "case %zu", i);
		t_free(&r);
		t_splits("boundary", in, len, 0);
		free(in);
	}
}

/* Random data built from delimiter fragments, random pieces. */
ATF_TC_WITHOUT_HEAD(random_data);
ATF_TC_BODY(random_data, tc)
{
	static const char *const frag[] = {
		"\r", "\n", "\r\n", "-", "--", "\r\n--", "\r\n-", "bo", "bou",
		"boundar", "boundary", "x", "\0", "\xff", "\r\n--boundar"
	};
	static const char	 delim[] = "\r\n--boundary";
	struct mrec		 r;
	char			*d[2], *in, *p, want[64];
	size_t			 dlen[2], len, sz[6], i, j, f;
	int			 iter, k, pause;

	for (iter = 0; iter < 300; iter++) {
		for (k = 0; k < 2; k++) {
			ATF_REQUIRE((d[k] = malloc(4096)) != NULL);
			dlen[k] = 0;
			for (j = t_rand() % 200; j > 0; j--) {
				f = t_rand() % (sizeof(frag) / sizeof(frag[0]));
				len = f == 12 ? 1 : strlen(frag[f]);
				memcpy(d[k] + dlen[k], frag[f], len);
				dlen[k] += len;
			}
			/* Break up any real delimiter the dice made. */
			while ((p = memmem(d[k], dlen[k], delim, 12)) != NULL)
				p[4] = 'B';
			if (dlen[k] >= 10 && memcmp(d[k], delim + 2, 10) == 0)
				d[k][2] = 'B';
		}
		ATF_REQUIRE((in = malloc(2 * 4096 + 512)) != NULL);
		len = snprintf(in, 512, "%s--boundary\r\nContent-Disposition: "
		    "form-data; name=a; filename=\"f\"\r\n\r\n",
		    iter & 1 ? "" : "pre\r\n--boundar\r\n");
		memcpy(in + len, d[0], dlen[0]);
		len += dlen[0];
		len += snprintf(in + len, 512, "\r\n--boundary\r\n"
		    "Content-Disposition: form-data; name=b\r\n\r\n");
		memcpy(in + len, d[1], dlen[1]);
		len += dlen[1];
		len += snprintf(in + len, 512, "\r\n--boundary--");

		for (i = 0; i < 6; i++)
			sz[i] = t_rand() % 64 + 1;
		pause = iter % 3 == 0;
		t_init(&r, "boundary");
		r.pause = pause;
		ATF_CHECK_EQ_MSG(t_drive(&r, in, len, sz, 6), 0, "%d: %s",
		    iter, r.log);
		ATF_CHECK_EQ(r.nparts, 2);
		snprintf(want, sizeof(want), "END %zu %08x\n", dlen[0],
		    t_hash(d[0], dlen[0]));
		ATF_CHECK_MSG(strstr(r.log, want) != NULL, "%d: %s", iter,
		    r.log);
		ATF_CHECK_EQ_MSG(r.datalen, dlen[1], "iteration %d", iter);
		ATF_CHECK_MSG(memcmp(r.data, d[1], dlen[1]) == 0,
		    "iteration %d", iter);
		t_free(&r);
		for (k = 0; k < 2; k++)
			free(d[k]);
		free(in);
	}
}

/* The first part's data of a random form, checked against the log. */
ATF_TC_WITHOUT_HEAD(random_first_part);
ATF_TC_BODY(random_first_part, tc)
{
	struct mrec	 r;
	char		 d[300], in[600], want[64];
	size_t		 n, len, sz, i;
	int		 iter;

	for (iter = 0; iter < 300; iter++) {
		n = t_rand() % sizeof(d);
		for (i = 0; i < n; i++)
			d[i] = "\r\n-bq"[t_rand() % 5];
		/* "\r\n--bq" must not occur: a 'q' never follows "--b". */
		for (i = 0; i + 3 < n; i++)
			if (memcmp(d + i, "--bq", 4) == 0)
				d[i + 3] = 'b';
		len = snprintf(in, sizeof(in), "--bq\r\nContent-Disposition: "
		    "form-data; name=a\r\n\r\n");
		memcpy(in + len, d, n);
		len += n;
		len += snprintf(in + len, sizeof(in) - len, "\r\n--bq--");
		sz = t_rand() % 16 + 1;
		t_init(&r, "bq");
		ATF_CHECK_EQ_MSG(t_drive(&r, in, len, &sz, 1), 0, "%s", r.log);
		snprintf(want, sizeof(want), "END %zu %08x\n", n,
		    t_hash(d, n));
		ATF_CHECK_MSG(strstr(r.log, want) != NULL, "%d: %s", iter,
		    r.log);
		t_free(&r);
	}
}

/* Big data passes through in the caller's pieces, never gathered. */
ATF_TC_WITHOUT_HEAD(streaming);
ATF_TC_BODY(streaming, tc)
{
	struct mrec	 r;
	char		*in;
	size_t		 head, len, i, n = 1024 * 1024, piece = 4096;

	ATF_REQUIRE((in = malloc(n + 256)) != NULL);
	head = snprintf(in, 256, "--b\r\nContent-Disposition: form-data; "
	    "name=file; filename=big\r\n\r\n");
	for (i = 0; i < n; i++)
		in[head + i] = "\r\n-b"[t_rand() % 4];
	len = head + n;
	len += snprintf(in + len, 256, "\r\n--b--\r\n");
	/* "\r\n--b" in the data would be a delimiter: break it up. */
	for (i = head - 2; i + 5 <= head + n; i++)
		if (memcmp(in + i, "\r\n--b", 5) == 0)
			in[i + 4] = '-';

	t_init(&r, "b");
	ATF_CHECK_EQ(t_drive(&r, in, len, &piece, 1), 0);
	ATF_CHECK_EQ(r.datalen, n);
	ATF_CHECK(memcmp(r.data, in + head, n) == 0);
	ATF_CHECK(r.maxpiece <= piece);
	t_free(&r);
	free(in);
}

ATF_TC_WITHOUT_HEAD(preamble_epilogue);
ATF_TC_BODY(preamble_epilogue, tc)
{
	struct mrec	 r;

	/* Delimiter-like text in the preamble; the real one on a line. */
	ATF_CHECK_EQ(T_RUN(&r, "b", "x--b\r\n-\r\n--\r\n--c\r\n--b\r\n"
	    "Content-Disposition: form-data; name=n\r\n\r\nv\r\n--b--"
	    "\r\n--b\r\nContent-Disposition: form-data; name=m\r\n\r\n"
	    "garbage\0\r\n"), 0);
	ATF_CHECK_STREQ(r.log, "BEGIN name=[n] file=[(null)] type=[(null)]\n"
	    "END 1 f30c40c9\nFINISH\nEOF\n");
	t_free(&r);

	/* A body starting with CRLF, and an empty form. */
	ATF_CHECK_EQ(T_RUN(&r, "b", "\r\n--b\r\nContent-Disposition: "
	    "form-data; name=n\r\n\r\n\r\n--b--"), 0);
	ATF_CHECK_EQ(r.nparts, 1);
	ATF_CHECK_EQ(r.datalen, 0);
	t_free(&r);
	ATF_CHECK_EQ(T_RUN(&r, "b", "--b--"), 0);
	ATF_CHECK_STREQ(r.log, "FINISH\nEOF\n");
	t_free(&r);
	/* Even there, the boundary may not start a longer line. */
	ATF_CHECK_EQ(T_RUN(&r, "b", "x\r\n--bb\r\n--b--"), -1);
	ATF_CHECK_STREQ(r.log, "ERR malformed delimiter line\n");
	t_free(&r);
	/* A part without content: the delimiter right after the headers. */
	ATF_CHECK_EQ(T_RUN(&r, "b", "--b\r\nContent-Disposition: "
	    "form-data; name=n\r\n\r\n--b\r\nContent-Disposition: "
	    "form-data; name=o\r\n\r\n---b\r\n--b--"), 0);
	ATF_CHECK(strstr(r.log, "name=[n] file=[(null)] type=[(null)]\n"
	    "END 0 811c9dc5\n") != NULL);
	ATF_CHECK_STREQ(r.data, "---b");
	t_free(&r);
	/* Transport padding after delimiters. */
	ATF_CHECK_EQ(T_RUN(&r, "b", "--b \t \r\nContent-Disposition: "
	    "form-data; name=n\r\n\r\nv\r\n--b\t\r\nContent-Disposition: "
	    "form-data; name=o\r\n\r\nw\r\n--b--  \r\n"), 0);
	ATF_CHECK_EQ(r.nparts, 2);
	t_free(&r);
}

ATF_TC_WITHOUT_HEAD(end_early);
ATF_TC_BODY(end_early, tc)
{
	static const char *const cut[] = {
		"", "--", "--b", "--b\r\n", "--b\r\nContent-Disposition: "
		"form-data; name=n\r\n", "--b\r\nContent-Disposition: "
		"form-data; name=n\r\n\r\ndata\r\n--b", "--b\r\n"
		"Content-Disposition: form-data; name=n\r\n\r\ndata\r\n--b-"
	};
	size_t	 i;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		ATF_CHECK_STREQ_MSG(t_error("b", cut[i], strlen(cut[i])),
		    "body ended without closing delimiter", "case %zu", i);
}

ATF_TC_WITHOUT_HEAD(part_headers);
ATF_TC_BODY(part_headers, tc)
{
	struct mrec	 r;

	ATF_CHECK_EQ(T_RUN(&r, "b", "--b\r\n"
	    "X-Other: ignored\r\n"
	    "content-disposition:form-data;NAME=\"a\\\"b\\\\c\"; "
	    "FileName=\"C:\\dir\\f \\\"x\\\".txt\"\r\n"
	    "Content-Type:  text/plain; charset=utf-8  \r\n\r\n"
	    "\r\n--b\r\n"
	    "Content-Disposition: form-data; name=up; filename=\"\"\r\n\r\n"
	    "\r\n--b\r\n"
	    "Content-Disposition: form-data; filename*=UTF-8''"
	    "%e2%82%ac%20rates.txt; name=e; filename=\"fallback\"\r\n\r\n"
	    "\r\n--b\r\n"
	    "Content-Disposition: form-data; name=t; filename=a.txt; "
	    "filename*=\"utf-8'en'%41\"; x=\"y\"\r\n\r\n"
	    "\r\n--b--"), 0);
	ATF_CHECK_STREQ(r.log,
	    "BEGIN name=[a\"b\\c] file=[C:\\dir\\f \"x\".txt] "
	    "type=[text/plain; charset=utf-8]\nEND 0 811c9dc5\n"
	    "BEGIN name=[up] file=[] type=[(null)]\nEND 0 811c9dc5\n"
	    "BEGIN name=[e] file=[\xe2\x82\xac rates.txt] type=[(null)]\n"
	    "END 0 811c9dc5\n"
	    "BEGIN name=[t] file=[A] type=[(null)]\nEND 0 811c9dc5\n"
	    "FINISH\nEOF\n");
	t_free(&r);
}

ATF_TC_WITHOUT_HEAD(malformed);
ATF_TC_BODY(malformed, tc)
{
	char	*s;

#define CD	"Content-Disposition: form-data; "
#define ERR(in, want) \
	ATF_CHECK_STREQ(T_ERROR("b", "--b\r\n" in "\r\n\r\nx\r\n--b--"), want)
	ERR("Content-Type: text/plain", "part without Content-Disposition");
	ERR("Content-Disposition: attachment; name=a", "part is not form-data");
	ERR("Content-Disposition: form-datax; name=a", "part is not form-data");
	ERR(CD "filename=a", "part without a name");
	ERR(CD "name=\"\"", "part without a name");
	ERR(CD "name=a; name=b", "repeated name");
	ERR(CD "name=a; filename=b; filename=c", "repeated filename");
	ERR(CD "name=a; filename*=UTF-8''a; filename*=UTF-8''b",
	    "bad filename*");
	ERR(CD "name=a; filename*=ISO-8859-1''a", "bad filename*");
	ERR(CD "name=a; filename*=UTF-8''%4", "bad filename*");
	ERR(CD "name=a; filename*=UTF-8''%00", "bad filename*");
	ERR(CD "name=a; filename*=UTF-8''a%0D%0Ab", "bad filename*");
	ERR(CD "name=a; filename*=UTF-8'a", "bad filename*");
	ERR(CD "name=\"a", "malformed Content-Disposition");
	ERR(CD "name=a b", "malformed Content-Disposition");
	ERR(CD "name", "malformed Content-Disposition");
	ERR(CD "name=a\r\n" CD "name=b", "repeated Content-Disposition");
	ERR(CD "name=a\r\nContent-Type: a\r\nContent-Type: b",
	    "repeated Content-Type");
	ERR(CD "name=a\r\n folded", "folded part header");
	ERR(CD "name=\"a\tb\"\r\nX: \x01", "control byte in part header");
	ERR(CD "name=a\r\nX: \x7f", "control byte in part header");
	ERR(CD "name=a\r\nno colon", "malformed part header");
	ERR(CD "name=a\r\n: v", "malformed part header");
	ERR(CD "name=a\r\nX Y: v", "malformed part header");
	ERR(CD "name=a\nX: v", "bare CR or LF in part headers");
	ERR(CD "name=a\rX: v", "bare CR or LF in part headers");
#undef ERR
	ATF_CHECK_STREQ(T_ERROR("b", "--b\r\n" CD "name=\"a\0b\"\r\n\r\n"
	    "x\r\n--b--"), "control byte in part header");
	ATF_CHECK_STREQ(T_ERROR("b", "--b\r\n\n"),
	    "bare CR or LF in part headers");
	ATF_CHECK_STREQ(T_ERROR("b", "--b\r\n\r\n\r\n--b--"),
	    "part without Content-Disposition");
	ATF_CHECK_STREQ(T_ERROR("b", "--bX\r\n"), "malformed delimiter line");
	ATF_CHECK_STREQ(T_ERROR("b", "--b-X"), "malformed close delimiter");
	ATF_CHECK_STREQ(T_ERROR("b", "--b\rX"), "malformed delimiter line");
	ATF_CHECK_STREQ(T_ERROR("b", "--b \r\r"), "malformed delimiter line");
	ATF_CHECK_STREQ(T_ERROR("b", "--b\r\n" CD "name=a\r\n\r\n"
	    "x\r\n--bb\r\n"), "malformed delimiter line");

	/* Part headers are capped. */
	s = NULL;
	ATF_REQUIRE(asprintf(&s, "--b\r\n" CD "name=a\r\nX: %08100d\r\n\r\n"
	    "\r\n--b--", 0) != -1);
	ATF_CHECK_STREQ(t_error("b", s, strlen(s)), "");
	free(s);
	ATF_REQUIRE(asprintf(&s, "--b\r\n" CD "name=a\r\nX: %08200d\r\n\r\n"
	    "\r\n--b--", 0) != -1);
	ATF_CHECK_STREQ(t_error("b", s, strlen(s)), "part headers too large");
	free(s);
	ATF_REQUIRE(asprintf(&s, "--b\r\n" CD "name=%01100d\r\n\r\n"
	    "\r\n--b--", 0) != -1);
	ATF_CHECK_STREQ(t_error("b", s, strlen(s)),
	    "malformed Content-Disposition");
	free(s);
	ATF_REQUIRE(asprintf(&s, "--b\r\n" CD "name=a\r\nContent-Type: "
	    "%01100d\r\n\r\n\r\n--b--", 0) != -1);
	ATF_CHECK_STREQ(t_error("b", s, strlen(s)),
	    "part Content-Type too long");
	free(s);
#undef CD
}

ATF_TC_WITHOUT_HEAD(callback_errors);
ATF_TC_BODY(callback_errors, tc)
{
	struct mrec	 r;

	t_init(&r, B);
	r.fail_begin = 1;
	ATF_CHECK_EQ(t_drive(&r, FORM, sizeof(FORM) - 1, NULL, 0), -1);
	ATF_CHECK_STREQ(mp_error(r.mp), "part refused");
	/* Errors stick. */
	ATF_CHECK_EQ(mp_feed(r.mp, "x", 1), -1);
	ATF_CHECK_EQ(mp_feed(r.mp, "", 0), -1);
	ATF_CHECK_EQ(mp_end(r.mp), -1);
	ATF_CHECK_STREQ(mp_error(r.mp), "part refused");
	t_free(&r);

	t_init(&r, B);
	r.fail_data = 1;
	ATF_CHECK_EQ(t_drive(&r, FORM, sizeof(FORM) - 1, NULL, 0), -1);
	ATF_CHECK_STREQ(mp_error(r.mp), "part data refused");
	t_free(&r);

	t_init(&r, B);
	r.fail_end = 1;
	ATF_CHECK_EQ(t_drive(&r, FORM, sizeof(FORM) - 1, NULL, 0), -1);
	ATF_CHECK_STREQ(mp_error(r.mp), "part end refused");
	t_free(&r);

	t_init(&r, B);
	r.fail_finish = 1;
	ATF_CHECK_EQ(t_drive(&r, FORM, sizeof(FORM) - 1, NULL, 0), -1);
	ATF_CHECK_STREQ(mp_error(r.mp), "finish refused");
	t_free(&r);
}

ATF_TC_WITHOUT_HEAD(pause);
ATF_TC_BODY(pause, tc)
{
	static const char in[] = "--b\r\nContent-Disposition: form-data; "
	    "name=n\r\n\r\nvalue\r\n--b--";
	struct mrec	 r;
	size_t		 head = sizeof(in) - 1 - 12;

	t_init(&r, "b");
	r.pause = 1;
	ATF_CHECK_EQ(mp_feed(r.mp, in, sizeof(in) - 1), head);
	ATF_CHECK(mp_paused(r.mp));
	ATF_CHECK_EQ(r.nparts, 1);
	ATF_CHECK_EQ(mp_feed(r.mp, in + head, 12), 0);
	mp_pause(r.mp, 0);
	ATF_CHECK_EQ(mp_feed(r.mp, in + head, 12), 5);
	ATF_CHECK_STREQ(r.data, "value");
	mp_pause(r.mp, 0);
	/* on_part_end and on_finish come with the close delimiter. */
	ATF_CHECK_EQ(mp_feed(r.mp, in + head + 5, 7), 7);
	ATF_CHECK(mp_paused(r.mp));
	ATF_CHECK_STREQ(r.log, "BEGIN name=[n] file=[(null)] type=[(null)]\n"
	    "END 5 425ed3ca\nFINISH\n");
	mp_pause(r.mp, 0);
	ATF_CHECK_EQ(mp_feed(r.mp, "epilogue", 8), 8);
	ATF_CHECK_EQ(mp_end(r.mp), 0);
	t_free(&r);
}

ATF_TC_WITHOUT_HEAD(no_callbacks);
ATF_TC_BODY(no_callbacks, tc)
{
	struct mp	*mp;

	ATF_REQUIRE((mp = mp_new(B, NULL, NULL)) != NULL);
	ATF_CHECK_EQ(mp_feed(mp, FORM, sizeof(FORM) - 1), sizeof(FORM) - 1);
	ATF_CHECK_EQ(mp_end(mp), 0);
	ATF_CHECK_STREQ(mp_error(mp), "");
	mp_free(mp);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, boundary_ct);
	ATF_TP_ADD_TC(tp, new_bad);
	ATF_TP_ADD_TC(tp, simple_form);
	ATF_TP_ADD_TC(tp, splits);
	ATF_TP_ADD_TC(tp, near_delimiters);
	ATF_TP_ADD_TC(tp, random_data);
	ATF_TP_ADD_TC(tp, random_first_part);
	ATF_TP_ADD_TC(tp, streaming);
	ATF_TP_ADD_TC(tp, preamble_epilogue);
	ATF_TP_ADD_TC(tp, end_early);
	ATF_TP_ADD_TC(tp, part_headers);
	ATF_TP_ADD_TC(tp, malformed);
	ATF_TP_ADD_TC(tp, callback_errors);
	ATF_TP_ADD_TC(tp, pause);
	ATF_TP_ADD_TC(tp, no_callbacks);
	return atf_no_error();
}
