/*
 * Fuzz target for the FTP listing parsers (daemon/ftplist.c).
 *
 * Input: a mode byte, four bytes of "now", FZ_NSPLIT chunk size bytes,
 * then listing data as a server would send it.  The data goes through
 * the line splitter twice, whole and in input-derived chunks; both
 * must give the same lines.  Each line is parsed as LIST and as MLSD,
 * and every entry must be bounded and safe to use as a file name.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftplist.h"
#include "fz.h"

#define FZF_BOUNDED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

struct fzf_run {
	time_t		 r_now;
	uint64_t	 r_h;		/* lines and what they parsed to */
	size_t		 r_nlines;
};

/* An entry a parser returned 1 for. */
static void
fzf_check_entry(const struct ftpl_entry *e)
{
	FZ_CHECK(FZF_BOUNDED(e->fe_name) && FZF_BOUNDED(e->fe_target));
	FZ_CHECK(FZF_BOUNDED(e->fe_owner) && FZF_BOUNDED(e->fe_group));
	FZ_CHECK(e->fe_name[0] != '\0');
	FZ_CHECK(strchr(e->fe_name, '/') == NULL);
	FZ_CHECK(strcmp(e->fe_name, ".") != 0 && strcmp(e->fe_name, "..") != 0);
	FZ_CHECK(e->fe_type >= FTPL_T_FILE && e->fe_type <= FTPL_T_OTHER);
	FZ_CHECK((e->fe_flags & ~(FTPL_F_SIZE | FTPL_F_MODE | FTPL_F_IDS)) ==
	    0);
}

/* After a parse: check the outcome, add it to the transcript. */
static void
fzf_outcome(struct fzf_run *r, int rv, const struct ftpl_entry *e)
{
	static const struct ftpl_entry	 zero;

	FZ_CHECK(rv >= -1 && rv <= 1);
	if (rv == 1)
		fzf_check_entry(e);
	else if (rv == -1) {
		FZ_CHECK(errno == EINVAL);
		FZ_CHECK(memcmp(e, &zero, sizeof(zero)) == 0);
	}
	r->r_h = fz_hash(r->r_h, &rv, sizeof(rv));
	if (rv == 1) {
		r->r_h = fz_hash(r->r_h, e->fe_name, strlen(e->fe_name));
		r->r_h = fz_hash(r->r_h, &e->fe_size, sizeof(e->fe_size));
		r->r_h = fz_hash(r->r_h, &e->fe_mtime, sizeof(e->fe_mtime));
	}
}

static int
fzf_line(const char *line, size_t len, void *arg)
{
	struct fzf_run		*r = arg;
	struct ftpl_entry	 e;

	FZ_CHECK(len <= FTPL_LINE_MAX);
	FZ_CHECK(memchr(line, '\n', len) == NULL);
	r->r_nlines++;
	r->r_h = fz_hash(r->r_h, &len, sizeof(len));
	r->r_h = fz_hash(r->r_h, line, len);

	errno = 0;
	fzf_outcome(r, ftpl_parse_list(line, len, r->r_now, &e), &e);
	errno = 0;
	fzf_outcome(r, ftpl_parse_mlsd(line, len, &e), &e);
	return 0;
}

/* Split and parse the data; sp NULL feeds it in one piece. */
static uint64_t
fzf_run(time_t now, const uint8_t *p, size_t len, struct fz_split *sp)
{
	struct fzf_run	 r;
	struct ftpl_lbuf *lb;
	size_t		 off = 0, n;

	memset(&r, 0, sizeof(r));
	r.r_now = now;
	if ((lb = malloc(sizeof(*lb))) == NULL)
		abort();
	ftpl_lines_init(lb);
	while (off < len) {
		n = sp != NULL ? fz_split_next(sp, len - off) : len;
		FZ_CHECK(ftpl_lines_feed(lb, (const char *)p + off, n,
		    fzf_line, &r) == 0);
		off += n;
	}
	FZ_CHECK(ftpl_lines_end(lb, fzf_line, &r) == 0);
	FZ_CHECK(lb->lb_len == 0 && lb->lb_skip == 0);
	free(lb);
	return r.r_h;
}

/* The year guessed for a date shown with a time: within 8 years back. */
static void
fzf_year(int mon, int mday, time_t now)
{
	struct tm	 tm;
	int		 y;

	if (gmtime_r(&now, &tm) == NULL)
		return;
	y = ftpl_guess_year(mon, mday, now);
	FZ_CHECK(y <= tm.tm_year + 1900 + 1 && y >= tm.tm_year + 1900 - 8);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in	 in;
	struct fz_split	 sp;
	const uint8_t	*p;
	size_t		 len;
	time_t		 now;
	uint8_t		 mode;

	fz_in_init(&in, data, size);
	mode = fz_u8(&in);
	now = fz_u32(&in);
	fz_split_init(&sp, &in);
	len = fz_take(&in, fz_left(&in), &p);

	if (fzf_run(now, p, len, NULL) != fzf_run(now, p, len, &sp))
		fz_fail(__FILE__, __LINE__, "whole and split runs differ");
	fzf_year(mode % 12, sp.sp_ctl[0] % 31 + 1, now);
	return 0;
}
