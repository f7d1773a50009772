/*
 * Fuzz target for the streaming multipart/form-data parser
 * (daemon/multipart.c).
 *
 * Input: a mode byte, FZ_NSPLIT chunk size bytes, then either a
 * Content-Type value up to a newline (mode FZM_CTYPE) or a length byte
 * and bytes turned into a valid boundary, then the body.  The body is
 * parsed twice, fed whole and fed in input-derived chunks with pauses in
 * the callbacks; both runs must see the same parts, part data and
 * outcome, and the callbacks must come in a valid order.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "fz.h"

#define FZM_CTYPE	0x01	/* boundary from a Content-Type value */
#define FZM_PAUSE_BEGIN	0x02	/* split run: pause in on_part_begin */
#define FZM_PAUSE_DATA	0x04	/* split run: pause in on_part_data */
#define FZM_PAUSE_END	0x08	/* split run: pause in on_part_end */
#define FZM_ZERO_FEED	0x10	/* split run: feed 0 bytes after a resume */

#define FZM_CTYPE_MAX	512

static const char fzm_bchars[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=? ";

struct fzm_run {
	struct mp	*r_mp;
	int		 r_mode;
	int		 r_split;
	uint64_t	 r_h;		/* transcript */
	uint64_t	 r_datah;	/* data of the current part */
	uint64_t	 r_data;
	int		 r_inpart;
	int		 r_finished;
	int		 r_refuse_end;
	size_t		 r_ncall;
};

static void
fzm_fold(struct fzm_run *r, const void *p, size_t len)
{
	r->r_h = fz_hash(r->r_h, &len, sizeof(len));
	r->r_h = fz_hash(r->r_h, p, len);
}

static void
fzm_fold_str(struct fzm_run *r, const char *s)
{
	fz_trace("%s: \"%s\"", r->r_split ? "split" : "whole",
	    s != NULL ? s : "(null)");
	if (s == NULL)
		fzm_fold(r, "", 0);
	else
		fzm_fold(r, s, strlen(s) + 1);
}

/* A name, filename or content type the parser hands out. */
static void
fzm_check_field(const char *s)
{
	if (s == NULL)
		return;
	FZ_CHECK(strlen(s) < MP_FIELD_MAX);
	FZ_CHECK(strpbrk(s, "\r\n") == NULL);
}

static void
fzm_pause(struct fzm_run *r, int flag)
{
	if (r->r_split && (r->r_mode & flag) && (r->r_ncall & 1))
		mp_pause(r->r_mp, 1);
}

static int
fzm_on_begin(void *arg, const char *name, const char *filename,
    const char *ctype)
{
	struct fzm_run	*r = arg;

	FZ_CHECK(!r->r_inpart && !r->r_finished);
	r->r_ncall++;
	FZ_CHECK(name != NULL && name[0] != '\0');
	fzm_check_field(name);
	fzm_check_field(filename);
	fzm_check_field(ctype);
	fzm_fold_str(r, "begin");
	fzm_fold_str(r, name);
	fzm_fold_str(r, filename);
	fzm_fold_str(r, ctype);
	if (strcmp(name, "refuse") == 0)
		return -1;
	r->r_inpart = 1;
	r->r_refuse_end = strcmp(name, "refuse-end") == 0;
	r->r_data = r->r_datah = 0;
	fzm_pause(r, FZM_PAUSE_BEGIN);
	return 0;
}

static int
fzm_on_data(void *arg, const char *buf, size_t len)
{
	struct fzm_run	*r = arg;

	FZ_CHECK(r->r_inpart);
	FZ_CHECK(len > 0);
	r->r_ncall++;
	r->r_datah = fz_hash(r->r_datah, buf, len);
	r->r_data += len;
	fzm_pause(r, FZM_PAUSE_DATA);
	return 0;
}

static int
fzm_on_end(void *arg)
{
	struct fzm_run	*r = arg;
	uint64_t	 v[2];

	FZ_CHECK(r->r_inpart);
	r->r_ncall++;
	r->r_inpart = 0;
	v[0] = r->r_data;
	v[1] = r->r_datah;
	fzm_fold(r, v, sizeof(v));
	if (r->r_refuse_end)
		return -1;
	fzm_pause(r, FZM_PAUSE_END);
	return 0;
}

static int
fzm_on_finish(void *arg)
{
	struct fzm_run	*r = arg;

	FZ_CHECK(!r->r_inpart && !r->r_finished);
	r->r_ncall++;
	r->r_finished = 1;
	fzm_fold_str(r, "finish");
	return 0;
}

static const struct mp_callbacks fzm_cb = {
	.on_part_begin = fzm_on_begin,
	.on_part_data = fzm_on_data,
	.on_part_end = fzm_on_end,
	.on_finish = fzm_on_finish
};

/* Feed the body; sp NULL feeds all that is left each time. */
static void
fzm_drive(struct fzm_run *r, const uint8_t *p, size_t len,
    struct fz_split *sp)
{
	const char	*data = (const char *)p;
	size_t		 off = 0, avail = sp == NULL ? len : 0, steps = 0;
	ssize_t		 n;

	for (;;) {
		FZ_CHECK(++steps < 8 * len + 64);
		if (mp_paused(r->r_mp)) {
			FZ_CHECK(sp != NULL);
			mp_pause(r->r_mp, 0);
			if ((r->r_mode & FZM_ZERO_FEED) &&
			    mp_feed(r->r_mp, data + off, 0) != 0)
				fz_fail(__FILE__, __LINE__, "empty feed");
			continue;
		}
		if (sp != NULL && avail == off && avail < len)
			avail += fz_split_next(sp, len - avail);
		if ((n = mp_feed(r->r_mp, data + off, avail - off)) == -1) {
			FZ_CHECK(mp_error(r->r_mp)[0] != '\0');
			FZ_CHECK(mp_feed(r->r_mp, "x", 1) == -1);
			fzm_fold_str(r, mp_error(r->r_mp));
			return;
		}
		FZ_CHECK((size_t)n <= avail - off);
		off += n;
		if (mp_paused(r->r_mp))
			continue;
		FZ_CHECK(off == avail);
		if (avail == len)
			break;
	}
	if (mp_end(r->r_mp) == 0) {
		FZ_CHECK(r->r_finished && !r->r_inpart);
		fzm_fold_str(r, "complete");
	} else {
		FZ_CHECK(!r->r_finished);
		fzm_fold_str(r, mp_error(r->r_mp));
	}
}

static uint64_t
fzm_run(const char *boundary, int mode, int split, const uint8_t *body,
    size_t len, struct fz_split *sp)
{
	struct fzm_run	 r;

	memset(&r, 0, sizeof(r));
	r.r_mode = mode;
	r.r_split = split;
	if ((r.r_mp = mp_new(boundary, &fzm_cb, &r)) == NULL)
		abort();
	fzm_drive(&r, body, len, split ? sp : NULL);
	mp_free(r.r_mp);
	return r.r_h;
}

/* A boundary from a Content-Type value; -1 when it has none. */
static int
fzm_from_ctype(struct fz_in *in, char *out, size_t outlen)
{
	char		 ctype[FZM_CTYPE_MAX], small[8];
	const uint8_t	*p;
	size_t		 i, n;
	ssize_t		 blen;

	n = fz_take(in, sizeof(ctype) - 1, &p);
	for (i = 0; i < n && p[i] != '\n' && p[i] != '\0'; i++)
		ctype[i] = p[i];
	ctype[i] = '\0';
	in->in_off -= n - (i < n ? i + 1 : i);

	if ((blen = mp_boundary_from_content_type(ctype, out, outlen)) == -1) {
		FZ_CHECK(errno == EINVAL);
		return -1;
	}
	FZ_CHECK(blen >= 1 && blen <= MP_BOUNDARY_MAX);
	FZ_CHECK(strlen(out) == (size_t)blen);
	FZ_CHECK(strspn(out, fzm_bchars) == (size_t)blen);
	FZ_CHECK(out[blen - 1] != ' ');
	if ((size_t)blen >= sizeof(small)) {
		FZ_CHECK(mp_boundary_from_content_type(ctype, small,
		    sizeof(small)) == -1 && errno == ERANGE);
	}
	return 0;
}

/* A valid boundary made of the next input bytes. */
static void
fzm_from_bytes(struct fz_in *in, char *out)
{
	const uint8_t	*p;
	size_t		 i, n;

	n = fz_u8(in) % MP_BOUNDARY_MAX + 1;
	n = fz_take(in, n, &p);
	for (i = 0; i < n; i++)
		out[i] = fzm_bchars[p[i] % (sizeof(fzm_bchars) - 1)];
	if (n == 0)
		n = 1;
	if (i < n || out[n - 1] == ' ')
		out[n - 1] = '-';
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in	 in;
	struct fz_split	 sp;
	char		 boundary[MP_BOUNDARY_MAX + 2];
	const uint8_t	*body;
	size_t		 len;
	uint64_t	 whole, split;
	int		 mode;

	fz_in_init(&in, data, size);
	mode = fz_u8(&in);
	fz_split_init(&sp, &in);
	if (mode & FZM_CTYPE) {
		if (fzm_from_ctype(&in, boundary, sizeof(boundary)) == -1)
			return 0;
	} else
		fzm_from_bytes(&in, boundary);
	len = fz_take(&in, fz_left(&in), &body);

	whole = fzm_run(boundary, mode, 0, body, len, &sp);
	split = fzm_run(boundary, mode, 1, body, len, &sp);
	if (whole != split)
		fz_fail(__FILE__, __LINE__, "whole and split runs differ");
	return 0;
}
