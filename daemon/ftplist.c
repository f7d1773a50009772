/*
 * FTP directory listing parsers.  Everything here reads bytes a remote
 * server chose, so every field is bounded and checked; a line that does
 * not fit one of the known shapes is rejected, never guessed at.  Only
 * optional MLSD facts that a server got wrong are dropped quietly.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ftplist.h"

#define FTPL_MAXTOK	10
#define FTPL_DAY	86400

struct ftpl_tok {
	const char	*t_p;
	size_t		 t_len;
};

static const char *ftpl_months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};

static int	ftpl_isspace(int);
static int	ftpl_digits(const struct ftpl_tok *, size_t, size_t);
static int	ftpl_number(const char *, size_t, uint64_t, uint64_t *);
static int	ftpl_month(const struct ftpl_tok *);
static int	ftpl_leap(int);
static int	ftpl_mdays(int, int);
static int64_t	ftpl_mktime(int, int, int, int, int, int);
static size_t	ftpl_tokens(const char *, size_t, struct ftpl_tok *,
		    size_t);
static int	ftpl_setstr(char *, size_t, const char *, size_t);
static int	ftpl_setname(struct ftpl_entry *, const char *, size_t);
static int	ftpl_unix_mode(const char *, size_t, struct ftpl_entry *);
static int	ftpl_unix_date(const struct ftpl_tok *, time_t, int64_t *);
static int	ftpl_unix_find(const struct ftpl_tok *, size_t, time_t,
		    int64_t *);
static int	ftpl_unix_ids(const struct ftpl_tok *, int,
		    struct ftpl_entry *);
static int	ftpl_parse_unix(const char *, size_t, time_t,
		    struct ftpl_entry *);
static int	ftpl_parse_dos(const char *, size_t, struct ftpl_entry *);
static int	ftpl_mlsd_type(const char *, size_t, struct ftpl_entry *);
static int	ftpl_mlsd_time(const char *, size_t, int64_t *);
static void	ftpl_mlsd_id(const char *, size_t, int, int,
		    struct ftpl_entry *, int *);
static void	ftpl_mlsd_mode(const char *, size_t, struct ftpl_entry *);
static int	ftpl_mlsd_fact(const char *, size_t, const char *, size_t,
		    struct ftpl_entry *, int *);

/* Blanks between LIST columns. */
static int
ftpl_isspace(int c)
{
	return c == ' ' || c == '\t';
}

/* True when token t is between min and max decimal digits. */
static int
ftpl_digits(const struct ftpl_tok *t, size_t min, size_t max)
{
	size_t	 i;

	if (t->t_len < min || t->t_len > max)
		return 0;
	for (i = 0; i < t->t_len; i++)
		if (t->t_p[i] < '0' || t->t_p[i] > '9')
			return 0;
	return 1;
}

/* Parse len decimal digits into *v, refusing values over max. */
static int
ftpl_number(const char *p, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t	 n = 0;
	size_t		 i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (n > (max - (p[i] - '0')) / 10)
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	*v = n;
	return 0;
}

/* Month index 0-11 of an English three-letter name, or -1. */
static int
ftpl_month(const struct ftpl_tok *t)
{
	int	 i;

	if (t->t_len != 3)
		return -1;
	for (i = 0; i < 12; i++)
		if (strncasecmp(t->t_p, ftpl_months[i], 3) == 0)
			return i;
	return -1;
}

/* Gregorian leap year. */
static int
ftpl_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month mon (0-11) of year y. */
static int
ftpl_mdays(int y, int mon)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (mon == 1 && ftpl_leap(y))
		return 29;
	return days[mon];
}

/* UTC seconds for a checked calendar date, or -1 if it does not exist. */
static int64_t
ftpl_mktime(int y, int mon, int d, int h, int mi, int s)
{
	struct tm	 tm;

	if (y < 1900 || y > 9999 || mon < 0 || mon > 11 || d < 1 ||
	    d > ftpl_mdays(y, mon) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/*
 * The year ls(1) meant when it printed a time of day: the date lies in
 * the six months before now.  A day of slack covers servers that print
 * local time ahead of UTC.  Feb 29 moves back to a leap year.
 */
int
ftpl_guess_year(int mon, int mday, time_t now)
{
	struct tm	 tm;
	int64_t		 t;
	int		 y, i;

	if (gmtime_r(&now, &tm) == NULL)
		return 1970;
	y = tm.tm_year + 1900;
	for (i = 0; i < 8; i++, y--) {
		if ((t = ftpl_mktime(y, mon, mday, 0, 0, 0)) == -1)
			continue;
		if (t <= (int64_t)now + FTPL_DAY)
			return y;
	}
	return tm.tm_year + 1900;
}

/* Split the start of a line into up to max blank-separated tokens. */
static size_t
ftpl_tokens(const char *p, size_t len, struct ftpl_tok *t, size_t max)
{
	size_t	 i = 0, n = 0, start;

	while (n < max) {
		while (i < len && ftpl_isspace((unsigned char)p[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !ftpl_isspace((unsigned char)p[i]))
			i++;
		t[n].t_p = p + start;
		t[n].t_len = i - start;
		n++;
	}
	return n;
}

/* Copy len bytes into a bounded string; NUL bytes are refused. */
static int
ftpl_setstr(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size || memchr(src, '\0', len) != NULL)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Set the entry's name: 0 ok, 1 for "." and "..", -1 for a bad name. */
static int
ftpl_setname(struct ftpl_entry *e, const char *p, size_t len)
{
	if (len == 0 || memchr(p, '/', len) != NULL)
		return -1;
	if (ftpl_setstr(e->fe_name, sizeof(e->fe_name), p, len) == -1)
		return -1;
	if (strcmp(e->fe_name, ".") == 0 || strcmp(e->fe_name, "..") == 0)
		return 1;
	return 0;
}

/* Type and permission bits from "drwxr-sr-t" and the like. */
static int
ftpl_unix_mode(const char *p, size_t len, struct ftpl_entry *e)
{
	static const char	 rwx[] = "rwxrwxrwx";
	uint32_t		 m = 0;
	int			 i;

	if (len < 10)
		return -1;
	switch (p[0]) {
	case '-':
		m = S_IFREG;
		e->fe_type = FTPL_T_FILE;
		break;
	case 'd':
		m = S_IFDIR;
		e->fe_type = FTPL_T_DIR;
		break;
	case 'l':
		m = S_IFLNK;
		e->fe_type = FTPL_T_LINK;
		break;
	case 'b':
		m = S_IFBLK;
		e->fe_type = FTPL_T_OTHER;
		break;
	case 'c':
		m = S_IFCHR;
		e->fe_type = FTPL_T_OTHER;
		break;
	case 'p':
		m = S_IFIFO;
		e->fe_type = FTPL_T_OTHER;
		break;
	case 's':
		m = S_IFSOCK;
		e->fe_type = FTPL_T_OTHER;
		break;
	case 'D':
		e->fe_type = FTPL_T_OTHER;
		break;
	default:
		return -1;
	}
	for (i = 0; i < 9; i++) {
		char	 c = p[1 + i];

		if (c == rwx[i])
			m |= 0400 >> i;
		else if ((i == 2 || i == 5) && (c == 's' || c == 'S')) {
			m |= i == 2 ? S_ISUID : S_ISGID;
			if (c == 's')
				m |= 0400 >> i;
		} else if (i == 5 && (c == 'l' || c == 'L'))
			m |= S_ISGID;	/* mandatory locking, old SysV */
		else if (i == 8 && (c == 't' || c == 'T')) {
			m |= S_ISVTX;
			if (c == 't')
				m |= 01;
		} else if (c != '-')
			return -1;
	}
	/* ACL and security context markers may follow the ten letters. */
	if (len > 11 || (len == 11 && strchr("+.@", p[10]) == NULL))
		return -1;
	e->fe_mode = m;
	e->fe_flags |= FTPL_F_MODE;
	return 0;
}

/* "Mon DD HH:MM" or "Mon DD YYYY" starting at t[0]. */
static int
ftpl_unix_date(const struct ftpl_tok *t, time_t now, int64_t *when)
{
	uint64_t	 day, y, h, mi;
	int		 mon;

	if ((mon = ftpl_month(&t[0])) == -1 ||
	    ftpl_number(t[1].t_p, t[1].t_len, 31, &day) == -1)
		return -1;
	if (ftpl_digits(&t[2], 4, 4)) {
		if (ftpl_number(t[2].t_p, 4, 9999, &y) == -1)
			return -1;
		*when = ftpl_mktime((int)y, mon, (int)day, 0, 0, 0);
	} else {
		if (t[2].t_len < 4 || t[2].t_len > 5 ||
		    t[2].t_p[t[2].t_len - 3] != ':' ||
		    ftpl_number(t[2].t_p, t[2].t_len - 3, 23, &h) == -1 ||
		    ftpl_number(t[2].t_p + t[2].t_len - 2, 2, 59, &mi) == -1)
			return -1;
		y = ftpl_guess_year(mon, (int)day, now);
		*when = ftpl_mktime((int)y, mon, (int)day, (int)h, (int)mi,
		    0);
	}
	return *when == -1 ? -1 : 0;
}

/*
 * Index of the month token: the size before it, day and year or time
 * after it, *when set from them.  The usual column positions are tried
 * first so that an owner called "Mar" or a date in the name does not
 * mislead.
 */
static int
ftpl_unix_find(const struct ftpl_tok *t, size_t n, time_t now,
    int64_t *when)
{
	static const int	 order[] = { 5, 4, 6, 3, 7, 2 };
	size_t			 i;
	int			 m;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		m = order[i];
		if ((size_t)m + 2 >= n || !ftpl_digits(&t[m - 1], 1, 20))
			continue;
		if (ftpl_unix_date(&t[m], now, when) == 0)
			return m;
	}
	return -1;
}

/* Links, owner and group: the tokens between the mode and the size. */
static int
ftpl_unix_ids(const struct ftpl_tok *t, int m, struct ftpl_entry *e)
{
	int	 i = 1, last = m - 1, k = 0;

	/* A device shows "major, minor" where the size would be. */
	if (last - 1 >= 1 && t[last - 1].t_len > 1 &&
	    t[last - 1].t_p[t[last - 1].t_len - 1] == ',')
		last--;
	if (i < last && last - i > 1 && ftpl_digits(&t[i], 1, 10))
		i++;
	for (; i < last && k < 2; i++, k++) {
		char	*dst = k == 0 ? e->fe_owner : e->fe_group;

		if (ftpl_setstr(dst, FTPL_ID_MAX, t[i].t_p, t[i].t_len) == -1)
			return -1;
	}
	return 0;
}

/* A UNIX "ls -l" line. */
static int
ftpl_parse_unix(const char *p, size_t len, time_t now, struct ftpl_entry *e)
{
	struct ftpl_tok	 t[FTPL_MAXTOK];
	const char	*name, *arrow, *end = p + len;
	size_t		 n;
	int		 m, rv;

	n = ftpl_tokens(p, len, t, FTPL_MAXTOK);
	if (n < 4 || ftpl_unix_mode(t[0].t_p, t[0].t_len, e) == -1)
		return -1;
	if ((m = ftpl_unix_find(t, n, now, &e->fe_mtime)) == -1 ||
	    ftpl_unix_ids(t, m, e) == -1)
		return -1;
	if (e->fe_type == FTPL_T_FILE || e->fe_type == FTPL_T_DIR ||
	    e->fe_type == FTPL_T_LINK) {
		if (ftpl_number(t[m - 1].t_p, t[m - 1].t_len, UINT64_MAX,
		    &e->fe_size) == -1)
			return -1;
		e->fe_flags |= FTPL_F_SIZE;
	}

	/* The name starts after exactly one blank: it may begin with more. */
	name = t[m + 2].t_p + t[m + 2].t_len + 1;
	if (name >= end)
		return -1;
	if (e->fe_type == FTPL_T_LINK &&
	    (arrow = memmem(name, end - name, " -> ", 4)) != NULL) {
		if (ftpl_setstr(e->fe_target, sizeof(e->fe_target),
		    arrow + 4, end - arrow - 4) == -1)
			return -1;
		end = arrow;
	}
	if ((rv = ftpl_setname(e, name, end - name)) != 0)
		return rv == 1 ? 0 : -1;
	return 1;
}

/* A DOS/IIS line: "12-03-26  04:05PM  <DIR>  name" or a size. */
static int
ftpl_parse_dos(const char *p, size_t len, struct ftpl_entry *e)
{
	struct ftpl_tok	 t[3];
	const char	*name;
	uint64_t	 mo, d, y, h, mi;
	size_t		 tl;
	int		 rv;

	if (ftpl_tokens(p, len, t, 3) != 3 || t[0].t_len < 8 ||
	    t[0].t_p[2] != '-' || t[0].t_p[5] != '-' ||
	    ftpl_number(t[0].t_p, 2, 12, &mo) == -1 ||
	    ftpl_number(t[0].t_p + 3, 2, 31, &d) == -1 ||
	    ftpl_number(t[0].t_p + 6, t[0].t_len - 6, 9999, &y) == -1 ||
	    (t[0].t_len != 8 && t[0].t_len != 10))
		return -1;
	if (t[0].t_len == 8)
		y += y < 70 ? 2000 : 1900;

	/* 24-hour "16:05" or 12-hour "04:05PM". */
	tl = t[1].t_len;
	if (tl == 7 && strncasecmp(t[1].t_p + 5, "PM", 2) == 0)
		tl = 5;
	else if (tl == 7 && strncasecmp(t[1].t_p + 5, "AM", 2) == 0)
		tl = 5;
	if (tl != 5 || t[1].t_p[2] != ':' ||
	    ftpl_number(t[1].t_p, 2, 23, &h) == -1 ||
	    ftpl_number(t[1].t_p + 3, 2, 59, &mi) == -1)
		return -1;
	if (tl != t[1].t_len) {
		if (h < 1 || h > 12)
			return -1;
		h %= 12;
		if (toupper((unsigned char)t[1].t_p[5]) == 'P')
			h += 12;
	}
	if ((e->fe_mtime = ftpl_mktime((int)y, (int)mo - 1, (int)d, (int)h,
	    (int)mi, 0)) == -1)
		return -1;

	if (t[2].t_len == 5 && memcmp(t[2].t_p, "<DIR>", 5) == 0) {
		e->fe_type = FTPL_T_DIR;
		e->fe_mode = S_IFDIR;
	} else if (ftpl_number(t[2].t_p, t[2].t_len, UINT64_MAX,
	    &e->fe_size) == 0) {
		e->fe_type = FTPL_T_FILE;
		e->fe_mode = S_IFREG;
		e->fe_flags |= FTPL_F_SIZE;
	} else
		return -1;

	name = t[2].t_p + t[2].t_len;
	while (name < p + len && ftpl_isspace((unsigned char)*name))
		name++;
	if ((rv = ftpl_setname(e, name, p + len - name)) != 0)
		return rv == 1 ? 0 : -1;
	return 1;
}

/* One LIST line: DOS style starts with a digit, UNIX never does. */
int
ftpl_parse_list(const char *p, size_t len, time_t now, struct ftpl_entry *e)
{
	struct ftpl_tok	 t[2];
	int		 rv;

	memset(e, 0, sizeof(*e));
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (ftpl_tokens(p, len, t, 2) == 0)
		return 0;
	if (t[0].t_len == 5 && strncasecmp(t[0].t_p, "total", 5) == 0)
		return 0;
	if (len > 0 && p[0] >= '0' && p[0] <= '9')
		rv = ftpl_parse_dos(p, len, e);
	else
		rv = ftpl_parse_unix(p, len, now, e);
	if (rv == -1) {
		memset(e, 0, sizeof(*e));
		errno = EINVAL;
	}
	return rv;
}

/* The value of an MLSD "type" fact. */
static int
ftpl_mlsd_type(const char *v, size_t len, struct ftpl_entry *e)
{
	static const char	 slink[] = "os.unix=slink:";
	static const char	 symlink[] = "os.unix=symlink";
	const size_t		 sl = sizeof(slink) - 1;

	if (len == 4 && strncasecmp(v, "file", 4) == 0)
		e->fe_type = FTPL_T_FILE;
	else if (len == 3 && strncasecmp(v, "dir", 3) == 0)
		e->fe_type = FTPL_T_DIR;
	else if ((len == 4 && strncasecmp(v, "cdir", 4) == 0) ||
	    (len == 4 && strncasecmp(v, "pdir", 4) == 0))
		return 1;
	else if (len >= sl && strncasecmp(v, slink, sl) == 0) {
		e->fe_type = FTPL_T_LINK;
		if (ftpl_setstr(e->fe_target, sizeof(e->fe_target), v + sl,
		    len - sl) == -1)
			return -1;
	} else if (len == sizeof(symlink) - 1 &&
	    strncasecmp(v, symlink, len) == 0)
		e->fe_type = FTPL_T_LINK;
	else
		e->fe_type = FTPL_T_OTHER;
	return 0;
}

/* "modify" fact: YYYYMMDDHHMMSS, optionally with fractions, UTC. */
static int
ftpl_mlsd_time(const char *v, size_t len, int64_t *t)
{
	uint64_t	 f[6];
	static const int w[6] = { 4, 2, 2, 2, 2, 2 };
	size_t		 off = 0;
	int		 i;

	if (len < 14 || (len > 14 && v[14] != '.'))
		return -1;
	for (i = 0; i < 6; i++) {
		if (ftpl_number(v + off, w[i], 9999, &f[i]) == -1)
			return -1;
		off += w[i];
	}
	*t = ftpl_mktime((int)f[0], (int)f[1] - 1, (int)f[2], (int)f[3],
	    (int)f[4], (int)f[5]);
	return *t == -1 ? -1 : 0;
}

/*
 * An owner or group fact of priority prio: names (unix.ownername) win
 * over unix.owner, which wins over numbers (unix.uid), whatever their
 * order.  *idprio keeps the best seen so far and which ids were seen.
 */
static void
ftpl_mlsd_id(const char *v, size_t vl, int owner, int prio,
    struct ftpl_entry *e, int *idprio)
{
	uint64_t	 n;
	int		 shift = owner ? 0 : 2;

	if (ftpl_number(v, vl, UINT32_MAX, &n) == 0) {
		if (owner)
			e->fe_uid = (uint32_t)n;
		else
			e->fe_gid = (uint32_t)n;
		*idprio |= owner ? 0x100 : 0x200;
	}
	if (prio < (*idprio >> shift & 0x3))
		return;
	if (ftpl_setstr(owner ? e->fe_owner : e->fe_group, FTPL_ID_MAX, v,
	    vl) == 0)
		*idprio = (*idprio & ~(0x3 << shift)) | prio << shift;
}

/* "unix.mode": octal permissions; some servers write "0o755". */
static void
ftpl_mlsd_mode(const char *v, size_t vl, struct ftpl_entry *e)
{
	uint32_t	 m = 0;
	size_t		 i;

	if (vl > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
		v += 2;
		vl -= 2;
	}
	if (vl == 0 || vl > 6)
		return;
	for (i = 0; i < vl; i++) {
		if (v[i] < '0' || v[i] > '7')
			return;
		m = m * 8 + (v[i] - '0');
	}
	e->fe_mode |= m & 07777;
	e->fe_flags |= FTPL_F_MODE;
}

/*
 * One "name=value" fact: 1 for an entry to skip (cdir, pdir), -1 for a
 * bad type, else 0.  Malformed optional facts are ignored: servers get
 * them wrong, and the entry is still worth showing.
 */
static int
ftpl_mlsd_fact(const char *k, size_t kl, const char *v, size_t vl,
    struct ftpl_entry *e, int *idprio)
{
#define FACT(s)	(kl == sizeof(s) - 1 && strncasecmp(k, s, kl) == 0)
	if (FACT("type"))
		return ftpl_mlsd_type(v, vl, e);
	if (FACT("size") || FACT("sizd")) {
		if (ftpl_number(v, vl, UINT64_MAX, &e->fe_size) == 0)
			e->fe_flags |= FTPL_F_SIZE;
	} else if (FACT("modify")) {
		if (ftpl_mlsd_time(v, vl, &e->fe_mtime) == -1)
			e->fe_mtime = 0;
	} else if (FACT("unix.mode"))
		ftpl_mlsd_mode(v, vl, e);
	else if (FACT("unix.ownername"))
		ftpl_mlsd_id(v, vl, 1, 2, e, idprio);
	else if (FACT("unix.groupname"))
		ftpl_mlsd_id(v, vl, 0, 2, e, idprio);
	else if (FACT("unix.owner"))
		ftpl_mlsd_id(v, vl, 1, 1, e, idprio);
	else if (FACT("unix.group"))
		ftpl_mlsd_id(v, vl, 0, 1, e, idprio);
	else if (FACT("unix.uid"))
		ftpl_mlsd_id(v, vl, 1, 0, e, idprio);
	else if (FACT("unix.gid"))
		ftpl_mlsd_id(v, vl, 0, 0, e, idprio);
#undef FACT
	return 0;
}

/* One MLSD line: "fact=value;..." facts, one blank, the name. */
int
ftpl_parse_mlsd(const char *p, size_t len, struct ftpl_entry *e)
{
	const char	*sp, *f, *fe, *eq, *end;
	int		 idprio = 0, rv;

	memset(e, 0, sizeof(*e));
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (len == 0)
		return 0;
	if ((sp = memchr(p, ' ', len)) == NULL)
		goto bad;

	/* Facts are "name=value;" each, then one blank and the name. */
	for (f = p, end = sp; f < end; f = fe + 1) {
		if ((fe = memchr(f, ';', end - f)) == NULL)
			fe = end;
		if (fe == f)
			continue;
		if ((eq = memchr(f, '=', fe - f)) == NULL)
			continue;
		if ((rv = ftpl_mlsd_fact(f, eq - f, eq + 1, fe - eq - 1, e,
		    &idprio)) == -1)
			goto bad;
		if (rv == 1)
			return 0;
	}
	if ((idprio & 0x300) == 0x300)
		e->fe_flags |= FTPL_F_IDS;
	switch (e->fe_type) {
	case FTPL_T_FILE:
		e->fe_mode |= S_IFREG;
		break;
	case FTPL_T_DIR:
		e->fe_mode |= S_IFDIR;
		break;
	case FTPL_T_LINK:
		e->fe_mode |= S_IFLNK;
		break;
	}
	if ((rv = ftpl_setname(e, sp + 1, p + len - sp - 1)) != 0) {
		if (rv == 1)
			return 0;
		goto bad;
	}
	return 1;
 bad:
	memset(e, 0, sizeof(*e));
	errno = EINVAL;
	return -1;
}

/* An empty line buffer. */
void
ftpl_lines_init(struct ftpl_lbuf *lb)
{
	lb->lb_len = 0;
	lb->lb_skip = 0;
}

/* Complete the buffered line with p[0..n) and pass it to cb. */
static int
ftpl_lines_emit(struct ftpl_lbuf *lb, const char *p, size_t n,
    ftpl_line_cb cb, void *arg)
{
	const char	*line = p;
	size_t		 len = n;
	int		 skip = lb->lb_skip, rv = 0;

	if (lb->lb_len > 0) {
		if (lb->lb_len + n > sizeof(lb->lb_buf))
			skip = 1;
		else {
			memcpy(lb->lb_buf + lb->lb_len, p, n);
			line = lb->lb_buf;
			len = lb->lb_len + n;
		}
	} else if (n > sizeof(lb->lb_buf))
		skip = 1;
	if (!skip) {
		if (len > 0 && line[len - 1] == '\r')
			len--;
		rv = cb(line, len, arg);
	}
	lb->lb_len = 0;
	lb->lb_skip = 0;
	return rv;
}

/* Pass each whole line in p[0..n) to cb, keeping a partial one. */
int
ftpl_lines_feed(struct ftpl_lbuf *lb, const char *p, size_t n,
    ftpl_line_cb cb, void *arg)
{
	const char	*nl;
	int		 rv;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) != NULL) {
			if ((rv = ftpl_lines_emit(lb, p, nl - p, cb, arg)) != 0)
				return rv;
			n -= nl - p + 1;
			p = nl + 1;
			continue;
		}
		/* No newline: keep the piece, or give up on a long line. */
		if (lb->lb_skip || lb->lb_len + n > sizeof(lb->lb_buf)) {
			lb->lb_skip = 1;
			lb->lb_len = 0;
		} else {
			memcpy(lb->lb_buf + lb->lb_len, p, n);
			lb->lb_len += n;
		}
		break;
	}
	return 0;
}

/* The data ended: a last line without a newline still counts. */
int
ftpl_lines_end(struct ftpl_lbuf *lb, ftpl_line_cb cb, void *arg)
{
	int	 rv = 0;

	if (!lb->lb_skip && lb->lb_len > 0)
		rv = ftpl_lines_emit(lb, "", 0, cb, arg);
	ftpl_lines_init(lb);
	return rv;
}
