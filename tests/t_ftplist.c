/*
 * FTP listing parser tests: captured LIST and MLSD output from vsftpd,
 * GNU ls, IIS and RFC 3659 servers, and the date and line edge cases.
 */
#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <atf-c.h>

#include "ftplist.h"

/* UTC seconds for a calendar date. */
static time_t
utc(int y, int mon, int d, int h, int mi, int s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static int
list(const char *line, time_t now, struct ftpl_entry *e)
{
	return ftpl_parse_list(line, strlen(line), now, e);
}

static int
mlsd(const char *line, struct ftpl_entry *e)
{
	return ftpl_parse_mlsd(line, strlen(line), e);
}

ATF_TC_WITHOUT_HEAD(vsftpd);
ATF_TC_BODY(vsftpd, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_REQUIRE_EQ(list("-rw-r--r--    1 1000     1000         1234 "
	    "Mar 03 12:00 file.txt\r\n", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "file.txt");
	ATF_CHECK_EQ(e.fe_type, FTPL_T_FILE);
	ATF_CHECK_EQ(e.fe_size, 1234);
	ATF_CHECK(e.fe_flags & FTPL_F_SIZE);
	ATF_CHECK(e.fe_flags & FTPL_F_MODE);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 0644);
	ATF_CHECK_STREQ(e.fe_owner, "1000");
	ATF_CHECK_STREQ(e.fe_group, "1000");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 3, 3, 12, 0, 0));
	ATF_CHECK_STREQ(e.fe_target, "");

	ATF_REQUIRE_EQ(list("drwxr-xr-x    2 0        0            4096 "
	    "Jan 15  2023 dir", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "dir");
	ATF_CHECK_EQ(e.fe_type, FTPL_T_DIR);
	ATF_CHECK_EQ(e.fe_mode, S_IFDIR | 0755);
	ATF_CHECK_EQ(e.fe_mtime, utc(2023, 1, 15, 0, 0, 0));
	ATF_CHECK_STREQ(e.fe_owner, "0");
}

ATF_TC_WITHOUT_HEAD(gnu_ls);
ATF_TC_BODY(gnu_ls, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 4096 Dec  1  2020 "
	    "a b  c", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "a b  c");
	ATF_CHECK_STREQ(e.fe_owner, "alice");
	ATF_CHECK_STREQ(e.fe_group, "staff");
	ATF_CHECK_EQ(e.fe_mtime, utc(2020, 12, 1, 0, 0, 0));

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 7 Mar  9 08:07 "
	    " two leading", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, " two leading");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 3, 9, 8, 7, 0));

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 0 Mar  9 08:07 -rf",
	    now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "-rf");

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 3 Mar  9 08:07 "
	    "caf\xc3\xa9 \xe2\x98\x95", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "caf\xc3\xa9 \xe2\x98\x95");

	/* Bytes that are not UTF-8 pass through untouched. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 3 Mar  9 08:07 "
	    "\xff\xfe latin1 \xe9", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "\xff\xfe latin1 \xe9");

	/* A name that looks like a date is still the name. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 alice staff 3 Mar  9  2021 "
	    "Jan 01 2020 x", now, &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "Jan 01 2020 x");
	ATF_CHECK_EQ(e.fe_mtime, utc(2021, 3, 9, 0, 0, 0));
}

ATF_TC_WITHOUT_HEAD(skipped);
ATF_TC_BODY(skipped, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_CHECK_EQ(list("total 24", now, &e), 0);
	ATF_CHECK_EQ(list("", now, &e), 0);
	ATF_CHECK_EQ(list("\r\n", now, &e), 0);
	ATF_CHECK_EQ(list("drwxr-xr-x 2 u g 4096 Mar 03 12:00 .", now, &e),
	    0);
	ATF_CHECK_EQ(list("drwxr-xr-x 2 u g 4096 Mar 03 12:00 ..", now, &e),
	    0);
	ATF_CHECK_EQ(list("drwxr-xr-x 2 u g 4096 Mar 03 12:00 ...", now, &e),
	    1);
}

ATF_TC_WITHOUT_HEAD(symlink);
ATF_TC_BODY(symlink, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_REQUIRE_EQ(list("lrwxrwxrwx    1 0        0               7 "
	    "Mar 03 12:00 my link -> ../target dir", now, &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_LINK);
	ATF_CHECK_EQ(e.fe_mode, S_IFLNK | 0777);
	ATF_CHECK_STREQ(e.fe_name, "my link");
	ATF_CHECK_STREQ(e.fe_target, "../target dir");
	ATF_CHECK_EQ(e.fe_size, 7);

	/* A regular file may have an arrow in its name. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Mar 03 12:00 a -> b", now,
	    &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "a -> b");
	ATF_CHECK_STREQ(e.fe_target, "");
}

ATF_TC_WITHOUT_HEAD(modes);
ATF_TC_BODY(modes, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_REQUIRE_EQ(list("drwxrwxrwt 9 root root 4096 Mar 03 12:00 tmp",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_mode, S_IFDIR | 01777);
	ATF_REQUIRE_EQ(list("-rwsr-sr-x 1 root root 5 Mar 03 12:00 su", now,
	    &e), 1);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 06755);
	ATF_REQUIRE_EQ(list("-rwSr--r-T 1 root root 5 Mar 03 12:00 odd", now,
	    &e), 1);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 05644);
	ATF_REQUIRE_EQ(list("-rw-r--r--+ 1 root root 5 Mar 03 12:00 acl",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 0644);
	ATF_REQUIRE_EQ(list("prw------- 1 root root 0 Mar 03 12:00 fifo",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_OTHER);
	ATF_CHECK_EQ(e.fe_mode, S_IFIFO | 0600);
}

ATF_TC_WITHOUT_HEAD(columns);
ATF_TC_BODY(columns, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	/* Device numbers stand where the size would be. */
	ATF_REQUIRE_EQ(list("crw-rw-rw- 1 root tty 5,   0 Mar 03 12:00 tty",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_OTHER);
	ATF_CHECK_STREQ(e.fe_owner, "root");
	ATF_CHECK_STREQ(e.fe_group, "tty");
	ATF_CHECK_STREQ(e.fe_name, "tty");
	ATF_CHECK((e.fe_flags & FTPL_F_SIZE) == 0);

	/* No group column. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 ftp 42 Mar 03 12:00 nogroup", now,
	    &e), 1);
	ATF_CHECK_STREQ(e.fe_owner, "ftp");
	ATF_CHECK_STREQ(e.fe_group, "");
	ATF_CHECK_EQ(e.fe_size, 42);

	/* An owner named like a month does not fool the date search. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 Mar 12 4096 Mar 03  2024 x", now,
	    &e), 1);
	ATF_CHECK_STREQ(e.fe_owner, "Mar");
	ATF_CHECK_STREQ(e.fe_group, "12");
	ATF_CHECK_EQ(e.fe_size, 4096);
	ATF_CHECK_EQ(e.fe_mtime, utc(2024, 3, 3, 0, 0, 0));

	/* Sizes past 4 GiB. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 68719476736 Mar 03 12:00 big",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_size, 68719476736ULL);
}

ATF_TC_WITHOUT_HEAD(rejected);
ATF_TC_BODY(rejected, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);
	const char		 nul[] =
	    "-rw-r--r-- 1 u g 1 Mar 03 12:00 a\0b";

	errno = 0;
	ATF_CHECK_EQ(list("hello world", now, &e), -1);
	ATF_CHECK_EQ(errno, EINVAL);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Mar 03 12:00 a/b", now, &e),
	    -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Mar 03 12:00", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Mar 03 12:00 ", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Mar 32 12:00 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Feb 30  2024 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Foo 03 12:00 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Mar 03 25:00 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g x Mar 03 12:00 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rwxrwxrwxz 1 u g 1 Mar 03 12:00 x", now, &e),
	    -1);
	ATF_CHECK_EQ(list("?rw-r--r-- 1 u g 1 Mar 03 12:00 x", now, &e), -1);
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 99999999999999999999 Mar 03 "
	    "12:00 x", now, &e), -1);
	ATF_CHECK_EQ(ftpl_parse_list(nul, sizeof(nul) - 1, now, &e), -1);
	ATF_CHECK_STREQ(e.fe_name, "");
}

ATF_TC_WITHOUT_HEAD(year_wrap);
ATF_TC_BODY(year_wrap, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 1, 10, 12, 0, 0);

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Dec 31 23:59 x", now, &e),
	    1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2025, 12, 31, 23, 59, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Jan 09 10:00 x", now, &e),
	    1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 1, 9, 10, 0, 0));
	/* A day ahead is a server clock in a later time zone. */
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Jan 11 01:00 x", now, &e),
	    1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 1, 11, 1, 0, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Jan 12 01:00 x", now, &e),
	    1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2025, 1, 12, 1, 0, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Jul 20 01:00 x", now, &e),
	    1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2025, 7, 20, 1, 0, 0));

	now = utc(2025, 12, 31, 23, 30, 0);
	ATF_CHECK_EQ(ftpl_guess_year(0, 1, now), 2025);
	ATF_CHECK_EQ(ftpl_guess_year(0, 2, now), 2025);
	ATF_CHECK_EQ(ftpl_guess_year(11, 31, now), 2025);
	now = utc(2026, 1, 1, 0, 30, 0);
	ATF_CHECK_EQ(ftpl_guess_year(11, 31, now), 2025);
	ATF_CHECK_EQ(ftpl_guess_year(0, 1, now), 2026);
}

ATF_TC_WITHOUT_HEAD(feb29);
ATF_TC_BODY(feb29, tc)
{
	struct ftpl_entry	 e;

	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Feb 29 10:00 x",
	    utc(2024, 3, 15, 0, 0, 0), &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2024, 2, 29, 10, 0, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Feb 29 10:00 x",
	    utc(2025, 1, 10, 0, 0, 0), &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2024, 2, 29, 10, 0, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Feb 29 10:00 x",
	    utc(2024, 2, 10, 0, 0, 0), &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2020, 2, 29, 10, 0, 0));
	ATF_REQUIRE_EQ(list("-rw-r--r-- 1 u g 1 Feb 29  2024 x",
	    utc(2026, 1, 10, 0, 0, 0), &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2024, 2, 29, 0, 0, 0));
	ATF_CHECK_EQ(list("-rw-r--r-- 1 u g 1 Feb 29  2023 x",
	    utc(2026, 1, 10, 0, 0, 0), &e), -1);
}

ATF_TC_WITHOUT_HEAD(dos);
ATF_TC_BODY(dos, tc)
{
	struct ftpl_entry	 e;
	time_t			 now = utc(2026, 4, 1, 10, 0, 0);

	ATF_REQUIRE_EQ(list("12-03-26  04:05PM       <DIR>          My Dir",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_DIR);
	ATF_CHECK_STREQ(e.fe_name, "My Dir");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 12, 3, 16, 5, 0));
	ATF_CHECK((e.fe_flags & FTPL_F_MODE) == 0);

	ATF_REQUIRE_EQ(list("03-12-2026  11:30AM             1234 a.txt\r",
	    now, &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_FILE);
	ATF_CHECK_EQ(e.fe_size, 1234);
	ATF_CHECK_STREQ(e.fe_name, "a.txt");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 3, 12, 11, 30, 0));

	ATF_REQUIRE_EQ(list("01-02-99  12:05AM 1 x", now, &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(1999, 1, 2, 0, 5, 0));
	ATF_REQUIRE_EQ(list("01-02-03  12:05PM 1 x", now, &e), 1);
	ATF_CHECK_EQ(e.fe_mtime, utc(2003, 1, 2, 12, 5, 0));
	ATF_CHECK_EQ(list("13-02-03  12:05PM 1 x", now, &e), -1);
	ATF_CHECK_EQ(list("01-02-03  13:05PM 1 x", now, &e), -1);
	ATF_CHECK_EQ(list("01-02-03  10:05 <FILE> x", now, &e), -1);
}

ATF_TC_WITHOUT_HEAD(mlsd_lines);
ATF_TC_BODY(mlsd_lines, tc)
{
	struct ftpl_entry	 e;

	ATF_REQUIRE_EQ(mlsd("type=file;size=1234;modify=20260303120000;"
	    "UNIX.mode=0644;UNIX.owner=1000;UNIX.group=100; my file.txt\r\n",
	    &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "my file.txt");
	ATF_CHECK_EQ(e.fe_type, FTPL_T_FILE);
	ATF_CHECK_EQ(e.fe_size, 1234);
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 3, 3, 12, 0, 0));
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 0644);
	ATF_CHECK(e.fe_flags & FTPL_F_IDS);
	ATF_CHECK_EQ(e.fe_uid, 1000);
	ATF_CHECK_EQ(e.fe_gid, 100);
	ATF_CHECK_STREQ(e.fe_owner, "1000");

	ATF_REQUIRE_EQ(mlsd("Type=dir;Modify=20260101000000.123;"
	    "Perm=flcdmpe; -sub dir", &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_DIR);
	ATF_CHECK_EQ(e.fe_mode, S_IFDIR);
	ATF_CHECK((e.fe_flags & (FTPL_F_MODE | FTPL_F_SIZE)) == 0);
	ATF_CHECK_STREQ(e.fe_name, "-sub dir");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 1, 1, 0, 0, 0));

	/* Names win over numbers, whatever the order of the facts. */
	ATF_REQUIRE_EQ(mlsd("unix.ownername=alice;type=file;unix.owner=1000;"
	    "unix.gid=50;unix.groupname=staff; f", &e), 1);
	ATF_CHECK_STREQ(e.fe_owner, "alice");
	ATF_CHECK_STREQ(e.fe_group, "staff");
	ATF_CHECK_EQ(e.fe_uid, 1000);
	ATF_CHECK_EQ(e.fe_gid, 50);
	ATF_CHECK(e.fe_flags & FTPL_F_IDS);

	ATF_REQUIRE_EQ(mlsd("type=OS.unix=slink:/etc/target;"
	    "modify=20200101000000; ln", &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_LINK);
	ATF_CHECK_STREQ(e.fe_target, "/etc/target");
	ATF_CHECK_EQ(e.fe_mode, S_IFLNK);

	ATF_REQUIRE_EQ(mlsd("type=OS.unix=chr-5/0; tty", &e), 1);
	ATF_CHECK_EQ(e.fe_type, FTPL_T_OTHER);
	ATF_REQUIRE_EQ(mlsd("unique=801U1;type=file;size=0; caf\xc3\xa9",
	    &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "caf\xc3\xa9");
}

ATF_TC_WITHOUT_HEAD(mlsd_skip_reject);
ATF_TC_BODY(mlsd_skip_reject, tc)
{
	struct ftpl_entry	 e;
	const char		 nul[] = "type=OS.unix=slink:a\0b; f";

	ATF_CHECK_EQ(mlsd("type=cdir;modify=20200101000000; /home/u", &e), 0);
	ATF_CHECK_EQ(mlsd("type=pdir;modify=20200101000000; ..", &e), 0);
	ATF_CHECK_EQ(mlsd("type=dir; .", &e), 0);
	ATF_CHECK_EQ(mlsd("", &e), 0);
	ATF_CHECK_EQ(mlsd("type=file;size=1;nospace", &e), -1);
	ATF_CHECK_EQ(mlsd("type=file; a/b", &e), -1);
	ATF_CHECK_EQ(mlsd("type=file; ", &e), -1);
	ATF_CHECK_EQ(ftpl_parse_mlsd(nul, sizeof(nul) - 1, &e), -1);
}

/* Bad optional facts are dropped, the entry kept. */
ATF_TC_WITHOUT_HEAD(mlsd_lenient);
ATF_TC_BODY(mlsd_lenient, tc)
{
	struct ftpl_entry	 e;

	ATF_REQUIRE_EQ(mlsd("type=file;size=x1;modify=20201301000000;"
	    "unix.mode=0x75;broken;unix.uid=-1; f", &e), 1);
	ATF_CHECK_STREQ(e.fe_name, "f");
	ATF_CHECK((e.fe_flags & (FTPL_F_SIZE | FTPL_F_MODE |
	    FTPL_F_IDS)) == 0);
	ATF_CHECK_EQ(e.fe_mtime, 0);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG);
	ATF_CHECK_STREQ(e.fe_owner, "-1");

	/* pyftpdlib 1.5 writes Python's octal notation. */
	ATF_REQUIRE_EQ(mlsd("modify=20261203163702;size=3;type=file;"
	    "unix.gid=0;unix.mode=0o644;unix.uid=0; f one.txt", &e), 1);
	ATF_CHECK_EQ(e.fe_mode, S_IFREG | 0644);
	ATF_CHECK(e.fe_flags & FTPL_F_IDS);
	ATF_CHECK_STREQ(e.fe_name, "f one.txt");
	ATF_CHECK_EQ(e.fe_mtime, utc(2026, 12, 3, 16, 37, 2));
}

struct collect {
	char	 lines[8][64];
	int	 n;
};

static int
collect_cb(const char *p, size_t len, void *arg)
{
	struct collect	*c = arg;

	if (c->n >= 8 || len >= sizeof(c->lines[0]))
		return -1;
	memcpy(c->lines[c->n], p, len);
	c->lines[c->n][len] = '\0';
	c->n++;
	return 0;
}

ATF_TC_WITHOUT_HEAD(lines);
ATF_TC_BODY(lines, tc)
{
	static struct ftpl_lbuf	 lb;
	static char		 big[FTPL_LINE_MAX + 10];
	struct collect		 c;
	const char		*in = "one\r\ntwo\n\nthree\r\nlast";
	size_t			 i;

	/* One byte at a time. */
	memset(&c, 0, sizeof(c));
	ftpl_lines_init(&lb);
	for (i = 0; i < strlen(in); i++)
		ATF_REQUIRE_EQ(ftpl_lines_feed(&lb, in + i, 1, collect_cb, &c),
		    0);
	ATF_REQUIRE_EQ(ftpl_lines_end(&lb, collect_cb, &c), 0);
	ATF_REQUIRE_EQ(c.n, 5);
	ATF_CHECK_STREQ(c.lines[0], "one");
	ATF_CHECK_STREQ(c.lines[1], "two");
	ATF_CHECK_STREQ(c.lines[2], "");
	ATF_CHECK_STREQ(c.lines[3], "three");
	ATF_CHECK_STREQ(c.lines[4], "last");

	/* A line longer than the buffer is dropped, the next one kept. */
	memset(&c, 0, sizeof(c));
	memset(big, 'x', sizeof(big));
	ATF_REQUIRE_EQ(ftpl_lines_feed(&lb, "a\nbb", 4, collect_cb, &c), 0);
	ATF_REQUIRE_EQ(ftpl_lines_feed(&lb, big, sizeof(big), collect_cb,
	    &c), 0);
	ATF_REQUIRE_EQ(ftpl_lines_feed(&lb, big, 100, collect_cb, &c), 0);
	ATF_REQUIRE_EQ(ftpl_lines_feed(&lb, "\nok\n", 4, collect_cb, &c), 0);
	ATF_REQUIRE_EQ(ftpl_lines_end(&lb, collect_cb, &c), 0);
	ATF_REQUIRE_EQ(c.n, 2);
	ATF_CHECK_STREQ(c.lines[0], "a");
	ATF_CHECK_STREQ(c.lines[1], "ok");

	/* A callback's error stops the split. */
	memset(&c, 0, sizeof(c));
	c.n = 8;
	ATF_CHECK_EQ(ftpl_lines_feed(&lb, "x\ny\n", 4, collect_cb, &c), -1);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, vsftpd);
	ATF_TP_ADD_TC(tp, gnu_ls);
	ATF_TP_ADD_TC(tp, skipped);
	ATF_TP_ADD_TC(tp, symlink);
	ATF_TP_ADD_TC(tp, modes);
	ATF_TP_ADD_TC(tp, columns);
	ATF_TP_ADD_TC(tp, rejected);
	ATF_TP_ADD_TC(tp, year_wrap);
	ATF_TP_ADD_TC(tp, feb29);
	ATF_TP_ADD_TC(tp, dos);
	ATF_TP_ADD_TC(tp, mlsd_lines);
	ATF_TP_ADD_TC(tp, mlsd_skip_reject);
	ATF_TP_ADD_TC(tp, mlsd_lenient);
	ATF_TP_ADD_TC(tp, lines);
	return atf_no_error();
}
