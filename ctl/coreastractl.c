/*
 * coreastractl: show and steer a running coreastrad through its control
 * socket.  One command per run: connect, say hello, ask, print the
 * answer as a table or as JSON, exit 0 (ok), 1 (error) or 2 (usage).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "coreastra_proto.h"
#include "imsg.h"
#include "util.h"

#define CTL_TIMEOUT_MS		10000	/* the whole exchange */
#define CTL_MAX_SESSIONS	100000
#define CTL_SOCKET_ROOT		"/run/coreastrad.sock"
#define CTL_NCOLS		11	/* show sessions table */
#define CTL_CELL		64

enum ctl_action {
	CTL_NONE = 0,
	CTL_SHOW_SESSIONS,
	CTL_SHOW_SESSION,
	CTL_SHOW_STATS,
	CTL_KILL,
	CTL_CLEANUP,
	CTL_RELOAD,
	CTL_LOG_VERBOSE,
	CTL_LOG_BRIEF
};

enum ctl_toktype {
	TOK_NONE = 0,		/* end of a table */
	TOK_END,		/* the command may stop here */
	TOK_KEYWORD,
	TOK_ID,			/* a session id or unique prefix */
	TOK_TARGET		/* a session id, prefix, or "all" */
};

struct ctl_token {
	enum ctl_toktype	 t_type;
	const char		*t_word;
	enum ctl_action		 t_action;
	const struct ctl_token	*t_next;
};

struct ctl_cmd {
	enum ctl_action	 c_action;
	char		 c_id[P_ID_LEN];
};

struct ctl {
	struct imsgbuf		 x_ib;
	const char		*x_path;
	int			 x_json;
	uint64_t		 x_deadline;	/* mono_ms */
	struct msg_session	*x_sess;
	size_t			 x_nsess;
};

static const struct ctl_token t_end[] = {
	{ TOK_END, NULL, CTL_NONE, NULL },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const struct ctl_token t_show_id[] = {
	{ TOK_END, NULL, CTL_NONE, NULL },
	{ TOK_TARGET, "session id", CTL_SHOW_SESSION, t_end },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

/* "session" and "sessions" mean the same, so "ses" is not ambiguous. */
static const struct ctl_token t_show[] = {
	{ TOK_KEYWORD, "sessions", CTL_SHOW_SESSIONS, t_show_id },
	{ TOK_KEYWORD, "session", CTL_SHOW_SESSIONS, t_show_id },
	{ TOK_KEYWORD, "stats", CTL_SHOW_STATS, t_end },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const struct ctl_token t_kill_id[] = {
	{ TOK_TARGET, "session id or all", CTL_NONE, t_end },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const struct ctl_token t_kill[] = {
	{ TOK_KEYWORD, "session", CTL_KILL, t_kill_id },
	{ TOK_KEYWORD, "sessions", CTL_KILL, t_kill_id },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const struct ctl_token t_log[] = {
	{ TOK_KEYWORD, "verbose", CTL_LOG_VERBOSE, t_end },
	{ TOK_KEYWORD, "brief", CTL_LOG_BRIEF, t_end },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const struct ctl_token t_main[] = {
	{ TOK_KEYWORD, "show", CTL_NONE, t_show },
	{ TOK_KEYWORD, "kill", CTL_NONE, t_kill },
	{ TOK_KEYWORD, "cleanup", CTL_CLEANUP, t_end },
	{ TOK_KEYWORD, "reload", CTL_RELOAD, t_end },
	{ TOK_KEYWORD, "log", CTL_NONE, t_log },
	{ TOK_NONE, NULL, CTL_NONE, NULL }
};

static const char *ctl_states[] = {
	"unknown", "connecting", "ready", "busy", "dead"
};
static const char *ctl_ops[] = {
	"none", "list", "download", "upload", "execute"
};
static const char *ctl_tls[] = { "none", "explicit", "implicit" };

static const struct ctl_col {
	const char	*col_name;
	int		 col_max;	/* wider cells are cut */
	int		 col_right;
} ctl_cols[CTL_NCOLS] = {
	{ "ID",			8,	0 },
	{ "TYPE",		4,	0 },
	{ "USER@HOST:PORT",	40,	0 },
	{ "NAME",		20,	0 },
	{ "STATE",		10,	0 },
	{ "IDLE",		8,	1 },
	{ "LEFT",		8,	1 },
	{ "PID",		10,	1 },
	{ "IN",			8,	1 },
	{ "OUT",		8,	1 },
	{ "OPS",		20,	1 }
};

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: coreastractl [-j] [-s socket] command "
	    "[argument ...]\n"
	    "commands:\n"
	    "  show sessions          show session ID\n"
	    "  show stats\n"
	    "  kill session ID        kill sessions all\n"
	    "  cleanup                reload\n"
	    "  log verbose            log brief\n");
	exit(2);
}

/* Print what a table expects, for a usage message. */
static void
ctl_expected(const struct ctl_token *t)
{
	const char	*sep = " ";

	fprintf(stderr, "expected");
	for (; t->t_type != TOK_NONE; t++) {
		if (t->t_type == TOK_END)
			continue;
		fprintf(stderr, "%s%s", sep, t->t_word);
		sep = " or ";
	}
	fprintf(stderr, "\n");
}

/*
 * The keyword word names in t: an exact match, or the one meaning all
 * matching prefixes share.  NULL when none; exits when ambiguous.
 */
static const struct ctl_token *
ctl_match_keyword(const struct ctl_token *t, const char *word)
{
	const struct ctl_token	*found = NULL;
	size_t			 len = strlen(word);

	for (; t->t_type != TOK_NONE; t++) {
		if (t->t_type != TOK_KEYWORD || len == 0 ||
		    strncmp(t->t_word, word, len) != 0)
			continue;
		if (strlen(t->t_word) == len)
			return t;
		if (found != NULL && (found->t_action != t->t_action ||
		    found->t_next != t->t_next)) {
			fprintf(stderr, "coreastractl: \"%s\" is ambiguous: "
			    "%s or %s\n", word, found->t_word, t->t_word);
			exit(2);
		}
		if (found == NULL)
			found = t;
	}
	return found;
}

/* Accept a session id or prefix: hex digits and dashes, lowercased. */
static void
ctl_parse_id(const char *word, struct ctl_cmd *cmd)
{
	size_t	 i, len = strlen(word);

	if (len == 0 || len >= sizeof(cmd->c_id)) {
		fprintf(stderr, "coreastractl: invalid session id \"%s\"\n",
		    word);
		exit(2);
	}
	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)word[i]) && word[i] != '-') {
			fprintf(stderr, "coreastractl: invalid session id "
			    "\"%s\"\n", word);
			exit(2);
		}
		cmd->c_id[i] = tolower((unsigned char)word[i]);
	}
	cmd->c_id[len] = '\0';
}

/* A word where a table takes a session id (or "all"). */
static const struct ctl_token *
ctl_match_id(const struct ctl_token *t, const char *word,
    struct ctl_cmd *cmd)
{
	for (; t->t_type != TOK_NONE; t++)
		if (t->t_type == TOK_ID || t->t_type == TOK_TARGET)
			break;
	if (t->t_type == TOK_NONE)
		return NULL;
	if (t->t_type == TOK_TARGET && strcmp(word, "all") == 0) {
		strlcpy(cmd->c_id, "all", sizeof(cmd->c_id));
		return t;
	}
	ctl_parse_id(word, cmd);
	return t;
}

/* Walk the keyword tables over argv; exits 2 on a usage error. */
static void
ctl_parse(int argc, char *argv[], struct ctl_cmd *cmd)
{
	const struct ctl_token	*table = t_main, *t;
	int			 i;

	memset(cmd, 0, sizeof(*cmd));
	for (i = 0; i < argc; i++) {
		if ((t = ctl_match_keyword(table, argv[i])) == NULL &&
		    (t = ctl_match_id(table, argv[i], cmd)) == NULL) {
			fprintf(stderr, "coreastractl: %s \"%s\": ",
			    table == t_end ? "unexpected argument" :
			    "unknown word", argv[i]);
			if (table == t_end)
				fprintf(stderr, "nothing more was expected\n");
			else
				ctl_expected(table);
			exit(2);
		}
		if (t->t_action != CTL_NONE)
			cmd->c_action = t->t_action;
		table = t->t_next;
	}
	for (t = table; t->t_type != TOK_NONE; t++)
		if (t->t_type == TOK_END)
			break;
	if (t->t_type != TOK_END || cmd->c_action == CTL_NONE) {
		if (argc == 0)
			usage();
		fprintf(stderr, "coreastractl: incomplete command: ");
		ctl_expected(table);
		exit(2);
	}
	/* "show session all" is the whole list. */
	if (cmd->c_action == CTL_SHOW_SESSION &&
	    strcmp(cmd->c_id, "all") == 0) {
		cmd->c_action = CTL_SHOW_SESSIONS;
		cmd->c_id[0] = '\0';
	}
}

/* Build dir/name from an absolute directory in the environment. */
static int
ctl_envpath(char *dst, size_t size, const char *var, const char *name)
{
	const char	*dir;
	int		 n;

	if ((dir = getenv(var)) == NULL || dir[0] != '/')
		return -1;
	n = snprintf(dst, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return 0;
}

/*
 * The daemon's default socket (see conf_default_paths in parse.y): the
 * system path for root, else the user's runtime directory or /tmp.  A
 * user whose own socket is absent reaches a system daemon, if there is
 * one, as a member of its control group.
 */
static void
ctl_default_socket(char *buf, size_t len)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	uid_t			 uid = geteuid();

	if (uid == 0) {
		strlcpy(buf, CTL_SOCKET_ROOT, len);
		return;
	}
	if (ctl_envpath(buf, sizeof(sun.sun_path), "XDG_RUNTIME_DIR",
	    "coreastrad.sock") == -1)
		snprintf(buf, len, "/tmp/coreastrad-%lu.sock",
		    (unsigned long)uid);
	if (lstat(buf, &st) == -1 && errno == ENOENT &&
	    lstat(CTL_SOCKET_ROOT, &st) == 0 && S_ISSOCK(st.st_mode))
		strlcpy(buf, CTL_SOCKET_ROOT, len);
}

/* Connect to the daemon, or say plainly why not and exit 1. */
static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	const char		*hint = "";
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(2, "socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED)
		hint = " (is coreastrad running?)";
	else if (errno == EACCES || errno == EPERM)
		hint = " (root, the daemon's user or its control group only)";
	fprintf(stderr, "coreastractl: cannot connect to %s: %s%s\n", path,
	    strerror(errno), hint);
	exit(1);
}

/* Milliseconds left before the deadline; exits once it has passed. */
static int
ctl_time_left(struct ctl *x)
{
	uint64_t	 now = mono_ms();

	if (now >= x->x_deadline)
		errx(1, "no answer from coreastrad on %s within %d seconds",
		    x->x_path, CTL_TIMEOUT_MS / 1000);
	return (int)(x->x_deadline - now);
}

/*
 * Send the queued messages.  A daemon that hangs up may have said why,
 * so a broken pipe is left for the reading side to explain.
 */
static void
ctl_flush(struct ctl *x)
{
	struct pollfd	 pfd;
	int		 rv;

	while ((rv = imsg_flush(&x->x_ib)) == 1) {
		pfd.fd = x->x_ib.ib_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, ctl_time_left(x)) == -1 && errno != EINTR)
			err(1, "poll");
	}
	if (rv == -1 && errno != EPIPE && errno != ECONNRESET)
		err(1, "write to %s", x->x_path);
}

/* Send hello and the command. */
static void
ctl_send(struct ctl *x, const struct ctl_cmd *cmd)
{
	struct msg_ctl_hello	 h;
	struct msg_ctl_id	 id;
	struct msg_count	 c;
	uint32_t		 type = IMSG_NONE;
	const void		*data = NULL;
	size_t			 len = 0;

	memset(&h, 0, sizeof(h));
	h.version = COREASTRA_PROTO_VERSION;
	memset(&id, 0, sizeof(id));
	strlcpy(id.id, cmd->c_id, sizeof(id.id));
	memset(&c, 0, sizeof(c));
	switch (cmd->c_action) {
	case CTL_SHOW_SESSIONS:
	case CTL_SHOW_SESSION:
	case CTL_KILL:
		type = cmd->c_action == CTL_KILL ? IMSG_CTL_KILL :
		    IMSG_CTL_SHOW_SESSIONS;
		data = &id;
		len = sizeof(id);
		break;
	case CTL_SHOW_STATS:
		type = IMSG_CTL_SHOW_STATS;
		break;
	case CTL_CLEANUP:
		type = IMSG_CTL_CLEANUP;
		break;
	case CTL_RELOAD:
		type = IMSG_CTL_RELOAD;
		break;
	case CTL_LOG_VERBOSE:
	case CTL_LOG_BRIEF:
		type = IMSG_CTL_LOG_VERBOSE;
		c.count = cmd->c_action == CTL_LOG_VERBOSE ? 1 : 0;
		data = &c;
		len = sizeof(c);
		break;
	case CTL_NONE:
		usage();
	}
	if (imsg_compose(&x->x_ib, IMSG_CTL_HELLO, 0, -1, &h,
	    sizeof(h)) == -1 || imsg_compose(&x->x_ib, type, 0, -1, data,
	    len) == -1)
		err(1, "imsg_compose");
	ctl_flush(x);
}

/* Wait for the next reply, within the deadline. */
static void
ctl_next(struct ctl *x, struct imsg *im)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		if ((rv = imsg_get(&x->x_ib, im)) == -1)
			errx(1, "malformed reply from coreastrad");
		if (rv == 1)
			return;
		pfd.fd = x->x_ib.ib_fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, ctl_time_left(x))) == -1 &&
		    errno != EINTR)
			err(1, "poll");
		if (rv <= 0)
			continue;
		if ((n = imsg_read(&x->x_ib)) == 0)
			errx(1, "coreastrad closed the connection");
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			err(1, "read from %s", x->x_path);
	}
}

/* Make a daemon-supplied string safe for a terminal, in place. */
static const char *
ctl_safe(char *s)
{
	size_t		 i, len = strlen(s);
	int		 utf8 = utf8_valid(s, len);
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			s[i] = '?';
		/* C1 controls, U+0080 to U+009F, are C2 80 to C2 9F. */
		else if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] < 0xa0) {
			s[i] = '?';
			s[++i] = '?';
		}
	}
	return s;
}

static const char *
ctl_name(const char **names, size_t n, uint32_t v)
{
	return v < n ? names[v] : "unknown";
}

#define CTL_NAME(tab, v)	ctl_name((tab), sizeof(tab) / sizeof(*(tab)), v)

/* A duration for a table: 42s, 5m03s, 2h05m, 3d04h. */
static const char *
ctl_duration(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, len, "%" PRId64 "s", secs);
	else if (secs < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", secs / 60,
		    secs % 60);
	else if (secs < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", secs / 3600,
		    secs % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", secs / 86400,
		    secs % 86400 / 3600);
	return buf;
}

/* A byte count for a table: 512, 1.5K, 20.0M. */
static const char *
ctl_bytes(uint64_t n, char *buf, size_t len)
{
	const char	*units = "KMGTPE";
	double		 v = n;
	int		 u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64, n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

/* user@host:port, with brackets around an IPv6 address. */
static const char *
ctl_remote(const struct msg_session *m, char *buf, size_t len)
{
	int	 v6 = strchr(m->host, ':') != NULL;

	snprintf(buf, len, "%s@%s%s%s:%u", m->username, v6 ? "[" : "",
	    m->host, v6 ? "]" : "", m->port);
	return buf;
}

/* A time in the local zone, for show session. */
static const char *
ctl_localtime(int64_t t, char *buf, size_t len)
{
	time_t		 tt = t;
	struct tm	 tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* One row of the sessions table as text cells. */
static void
ctl_row(const struct msg_session *m, time_t now, char cells[][CTL_CELL])
{
	char	 remote[P_USER_LEN + P_HOST_LEN + 16];

	snprintf(cells[0], CTL_CELL, "%.8s", m->id);
	strlcpy(cells[1], m->type == SESS_SSH ? "ssh" : "ftp", CTL_CELL);
	strlcpy(cells[2], ctl_remote(m, remote, sizeof(remote)), CTL_CELL);
	strlcpy(cells[3], m->name[0] ? m->name : "-", CTL_CELL);
	strlcpy(cells[4], CTL_NAME(ctl_states, m->state), CTL_CELL);
	ctl_duration(now - m->last_activity, cells[5], CTL_CELL);
	ctl_duration(m->remaining, cells[6], CTL_CELL);
	if (m->pid > 0)
		snprintf(cells[7], CTL_CELL, "%d", m->pid);
	else
		strlcpy(cells[7], "-", CTL_CELL);
	ctl_bytes(m->bytes_in, cells[8], CTL_CELL);
	ctl_bytes(m->bytes_out, cells[9], CTL_CELL);
	snprintf(cells[10], CTL_CELL, "%" PRIu64, m->ops);
}

/* Print one line of cells in columns of the given widths. */
static void
ctl_print_line(char cells[][CTL_CELL], const int *w)
{
	int	 i;

	for (i = 0; i < CTL_NCOLS; i++) {
		if (ctl_cols[i].col_right)
			printf("%*.*s", w[i], w[i], cells[i]);
		else if (i < CTL_NCOLS - 1)
			printf("%-*.*s", w[i], w[i], cells[i]);
		else
			printf("%.*s", w[i], cells[i]);
		putchar(i < CTL_NCOLS - 1 ? ' ' : '\n');
	}
}

/* show sessions: one line each, columns sized to their contents. */
static void
ctl_print_sessions(struct ctl *x)
{
	char	(*cells)[CTL_NCOLS][CTL_CELL];
	int	 w[CTL_NCOLS], i, n;
	time_t	 now = time(NULL);
	size_t	 r;

	if (x->x_nsess == 0) {
		printf("no sessions\n");
		return;
	}
	if ((cells = calloc(x->x_nsess + 1, sizeof(*cells))) == NULL)
		err(1, "calloc");
	for (i = 0; i < CTL_NCOLS; i++) {
		strlcpy(cells[0][i], ctl_cols[i].col_name, CTL_CELL);
		w[i] = strlen(cells[0][i]);
	}
	for (r = 0; r < x->x_nsess; r++) {
		ctl_row(&x->x_sess[r], now, cells[r + 1]);
		for (i = 0; i < CTL_NCOLS; i++) {
			n = strlen(cells[r + 1][i]);
			if (n > ctl_cols[i].col_max)
				n = ctl_cols[i].col_max;
			if (n > w[i])
				w[i] = n;
		}
	}
	for (r = 0; r <= x->x_nsess; r++)
		ctl_print_line(cells[r], w);
	free(cells);
}

/* show session ID: every field the daemon gives. */
static void
ctl_print_session(const struct msg_session *m)
{
	char	 buf[P_USER_LEN + P_HOST_LEN + 64], d[32];
	time_t	 now = time(NULL);

	printf("Session %s\n", m->id);
	printf("  %-16s %s\n", "type:", m->type == SESS_SSH ? "ssh" : "ftp");
	printf("  %-16s %s\n", "state:", CTL_NAME(ctl_states, m->state));
	printf("  %-16s %s\n", "remote:", ctl_remote(m, buf, sizeof(buf)));
	printf("  %-16s %s\n", "name:", m->name[0] ? m->name : "-");
	if (m->type == SESS_SSH)
		printf("  %-16s %s SHA256:%s\n", "host key:",
		    m->hostkey_type[0] ? m->hostkey_type : "-",
		    m->hostkey_sha256[0] ? m->hostkey_sha256 : "-");
	else
		printf("  %-16s %s\n", "tls:", CTL_NAME(ctl_tls, m->tls));
	printf("  %-16s %s\n", "created:",
	    ctl_localtime(m->created, buf, sizeof(buf)));
	printf("  %-16s %s (idle %s)\n", "last activity:",
	    ctl_localtime(m->last_activity, buf, sizeof(buf)),
	    ctl_duration(now - m->last_activity, d, sizeof(d)));
	printf("  %-16s %s (in %s)\n", "expires:",
	    ctl_localtime(m->expires, buf, sizeof(buf)),
	    ctl_duration(m->remaining, d, sizeof(d)));
	if (m->pid > 0)
		printf("  %-16s %d\n", "worker pid:", m->pid);
	else
		printf("  %-16s -\n", "worker pid:");
	printf("  %-16s %s, %u queued\n", "operation:",
	    CTL_NAME(ctl_ops, m->op), m->queued);
	printf("  %-16s %" PRIu64 "\n", "operations:", m->ops);
	printf("  %-16s %" PRIu64 " in, %" PRIu64 " out\n", "bytes:",
	    m->bytes_in, m->bytes_out);
}

/* show stats as text. */
static void
ctl_print_stats(const struct msg_stats *st)
{
	char	 d[32];

	printf("%-16s %s\n", "uptime:", ctl_duration(st->uptime, d,
	    sizeof(d)));
	printf("%-16s %u open, %u max, %" PRIu64 " total, %" PRIu64
	    " failed\n", "sessions:", st->sessions_open, st->max_sessions,
	    st->sessions_total, st->sessions_failed);
	printf("%-16s ssh %" PRIu64 ", ftp %" PRIu64 "\n", "  by type:",
	    st->sessions_ssh, st->sessions_ftp);
	printf("%-16s list %" PRIu64 ", download %" PRIu64 ", upload %"
	    PRIu64 ", execute %" PRIu64 "\n", "operations:",
	    st->ops[OP_LIST], st->ops[OP_DOWNLOAD], st->ops[OP_UPLOAD],
	    st->ops[OP_EXEC]);
	printf("%-16s %" PRIu64 " in, %" PRIu64 " out\n", "bytes:",
	    st->bytes_in, st->bytes_out);
	printf("%-16s exit %" PRIu64 ", signal %" PRIu64
	    ", sandbox violation %" PRIu64 "\n", "worker deaths:",
	    st->deaths_exit, st->deaths_signal, st->deaths_sandbox);
	printf("%-16s %" PRIu64 "\n", "front restarts:", st->front_restarts);
	printf("%-16s %" PRIu64 "\n", "spawner deaths:", st->spawner_deaths);
}

/* Print a JSON value and release it. */
static void
ctl_json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* A string member; bytes that are not UTF-8 become '?'. */
static void
ctl_json_str(struct json_object *o, const char *key, char *s)
{
	size_t	 i, len = strlen(s);

	if (!utf8_valid(s, len))
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
	json_object_object_add(o, key, json_object_new_string(s));
}

static void
ctl_json_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void
ctl_json_time(struct json_object *o, const char *key, int64_t t)
{
	char	 buf[32];

	time_iso8601(t, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* One session as a JSON object; names as in the REST API. */
static struct json_object *
ctl_json_session(struct msg_session *m)
{
	struct json_object	*o = json_object_new_object();
	int64_t			 idle = time(NULL) - m->last_activity;

	ctl_json_str(o, "id", m->id);
	json_object_object_add(o, "type", json_object_new_string(
	    m->type == SESS_SSH ? "ssh" : "ftp"));
	json_object_object_add(o, "state", json_object_new_string(
	    CTL_NAME(ctl_states, m->state)));
	ctl_json_str(o, "host", m->host);
	ctl_json_u64(o, "port", m->port);
	ctl_json_str(o, "username", m->username);
	ctl_json_str(o, "name", m->name);
	if (m->type == SESS_SSH) {
		ctl_json_str(o, "hostkey_type", m->hostkey_type);
		ctl_json_str(o, "hostkey_sha256", m->hostkey_sha256);
	} else
		json_object_object_add(o, "tls", json_object_new_string(
		    CTL_NAME(ctl_tls, m->tls)));
	ctl_json_time(o, "created_at", m->created);
	ctl_json_time(o, "last_activity", m->last_activity);
	ctl_json_time(o, "expires_at", m->expires);
	json_object_object_add(o, "time_remaining",
	    json_object_new_int64(m->remaining));
	json_object_object_add(o, "idle", json_object_new_int64(
	    idle > 0 ? idle : 0));
	json_object_object_add(o, "pid", m->pid > 0 ?
	    json_object_new_int(m->pid) : NULL);
	json_object_object_add(o, "operation", m->op != 0 ?
	    json_object_new_string(CTL_NAME(ctl_ops, m->op)) : NULL);
	ctl_json_u64(o, "queued", m->queued);
	ctl_json_u64(o, "operations", m->ops);
	ctl_json_u64(o, "bytes_in", m->bytes_in);
	ctl_json_u64(o, "bytes_out", m->bytes_out);
	return o;
}

/* An object of two counters. */
static struct json_object *
ctl_json_pair(const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
	struct json_object	*o = json_object_new_object();

	ctl_json_u64(o, k1, v1);
	ctl_json_u64(o, k2, v2);
	return o;
}

/* show stats as JSON. */
static void
ctl_json_stats(const struct msg_stats *st)
{
	struct json_object	*o = json_object_new_object(), *s, *ops, *d;

	json_object_object_add(o, "uptime", json_object_new_int64(
	    st->uptime));
	s = json_object_new_object();
	ctl_json_u64(s, "open", st->sessions_open);
	ctl_json_u64(s, "max", st->max_sessions);
	ctl_json_u64(s, "total", st->sessions_total);
	ctl_json_u64(s, "failed", st->sessions_failed);
	json_object_object_add(s, "by_type", ctl_json_pair("ssh",
	    st->sessions_ssh, "ftp", st->sessions_ftp));
	json_object_object_add(o, "sessions", s);
	ops = ctl_json_pair("list", st->ops[OP_LIST], "download",
	    st->ops[OP_DOWNLOAD]);
	ctl_json_u64(ops, "upload", st->ops[OP_UPLOAD]);
	ctl_json_u64(ops, "execute", st->ops[OP_EXEC]);
	json_object_object_add(o, "operations", ops);
	json_object_object_add(o, "bytes", ctl_json_pair("in", st->bytes_in,
	    "out", st->bytes_out));
	d = ctl_json_pair("exit", st->deaths_exit, "signal",
	    st->deaths_signal);
	ctl_json_u64(d, "sandbox", st->deaths_sandbox);
	json_object_object_add(o, "worker_deaths", d);
	ctl_json_u64(o, "front_restarts", st->front_restarts);
	ctl_json_u64(o, "spawner_deaths", st->spawner_deaths);
	ctl_json_print(o);
}

/* The outcome of a command, or an error the daemon reports. */
static int
ctl_result(struct ctl *x, struct imsg *im)
{
	struct msg_error	*m = im->data;
	struct json_object	*o;

	if (im->hdr.len != sizeof(*m) || !STR_BOUNDED(m->code) ||
	    !STR_BOUNDED(m->message))
		errx(1, "malformed result from coreastrad");
	if (x->x_json) {
		o = json_object_new_object();
		if (m->status == 0) {
			json_object_object_add(o, "status",
			    json_object_new_string("ok"));
			ctl_json_str(o, "message", m->message);
		} else {
			ctl_json_str(o, "error", m->message);
			ctl_json_str(o, "code", m->code);
		}
		ctl_json_print(o);
	} else if (m->status == 0)
		printf("%s\n", ctl_safe(m->message));
	else
		fprintf(stderr, "coreastractl: %s\n", ctl_safe(m->message));
	return m->status == 0 ? 0 : 1;
}

/* Keep one session of a listing. */
static void
ctl_keep_session(struct ctl *x, struct imsg *im)
{
	struct msg_session	*m = im->data, *n;

	if (im->hdr.len != sizeof(*m) || !STR_BOUNDED(m->id) ||
	    !STR_BOUNDED(m->host) || !STR_BOUNDED(m->username) ||
	    !STR_BOUNDED(m->name) || !STR_BOUNDED(m->hostkey_type) ||
	    !STR_BOUNDED(m->hostkey_sha256))
		errx(1, "malformed session from coreastrad");
	if (x->x_nsess >= CTL_MAX_SESSIONS)
		errx(1, "too many sessions in the answer");
	if ((n = reallocarray(x->x_sess, x->x_nsess + 1, sizeof(*n))) ==
	    NULL)
		err(1, "reallocarray");
	x->x_sess = n;
	x->x_sess[x->x_nsess++] = *m;
}

/* The listing is complete: print it. */
static void
ctl_sessions_done(struct ctl *x, const struct ctl_cmd *cmd)
{
	struct json_object	*o, *a;
	struct msg_session	*m;
	size_t			 i;

	for (i = 0; i < x->x_nsess && !x->x_json; i++) {
		m = &x->x_sess[i];
		ctl_safe(m->id);
		ctl_safe(m->host);
		ctl_safe(m->username);
		ctl_safe(m->name);
		ctl_safe(m->hostkey_type);
		ctl_safe(m->hostkey_sha256);
	}
	if (cmd->c_action == CTL_SHOW_SESSION) {
		if (x->x_nsess != 1)
			errx(1, "expected one session, coreastrad sent %zu",
			    x->x_nsess);
		if (x->x_json)
			ctl_json_print(ctl_json_session(&x->x_sess[0]));
		else
			ctl_print_session(&x->x_sess[0]);
		return;
	}
	if (!x->x_json) {
		ctl_print_sessions(x);
		return;
	}
	a = json_object_new_array();
	for (i = 0; i < x->x_nsess; i++)
		json_object_array_add(a, ctl_json_session(&x->x_sess[i]));
	o = json_object_new_object();
	json_object_object_add(o, "sessions", a);
	ctl_json_print(o);
}

/* Read replies until the command's answer is complete. */
static int
ctl_receive(struct ctl *x, const struct ctl_cmd *cmd)
{
	struct imsg	 im;
	int		 show = cmd->c_action == CTL_SHOW_SESSIONS ||
			    cmd->c_action == CTL_SHOW_SESSION;
	int		 rv = -1;

	while (rv == -1) {
		ctl_next(x, &im);
		if (im.fd != -1)
			errx(1, "unexpected descriptor from coreastrad");
		if (im.hdr.type == IMSG_CTL_RESULT)
			rv = ctl_result(x, &im);
		else if (show && im.hdr.type == IMSG_CTL_SESSION)
			ctl_keep_session(x, &im);
		else if (show && im.hdr.type == IMSG_CTL_END &&
		    im.hdr.len == 0) {
			ctl_sessions_done(x, cmd);
			rv = 0;
		} else if (cmd->c_action == CTL_SHOW_STATS &&
		    im.hdr.type == IMSG_CTL_STATS &&
		    im.hdr.len == sizeof(struct msg_stats)) {
			if (x->x_json)
				ctl_json_stats(im.data);
			else
				ctl_print_stats(im.data);
			rv = 0;
		} else
			errx(1, "unexpected reply from coreastrad (type %u, "
			    "%u bytes): is it the same version?",
			    im.hdr.type, im.hdr.len);
		imsg_free(&im);
	}
	return rv;
}

int
main(int argc, char *argv[])
{
	struct ctl	 x;
	struct ctl_cmd	 cmd;
	char		 path[PATH_MAX];
	int		 ch, fd, rv;

	memset(&x, 0, sizeof(x));
	path[0] = '\0';
	while ((ch = getopt(argc, argv, "hjs:")) != -1) {
		switch (ch) {
		case 'j':
			x.x_json = 1;
			break;
		case 's':
			if (strlcpy(path, optarg, sizeof(path)) >=
			    sizeof(path))
				errx(2, "socket path too long");
			break;
		default:
			usage();
		}
	}
	ctl_parse(argc - optind, argv + optind, &cmd);
	if (path[0] == '\0')
		ctl_default_socket(path, sizeof(path));
	signal(SIGPIPE, SIG_IGN);

	x.x_path = path;
	x.x_deadline = mono_ms() + CTL_TIMEOUT_MS;
	fd = ctl_connect(path);
	if (imsgbuf_init(&x.x_ib, fd) == -1)
		err(1, "imsgbuf_init");
	ctl_send(&x, &cmd);
	rv = ctl_receive(&x, &cmd);
	if (fflush(stdout) == EOF || ferror(stdout))
		err(1, "stdout");
	imsgbuf_clear(&x.x_ib);
	close(fd);
	free(x.x_sess);
	return rv;
}
