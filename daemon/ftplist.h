/*
 * FTP directory listings: parsers for the lines a server sends in reply
 * to LIST (UNIX "ls -l" style, DOS/IIS style) and MLSD (RFC 3659 facts),
 * and a line splitter for data that arrives in arbitrary chunks.  Pure
 * code: no I/O, no libcurl, so that captured listings can be tested.
 */
#ifndef DAEMON_FTPLIST_H
#define DAEMON_FTPLIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FTPL_NAME_MAX	1024	/* name or link target, with the NUL */
#define FTPL_ID_MAX	64	/* owner or group name, with the NUL */
#define FTPL_LINE_MAX	8192	/* longer lines are skipped */

enum ftpl_type {
	FTPL_T_FILE = 0,
	FTPL_T_DIR,
	FTPL_T_LINK,
	FTPL_T_OTHER
};

struct ftpl_entry {
	char		fe_name[FTPL_NAME_MAX];
	char		fe_target[FTPL_NAME_MAX];	/* link, or "" */
	char		fe_owner[FTPL_ID_MAX];	/* "" unknown */
	char		fe_group[FTPL_ID_MAX];
	uint64_t	fe_size;
	int64_t		fe_mtime;	/* UTC seconds, 0 unknown */
	uint32_t	fe_mode;	/* st_mode bits, 0 unknown */
	uint32_t	fe_uid;
	uint32_t	fe_gid;
	int		fe_type;	/* enum ftpl_type */
	int		fe_flags;
#define FTPL_F_SIZE	0x1		/* fe_size is known */
#define FTPL_F_MODE	0x2		/* permission bits are known */
#define FTPL_F_IDS	0x4		/* fe_uid and fe_gid are known */
};

/* Accumulates chunks and hands out whole lines without CR or LF. */
struct ftpl_lbuf {
	char		lb_buf[FTPL_LINE_MAX];
	size_t		lb_len;
	int		lb_skip;	/* inside a line that was too long */
};

typedef int	(*ftpl_line_cb)(const char *, size_t, void *);

/*
 * Parse one LIST line (UNIX or DOS style).  "now" resolves dates shown
 * with a time of day instead of a year.  Returns 1 with *e filled, 0
 * for a line that holds no entry ("total N", ".", ".."), -1 with errno
 * EINVAL for a line it does not understand.
 */
int	ftpl_parse_list(const char *, size_t, time_t, struct ftpl_entry *);

/* Parse one MLSD line; same return values ("cdir" and "pdir" give 0). */
int	ftpl_parse_mlsd(const char *, size_t, struct ftpl_entry *);

/*
 * Split data into lines and call cb for each whole one; a non-zero
 * return from cb stops and is returned.  ftpl_lines_end flushes a last
 * line that had no newline.
 */
void	ftpl_lines_init(struct ftpl_lbuf *);
int	ftpl_lines_feed(struct ftpl_lbuf *, const char *, size_t,
	    ftpl_line_cb, void *);
int	ftpl_lines_end(struct ftpl_lbuf *, ftpl_line_cb, void *);

/* Year for a "Mon DD HH:MM" date: the one within the six months to now. */
int	ftpl_guess_year(int, int, time_t);

#endif
