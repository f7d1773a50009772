/*
 * Unit tests for the configuration grammar (daemon/parse.y): golden
 * files in tests/config, round trips through conf_print(), file
 * permission checks and the built-in defaults.
 *
 * tests/config/NAME.conf with NAME.out must parse, and conf_print()
 * must give NAME.out, where @CONTROL_SOCKET@ and @KNOWN_HOSTS@ stand
 * for the defaults that depend on the user.  NAME.conf with NAME.err
 * must fail with exactly the lines of NAME.err on stderr.
 *
 * The data directory is found from the config variable coreastrad_src
 * or the environment variable COREASTRAD_SRC (the top of the source
 * tree), else by walking up from the test program's directory.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define T_FILE_MAX	(1024 * 1024)
#define T_XDG		"/run/user/t_config"
#define T_HOME		"/home/t_config"

/* dir/name into buf, which must be big enough. */
static void
t_join(char *buf, size_t size, const char *dir, const char *name)
{
	int	 n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	ATF_REQUIRE(n >= 0 && (size_t)n < size);
}

/* Read a whole small file into a NUL-terminated string. */
static char *
t_slurp(const char *path)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	ATF_REQUIRE_MSG((fd = open(path, O_RDONLY)) != -1, "open %s: %s",
	    path, strerror(errno));
	ATF_REQUIRE((buf = malloc(T_FILE_MAX + 1)) != NULL);
	while (len < T_FILE_MAX &&
	    (n = read(fd, buf + len, T_FILE_MAX - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Write s to path with mode 0600, whatever the umask. */
static void
t_write(const char *path, const char *s)
{
	size_t	 len = strlen(s);
	int	 fd;

	unlink(path);
	ATF_REQUIRE_MSG((fd = open(path, O_WRONLY | O_CREAT | O_EXCL,
	    0600)) != -1, "create %s: %s", path, strerror(errno));
	ATF_REQUIRE(fchmod(fd, 0600) == 0);
	ATF_REQUIRE((size_t)write(fd, s, len) == len);
	ATF_REQUIRE(close(fd) == 0);
}

/* Whether dir/tests/config holds the golden files. */
static int
t_try_datadir(const char *top, char *dir, size_t size)
{
	struct stat	 st;
	char		 probe[PATH_MAX];

	t_join(dir, size, top, "tests/config");
	t_join(probe, sizeof(probe), dir, "all.conf");
	return stat(probe, &st) == 0;
}

/* Locate tests/config; see the comment at the top. */
static void
t_datadir(const atf_tc_t *tc, char *dir, size_t size)
{
	const char	*top, *srcdir;
	char		 up[PATH_MAX];
	int		 i;

	top = atf_tc_get_config_var_wd(tc, "coreastrad_src",
	    getenv("COREASTRAD_SRC"));
	if (top != NULL) {
		ATF_REQUIRE_MSG(t_try_datadir(top, dir, size),
		    "no tests/config under %s", top);
		return;
	}
	srcdir = atf_tc_get_config_var_wd(tc, "srcdir", ".");
	snprintf(up, sizeof(up), "%s", srcdir);
	for (i = 0; i < 5; i++) {
		if (t_try_datadir(up, dir, size))
			return;
		strlcat(up, "/..", sizeof(up));
	}
	atf_tc_fail("tests/config not found above %s; set COREASTRAD_SRC",
	    srcdir);
}

/* A fresh private directory for the files under test. */
static void
t_tmpdir(char *dir, size_t size)
{
	const char	*base;

	if ((base = getenv("TMPDIR")) == NULL || base[0] != '/')
		base = "/tmp";
	snprintf(dir, size, "%s/t_config.XXXXXX", base);
	ATF_REQUIRE(mkdtemp(dir) != NULL);
}

/* conf_parse() with stderr captured into *err (caller frees). */
static int
t_parse(const char *path, struct conf *c, char **err)
{
	char	 errpath[PATH_MAX];
	int	 fd, saved, rv;

	snprintf(errpath, sizeof(errpath), "%s.stderr", path);
	ATF_REQUIRE((fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC,
	    0600)) != -1);
	fflush(stderr);
	ATF_REQUIRE((saved = dup(STDERR_FILENO)) != -1);
	ATF_REQUIRE(dup2(fd, STDERR_FILENO) != -1);
	rv = conf_parse(path, c);
	fflush(stderr);
	ATF_REQUIRE(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	close(fd);
	*err = t_slurp(errpath);
	unlink(errpath);
	return rv;
}

/* conf_print() into a string (caller frees). */
static char *
t_print(const struct conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	ATF_REQUIRE((fp = open_memstream(&buf, &len)) != NULL);
	conf_print(fp, c);
	ATF_REQUIRE(fclose(fp) == 0);
	return buf;
}

/* Replace every token in s with value; returns a new string. */
static char *
t_subst(char *s, const char *token, const char *value)
{
	char	*out, *p, *q;
	size_t	 tlen = strlen(token), vlen = strlen(value);

	ATF_REQUIRE((out = malloc(strlen(s) * (vlen + 1) + 1)) != NULL);
	for (p = s, q = out; *p != '\0';) {
		if (strncmp(p, token, tlen) == 0) {
			memcpy(q, value, vlen);
			q += vlen;
			p += tlen;
		} else
			*q++ = *p++;
	}
	*q = '\0';
	free(s);
	return out;
}

/* Remove every "dir/" from s, in place, so messages name files only. */
static void
t_strip(char *s, const char *dir)
{
	char	 prefix[PATH_MAX];
	char	*p;
	size_t	 plen;

	snprintf(prefix, sizeof(prefix), "%s/", dir);
	plen = strlen(prefix);
	while ((p = strstr(s, prefix)) != NULL)
		memmove(p, p + plen, strlen(p + plen) + 1);
}

/*
 * The user-dependent defaults as the manual states them, for a test
 * process whose XDG_RUNTIME_DIR and HOME are T_XDG and T_HOME.
 */
static void
t_expect_paths(char *sock, char *kh, size_t size)
{
	if (geteuid() == 0) {
		snprintf(sock, size, "/run/coreastrad.sock");
		snprintf(kh, size, "/var/lib/coreastrad/known_hosts");
	} else {
		snprintf(sock, size, "%s/coreastrad.sock", T_XDG);
		snprintf(kh, size, "%s/.coreastrad_known_hosts", T_HOME);
	}
}

/* NAME.out with its placeholders filled in. */
static char *
t_expected_out(const char *path)
{
	char	 sock[PATH_MAX], kh[PATH_MAX];
	char	*s;

	t_expect_paths(sock, kh, sizeof(sock));
	s = t_slurp(path);
	s = t_subst(s, "@CONTROL_SOCKET@", sock);
	return t_subst(s, "@KNOWN_HOSTS@", kh);
}

/* Copy datadir/name.conf to tmp/name.conf, mode 0600; path out. */
static void
t_stage(const char *datadir, const char *tmp, const char *name,
    char *path, size_t size)
{
	char	 src[PATH_MAX];
	char	*s;

	snprintf(src, sizeof(src), "%s/%s.conf", datadir, name);
	snprintf(path, size, "%s/%s.conf", tmp, name);
	s = t_slurp(src);
	t_write(path, s);
	free(s);
}

/* Parse printed text again and check it prints the same. */
static void
t_roundtrip(const char *tmp, const char *name, const char *printed)
{
	struct conf	 c;
	char		 path[PATH_MAX];
	char		*err, *again;

	snprintf(path, sizeof(path), "%s/%s.rt.conf", tmp, name);
	t_write(path, printed);
	conf_defaults(&c);
	ATF_CHECK_EQ_MSG(t_parse(path, &c, &err), 0,
	    "%s: printed form does not parse: %s", name, err);
	again = t_print(&c);
	ATF_CHECK_STREQ_MSG(printed, again, "%s: round trip differs", name);
	free(again);
	free(err);
	unlink(path);
}

/* One valid golden file: parse, print, compare, round trip. */
static void
t_golden_valid(const char *datadir, const char *tmp, const char *name)
{
	struct conf	 c;
	char		 path[PATH_MAX], out[PATH_MAX];
	char		*err, *printed, *expect;

	t_stage(datadir, tmp, name, path, sizeof(path));
	snprintf(out, sizeof(out), "%s/%s.out", datadir, name);
	conf_defaults(&c);
	ATF_CHECK_EQ_MSG(t_parse(path, &c, &err), 0, "%s: %s", name, err);
	ATF_CHECK_STREQ_MSG(err, "", "%s: unexpected stderr", name);
	ATF_CHECK_STREQ_MSG(c.c_file, path, "%s: c_file", name);
	printed = t_print(&c);
	expect = t_expected_out(out);
	ATF_CHECK_STREQ_MSG(printed, expect, "%s: output differs from %s",
	    name, out);
	t_roundtrip(tmp, name, printed);
	free(expect);
	free(printed);
	free(err);
	unlink(path);
}

/* One invalid golden file: -1, *conf untouched, stderr as NAME.err. */
static void
t_golden_invalid(const char *datadir, const char *tmp, const char *name)
{
	struct conf	 c, saved;
	char		 path[PATH_MAX], errfile[PATH_MAX];
	char		*err, *expect;

	t_stage(datadir, tmp, name, path, sizeof(path));
	snprintf(errfile, sizeof(errfile), "%s/%s.err", datadir, name);
	memset(&c, 0xa5, sizeof(c));
	memcpy(&saved, &c, sizeof(saved));
	ATF_CHECK_EQ_MSG(t_parse(path, &c, &err), -1, "%s: accepted", name);
	ATF_CHECK_MSG(memcmp(&c, &saved, sizeof(c)) == 0,
	    "%s: conf changed on error", name);
	t_strip(err, tmp);
	expect = t_slurp(errfile);
	ATF_CHECK_STREQ_MSG(err, expect, "%s: stderr differs from %s", name,
	    errfile);
	free(expect);
	free(err);
	unlink(path);
}

/* Run fn on each NAME in datadir having NAME.<ext>; returns the count. */
static int
t_foreach(const char *datadir, const char *tmp, const char *ext,
    void (*fn)(const char *, const char *, const char *))
{
	DIR		*d;
	struct dirent	*de;
	char		 name[NAME_MAX + 1];
	size_t		 len, elen = strlen(ext);
	int		 n = 0;

	ATF_REQUIRE((d = opendir(datadir)) != NULL);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= elen || strcmp(de->d_name + len - elen, ext) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - elen),
		    de->d_name);
		fn(datadir, tmp, name);
		n++;
	}
	closedir(d);
	return n;
}

/* Fix the environment the user-dependent defaults read. */
static void
t_env(void)
{
	ATF_REQUIRE(setenv("XDG_RUNTIME_DIR", T_XDG, 1) == 0);
	ATF_REQUIRE(setenv("HOME", T_HOME, 1) == 0);
}

ATF_TC_WITHOUT_HEAD(golden_valid);
ATF_TC_BODY(golden_valid, tc)
{
	char	 datadir[PATH_MAX], tmp[PATH_MAX];
	int	 n;

	t_env();
	t_datadir(tc, datadir, sizeof(datadir));
	t_tmpdir(tmp, sizeof(tmp));
	n = t_foreach(datadir, tmp, ".out", t_golden_valid);
	ATF_CHECK_MSG(n >= 7, "only %d valid golden files in %s", n, datadir);
	rmdir(tmp);
}

ATF_TC_WITHOUT_HEAD(golden_invalid);
ATF_TC_BODY(golden_invalid, tc)
{
	char	 datadir[PATH_MAX], tmp[PATH_MAX];
	int	 n;

	t_env();
	t_datadir(tc, datadir, sizeof(datadir));
	t_tmpdir(tmp, sizeof(tmp));
	n = t_foreach(datadir, tmp, ".err", t_golden_invalid);
	ATF_CHECK_MSG(n >= 20, "only %d invalid golden files in %s", n,
	    datadir);
	rmdir(tmp);
}

/* The defaults, spelled out as the manual gives them. */
ATF_TC_WITHOUT_HEAD(defaults);
ATF_TC_BODY(defaults, tc)
{
	struct conf	 c;
	char		 sock[PATH_MAX], kh[PATH_MAX];

	t_env();
	t_expect_paths(sock, kh, sizeof(sock));
	memset(&c, 0xa5, sizeof(c));
	conf_defaults(&c);
	ATF_CHECK_STREQ(c.c_file, "");
	ATF_CHECK_EQ(c.c_nlisten, 1);
	ATF_CHECK_STREQ(c.c_listen[0].l_addr, "127.0.0.1");
	ATF_CHECK_EQ(c.c_listen[0].l_port, 8000);
	ATF_CHECK_EQ(c.c_max_sessions, 20);
	ATF_CHECK_EQ(c.c_max_clients, 512);
	ATF_CHECK_EQ(c.c_max_body, 256 * 1024);
	ATF_CHECK_EQ(c.c_max_file_size, 0);
	ATF_CHECK_EQ(c.c_max_output, 1024 * 1024);
	ATF_CHECK_EQ(c.c_idle_timeout, 1800);
	ATF_CHECK_EQ(c.c_connect_timeout, 10);
	ATF_CHECK_EQ(c.c_command_timeout, 60);
	ATF_CHECK_EQ(c.c_header_timeout, 10);
	ATF_CHECK_EQ(c.c_keepalive_timeout, 60);
	ATF_CHECK_EQ(c.c_keepalive, 30);
	ATF_CHECK_STREQ(c.c_user, "_coreastra");
	ATF_CHECK_STREQ(c.c_chroot, "/var/empty");
	ATF_CHECK_STREQ(c.c_control_socket, sock);
	ATF_CHECK_STREQ(c.c_control_group, "");
	ATF_CHECK_STREQ(c.c_known_hosts, kh);
	ATF_CHECK_EQ(c.c_hostkey_policy, HOSTKEY_ACCEPT_NEW);
	ATF_CHECK_STREQ(conf_policy_name(c.c_hostkey_policy), "accept-new");
	ATF_CHECK_EQ(c.c_norigins, 2);
	ATF_CHECK_STREQ(c.c_origins[0], "http://localhost:3000");
	ATF_CHECK_STREQ(c.c_origins[1], "http://127.0.0.1:3000");
	ATF_CHECK_STREQ(c.c_ca_file, "/etc/ssl/certs/ca-certificates.crt");
	ATF_CHECK_EQ(c.c_ftps_insecure_ok, 0);
}

/* Why the non-root default paths are wrong, or NULL. */
static const char *
t_user_paths(void)
{
	struct conf	 c;
	char		 want[PATH_MAX];
	unsigned long	 uid = geteuid();

	setenv("XDG_RUNTIME_DIR", "/run/user/xdg", 1);
	setenv("HOME", "/home/someone", 1);
	conf_defaults(&c);
	if (strcmp(c.c_control_socket, "/run/user/xdg/coreastrad.sock") != 0)
		return "control socket with XDG_RUNTIME_DIR";
	if (strcmp(c.c_known_hosts,
	    "/home/someone/.coreastrad_known_hosts") != 0)
		return "known hosts with HOME";

	unsetenv("XDG_RUNTIME_DIR");
	setenv("HOME", "relative", 1);
	conf_defaults(&c);
	snprintf(want, sizeof(want), "/tmp/coreastrad-%lu.sock", uid);
	if (strcmp(c.c_control_socket, want) != 0)
		return "control socket without XDG_RUNTIME_DIR";
	snprintf(want, sizeof(want), "/tmp/coreastrad-%lu-known_hosts", uid);
	if (strcmp(c.c_known_hosts, want) != 0)
		return "known hosts with a relative HOME";
	return NULL;
}

/* As root, the check runs in a child that became nobody. */
ATF_TC_WITHOUT_HEAD(defaults_user);
ATF_TC_BODY(defaults_user, tc)
{
	const char	*why;
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0) {
		if ((why = t_user_paths()) != NULL)
			atf_tc_fail("%s", why);
		return;
	}
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1)
			_exit(2);
		if ((why = t_user_paths()) != NULL) {
			fprintf(stderr, "%s\n", why);
			_exit(1);
		}
		_exit(0);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_REQUIRE(WIFEXITED(status));
	ATF_CHECK_MSG(WEXITSTATUS(status) == 0,
	    "non-root default paths wrong (see stderr), status %d",
	    WEXITSTATUS(status));
}

/* A file with mode m is refused with message why. */
static void
t_refused(const char *tmp, mode_t m, const char *why)
{
	struct conf	 c;
	char		 path[PATH_MAX], want[PATH_MAX + 64];
	char		*err;

	t_join(path, sizeof(path), tmp, "perm.conf");
	t_write(path, "max sessions 5\n");
	ATF_REQUIRE(chmod(path, m) == 0);
	conf_defaults(&c);
	ATF_CHECK_EQ(t_parse(path, &c, &err), -1);
	ATF_CHECK_EQ(c.c_max_sessions, 20);
	snprintf(want, sizeof(want), "%s: %s\n", path, why);
	ATF_CHECK_STREQ(err, want);
	free(err);
	unlink(path);
}

ATF_TC_WITHOUT_HEAD(perm_writable);
ATF_TC_BODY(perm_writable, tc)
{
	struct conf	 c;
	char		 tmp[PATH_MAX], path[PATH_MAX];
	char		*err;

	t_tmpdir(tmp, sizeof(tmp));
	t_refused(tmp, 0602, "file is writable by others");
	t_refused(tmp, 0666, "file is writable by others");
	t_refused(tmp, 0620, "file is writable by group");

	/* Readable by all is fine. */
	t_join(path, sizeof(path), tmp, "ok.conf");
	t_write(path, "max sessions 5\n");
	ATF_REQUIRE(chmod(path, 0644) == 0);
	conf_defaults(&c);
	ATF_CHECK_EQ(t_parse(path, &c, &err), 0);
	ATF_CHECK_EQ(c.c_max_sessions, 5);
	free(err);
	unlink(path);
	rmdir(tmp);
}

ATF_TC(perm_owner);
ATF_TC_HEAD(perm_owner, tc)
{
	atf_tc_set_md_var(tc, "descr", "a file owned by another user is "
	    "refused (needs root to give a file away)");
	atf_tc_set_md_var(tc, "require.user", "root");
}
ATF_TC_BODY(perm_owner, tc)
{
	struct conf	 c;
	char		 tmp[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64];
	char		*err;

	t_tmpdir(tmp, sizeof(tmp));
	t_join(path, sizeof(path), tmp, "owner.conf");
	t_write(path, "max sessions 5\n");
	ATF_REQUIRE(chown(path, 65534, 65534) == 0);
	conf_defaults(&c);
	ATF_CHECK_EQ(t_parse(path, &c, &err), -1);
	snprintf(want, sizeof(want), "%s: file is not owned by root or the "
	    "running user\n", path);
	ATF_CHECK_STREQ(err, want);
	free(err);
	unlink(path);
	rmdir(tmp);
}

ATF_TC_WITHOUT_HEAD(missing_file);
ATF_TC_BODY(missing_file, tc)
{
	struct conf	 c, saved;
	char		 tmp[PATH_MAX], path[PATH_MAX], want[PATH_MAX + 64];
	char		*err;

	t_tmpdir(tmp, sizeof(tmp));
	t_join(path, sizeof(path), tmp, "absent.conf");
	conf_defaults(&c);
	memcpy(&saved, &c, sizeof(saved));
	ATF_CHECK_EQ(t_parse(path, &c, &err), -1);
	ATF_CHECK(memcmp(&c, &saved, sizeof(c)) == 0);
	snprintf(want, sizeof(want), "%s: %s\n", path, strerror(ENOENT));
	ATF_CHECK_STREQ(err, want);
	free(err);
	rmdir(tmp);
}

/* A second parse starts from the defaults, not from the first file. */
ATF_TC_WITHOUT_HEAD(reparse);
ATF_TC_BODY(reparse, tc)
{
	struct conf	 c;
	char		 tmp[PATH_MAX], path[PATH_MAX];
	char		*err;

	t_tmpdir(tmp, sizeof(tmp));
	t_join(path, sizeof(path), tmp, "a.conf");
	t_write(path, "x = 5\nmax sessions $x\nlisten on ::1\n");
	conf_defaults(&c);
	ATF_REQUIRE_EQ(t_parse(path, &c, &err), 0);
	free(err);
	ATF_CHECK_EQ(c.c_max_sessions, 5);
	unlink(path);

	/* Macros do not survive into the next file either. */
	t_write(path, "max clients 9\nmax sessions $x\n");
	ATF_CHECK_EQ(t_parse(path, &c, &err), -1);
	ATF_CHECK(strstr(err, ":2: macro 'x' not defined") != NULL);
	free(err);
	unlink(path);

	t_write(path, "max clients 9\n");
	ATF_REQUIRE_EQ(t_parse(path, &c, &err), 0);
	free(err);
	ATF_CHECK_EQ(c.c_max_clients, 9);
	ATF_CHECK_EQ(c.c_max_sessions, 20);
	ATF_CHECK_EQ(c.c_nlisten, 1);
	ATF_CHECK_STREQ(c.c_listen[0].l_addr, "127.0.0.1");
	unlink(path);
	rmdir(tmp);
}

/* The defaults print as a file that parses back to the same. */
ATF_TC_WITHOUT_HEAD(roundtrip_defaults);
ATF_TC_BODY(roundtrip_defaults, tc)
{
	struct conf	 c;
	char		 tmp[PATH_MAX];
	char		*printed;

	t_tmpdir(tmp, sizeof(tmp));
	conf_defaults(&c);
	printed = t_print(&c);
	t_roundtrip(tmp, "defaults", printed);
	free(printed);
	rmdir(tmp);
}

/* etc/coreastrad.conf, the commented example, parses. */
ATF_TC_WITHOUT_HEAD(example);
ATF_TC_BODY(example, tc)
{
	struct conf	 c;
	char		 datadir[PATH_MAX], src[PATH_MAX], tmp[PATH_MAX];
	char		 path[PATH_MAX];
	char		*s, *err;

	t_datadir(tc, datadir, sizeof(datadir));
	t_join(src, sizeof(src), datadir, "../../etc/coreastrad.conf");
	t_tmpdir(tmp, sizeof(tmp));
	t_join(path, sizeof(path), tmp, "coreastrad.conf");
	s = t_slurp(src);
	t_write(path, s);
	free(s);
	conf_defaults(&c);
	ATF_CHECK_EQ_MSG(t_parse(path, &c, &err), 0, "%s", err);
	ATF_CHECK_STREQ(err, "");
	free(err);
	unlink(path);
	rmdir(tmp);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, golden_valid);
	ATF_TP_ADD_TC(tp, golden_invalid);
	ATF_TP_ADD_TC(tp, defaults);
	ATF_TP_ADD_TC(tp, defaults_user);
	ATF_TP_ADD_TC(tp, perm_writable);
	ATF_TP_ADD_TC(tp, perm_owner);
	ATF_TP_ADD_TC(tp, missing_file);
	ATF_TP_ADD_TC(tp, reparse);
	ATF_TP_ADD_TC(tp, roundtrip_defaults);
	ATF_TP_ADD_TC(tp, example);
	return atf_no_error();
}
