/*
 * coreastrad.conf: the grammar, a hand-written lexer, the built-in
 * defaults and the printer used by coreastrad -nv.
 *
 * Statements end at a newline.  Words are keywords, numbers or strings;
 * "quoted strings" are never keywords.  A macro is defined with
 * name = value and used as $name inside an unquoted word; its value is
 * pasted into the word as data and never read as a keyword.
 */

%code requires {
#include <stdint.h>
}

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define PARSE_TOKEN_MAX		8192	/* longest word or quoted string */
#define PARSE_MACRO_NAME_MAX	64
#define PARSE_PUSHBACK		4
#define PARSE_DEFAULT_PORT	8000
#define PARSE_SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)

#define KIB			1024ULL
#define MIB			(1024 * KIB)
#define GIB			(1024 * MIB)
#define TIB			(1024 * GIB)

struct parse_macro {
	TAILQ_ENTRY(parse_macro) m_entry;
	char			*m_name;
	char			*m_value;
};
TAILQ_HEAD(parse_macros, parse_macro);

/* Everything one run of conf_parse() needs; reset at each run. */
static struct parse_state {
	FILE			*ps_stream;
	const char		*ps_name;
	struct conf		*ps_conf;	/* the copy being filled */
	struct parse_macros	 ps_macros;
	int			 ps_lineno;	/* line being read */
	int			 ps_tokline;	/* line of the last token */
	int			 ps_errors;
	int			 ps_lexerr;	/* lexer reported this token */
	int			 ps_eol;	/* last token was a newline */
	int			 ps_aftereq;	/* last token was '=' */
	int			 ps_listen_set;	/* first listen drops default */
	int			 ps_origins_set;	/* same for cors */
	int			 ps_pushback[PARSE_PUSHBACK];
	int			 ps_npushback;
} ps;

static int	 yylex(void);
static int	 yyerror(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static int	 parse_lexerr(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 parse_setmacro(char *, char *);
static void	 parse_uint(unsigned int *, const char *, int64_t, int64_t,
		    int64_t);
static void	 parse_u64(uint64_t *, const char *, int64_t, int64_t,
		    int64_t);
static int64_t	 parse_unit(const char *, const char *, const char *,
		    const uint64_t *);
static int64_t	 parse_duration(char *);
static int64_t	 parse_size(char *);
static int64_t	 parse_keyword_value(char *, const char *, const char **);
static void	 parse_name(char *, size_t, const char *, char *, int);
static void	 parse_path(char *, size_t, const char *, char *);
static void	 parse_listen(char *, int64_t);
static void	 parse_origin(char *);
%}

%union {
	int64_t		 number;
	char		*string;
}

%token	ACCEPTNEW ALLOW BODY CA CHROOT CLIENTS COMMAND CONNECT CONTROL CORS
%token	DENY EXEC FILEKW FORK FTPS GROUP HEADER HOST HOSTS IDLE INSECURE
%token	KEEPALIVE KEY KNOWN LISTEN MAX NONE OFF ON ORIGIN OUTPUT POLICY PORT
%token	SESSIONS SIZE SOCKET SSH STRICT TIMEOUT USER WORKERS
%token	ERROR
%token	<string>	STRING
%token	<number>	NUMBER
%type	<number>	number duration size portopt policy allowdeny

%destructor { free($$); } <string>

%expect 0

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar varset '\n'
		| grammar main '\n'
		| grammar error '\n'
		;

number		: NUMBER
		| STRING {
			yyerror("invalid number: %s", $1);
			free($1);
			$$ = -1;
		}
		;

duration	: NUMBER
		| STRING		{ $$ = parse_duration($1); }
		;

size		: NUMBER
		| NONE			{ $$ = 0; }
		| STRING		{ $$ = parse_size($1); }
		;

portopt		: /* empty */		{ $$ = PARSE_DEFAULT_PORT; }
		| PORT number		{ $$ = $2; }
		;

policy		: ACCEPTNEW		{ $$ = HOSTKEY_ACCEPT_NEW; }
		| STRICT		{ $$ = HOSTKEY_STRICT; }
		| OFF			{ $$ = HOSTKEY_OFF; }
		| STRING {
			static const char *names[] = {
				"accept-new", "strict", "off", NULL
			};

			$$ = parse_keyword_value($1, "host key policy", names);
		}
		;

allowdeny	: ALLOW			{ $$ = 1; }
		| DENY			{ $$ = 0; }
		| STRING {
			static const char *names[] = { "deny", "allow", NULL };

			$$ = parse_keyword_value($1, "ftps insecure", names);
		}
		;

varset		: STRING '=' STRING	{ parse_setmacro($1, $3); }
		| STRING '=' NUMBER {
			char	*v;

			if (asprintf(&v, "%lld", (long long)$3) == -1)
				fatal("asprintf");
			parse_setmacro($1, v);
		}
		;

main		: LISTEN ON STRING portopt	{ parse_listen($3, $4); }
		| MAX SESSIONS number {
			parse_uint(&ps.ps_conf->c_max_sessions, "max sessions",
			    $3, 1, 100000);
		}
		| MAX CLIENTS number {
			parse_uint(&ps.ps_conf->c_max_clients, "max clients",
			    $3, 1, 100000);
		}
		| MAX BODY SIZE size {
			parse_uint(&ps.ps_conf->c_max_body, "max body size",
			    $4, KIB, 64 * MIB);
		}
		| MAX FILEKW SIZE size {
			parse_u64(&ps.ps_conf->c_max_file_size,
			    "max file size", $4, 0, INT64_MAX);
		}
		| MAX OUTPUT SIZE size {
			parse_u64(&ps.ps_conf->c_max_output, "max output size",
			    $4, KIB, 256 * MIB);
		}
		| IDLE TIMEOUT duration {
			parse_uint(&ps.ps_conf->c_idle_timeout, "idle timeout",
			    $3, 1, 7 * 86400);
		}
		| CONNECT TIMEOUT duration {
			parse_uint(&ps.ps_conf->c_connect_timeout,
			    "connect timeout", $3, 1, 600);
		}
		| COMMAND TIMEOUT duration {
			parse_uint(&ps.ps_conf->c_command_timeout,
			    "command timeout", $3, 1, 86400);
		}
		| HEADER TIMEOUT duration {
			parse_uint(&ps.ps_conf->c_header_timeout,
			    "header timeout", $3, 1, 600);
		}
		| KEEPALIVE TIMEOUT duration {
			parse_uint(&ps.ps_conf->c_keepalive_timeout,
			    "keepalive timeout", $3, 1, 3600);
		}
		| SSH KEEPALIVE duration {
			parse_uint(&ps.ps_conf->c_keepalive, "ssh keepalive",
			    $3, 0, 3600);
		}
		| USER STRING {
			parse_name(ps.ps_conf->c_user,
			    sizeof(ps.ps_conf->c_user), "user", $2, 0);
		}
		| CHROOT STRING {
			parse_path(ps.ps_conf->c_chroot,
			    sizeof(ps.ps_conf->c_chroot), "chroot", $2);
		}
		| WORKERS FORK		{ ps.ps_conf->c_worker_exec = 0; }
		| WORKERS FORK number {
			ps.ps_conf->c_worker_exec = 0;
			parse_uint(&ps.ps_conf->c_worker_batch,
			    "workers per spawner", $3, 1, 100000);
		}
		| WORKERS EXEC		{ ps.ps_conf->c_worker_exec = 1; }
		| CONTROL SOCKET STRING {
			parse_path(ps.ps_conf->c_control_socket,
			    PARSE_SUN_PATH_MAX, "control socket", $3);
		}
		| CONTROL GROUP STRING {
			parse_name(ps.ps_conf->c_control_group,
			    sizeof(ps.ps_conf->c_control_group),
			    "control group", $3, 1);
		}
		| KNOWN HOSTS STRING {
			parse_path(ps.ps_conf->c_known_hosts,
			    sizeof(ps.ps_conf->c_known_hosts), "known hosts",
			    $3);
		}
		| HOST KEY POLICY policy {
			if ($4 != -1)
				ps.ps_conf->c_hostkey_policy = $4;
		}
		| CORS ORIGIN STRING		{ parse_origin($3); }
		| FTPS CA FILEKW STRING {
			parse_path(ps.ps_conf->c_ca_file,
			    sizeof(ps.ps_conf->c_ca_file), "ftps ca file", $4);
		}
		| FTPS INSECURE allowdeny {
			if ($3 != -1)
				ps.ps_conf->c_ftps_insecure_ok = $3;
		}
		;

%%

struct parse_keyword {
	const char	*k_name;
	int		 k_token;
};

/* Sorted by strcmp() for bsearch(). */
static const struct parse_keyword parse_keywords[] = {
	{ "accept-new",	ACCEPTNEW },
	{ "allow",	ALLOW },
	{ "body",	BODY },
	{ "ca",		CA },
	{ "chroot",	CHROOT },
	{ "clients",	CLIENTS },
	{ "command",	COMMAND },
	{ "connect",	CONNECT },
	{ "control",	CONTROL },
	{ "cors",	CORS },
	{ "deny",	DENY },
	{ "exec",	EXEC },
	{ "file",	FILEKW },
	{ "fork",	FORK },
	{ "ftps",	FTPS },
	{ "group",	GROUP },
	{ "header",	HEADER },
	{ "host",	HOST },
	{ "hosts",	HOSTS },
	{ "idle",	IDLE },
	{ "insecure",	INSECURE },
	{ "keepalive",	KEEPALIVE },
	{ "key",	KEY },
	{ "known",	KNOWN },
	{ "listen",	LISTEN },
	{ "max",	MAX },
	{ "none",	NONE },
	{ "off",	OFF },
	{ "on",		ON },
	{ "origin",	ORIGIN },
	{ "output",	OUTPUT },
	{ "policy",	POLICY },
	{ "port",	PORT },
	{ "sessions",	SESSIONS },
	{ "size",	SIZE },
	{ "socket",	SOCKET },
	{ "ssh",	SSH },
	{ "strict",	STRICT },
	{ "timeout",	TIMEOUT },
	{ "user",	USER },
	{ "workers",	WORKERS },
};

static void	(*conf_reporter)(const char *);

/* Where errors go: stderr unless the daemon asked for its log. */
void
conf_set_reporter(void (*fn)(const char *))
{
	conf_reporter = fn;
}

/* Format "file:line: message" (line 0: "file: message") and report it. */
static void
conf_vreport(const char *file, int line, const char *fmt, va_list ap)
{
	char	 msg[512], out[PATH_MAX + 600];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0)
		snprintf(out, sizeof(out), "%s:%d: %s", file, line, msg);
	else
		snprintf(out, sizeof(out), "%s: %s", file, msg);
	if (conf_reporter != NULL)
		conf_reporter(out);
	else
		fprintf(stderr, "%s\n", out);
}

static void
conf_report(const char *file, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_vreport(file, 0, fmt, ap);
	va_end(ap);
}

/* Report an error at the line of the last token read. */
static int
yyerror(const char *fmt, ...)
{
	va_list	 ap;

	ps.ps_errors++;
	/* The lexer has already said what is wrong with this token. */
	if (ps.ps_lexerr && strcmp(fmt, "syntax error") == 0)
		return 0;
	va_start(ap, fmt);
	conf_vreport(ps.ps_name, ps.ps_tokline, fmt, ap);
	va_end(ap);
	return 0;
}

/* Report a lexical error; the parser's "syntax error" that follows is muted. */
static int
parse_lexerr(const char *fmt, ...)
{
	va_list	 ap;

	ps.ps_errors++;
	ps.ps_lexerr = 1;
	va_start(ap, fmt);
	conf_vreport(ps.ps_name, ps.ps_tokline, fmt, ap);
	va_end(ap);
	return 0;
}

/* Read one character; a backslash before a newline joins the lines. */
static int
parse_getc(int inquote)
{
	int	 c, next;

	if (ps.ps_npushback > 0)
		return ps.ps_pushback[--ps.ps_npushback];
	for (;;) {
		if ((c = getc(ps.ps_stream)) != '\\')
			return c;
		if ((next = getc(ps.ps_stream)) != '\n') {
			if (next != EOF)
				ungetc(next, ps.ps_stream);
			return c;
		}
		ps.ps_lineno++;
		if (!inquote)
			return ' ';
	}
}

static void
parse_ungetc(int c)
{
	if (c == EOF)
		return;
	if (ps.ps_npushback >= PARSE_PUSHBACK)
		fatalx("lexer pushback overflow");
	ps.ps_pushback[ps.ps_npushback++] = c;
}

/* Skip the rest of a line in error, leaving its newline to be read. */
static int
parse_findeol(void)
{
	int	 c;

	while ((c = parse_getc(0)) != '\n' && c != EOF)
		;
	parse_ungetc(c);
	return ERROR;
}

static int
parse_wordchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("-_./:@+%,~[]", c));
}

static int
parse_kwcmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct parse_keyword *)e)->k_name);
}

static struct parse_macro *
parse_findmacro(const char *name)
{
	struct parse_macro	*m;

	TAILQ_FOREACH(m, &ps.ps_macros, m_entry)
		if (strcmp(m->m_name, name) == 0)
			return m;
	return NULL;
}

/* Replace $name, just read up to the '$', with the macro's value. */
static int
parse_expand(char *buf, size_t *len, size_t size)
{
	struct parse_macro	*m;
	char			 name[PARSE_MACRO_NAME_MAX];
	size_t			 n = 0, vlen;
	int			 c;

	while ((c = parse_getc(0)) != EOF && (isalnum(c) || c == '_')) {
		if (n + 1 >= sizeof(name))
			return parse_lexerr("macro name too long");
		name[n++] = c;
	}
	parse_ungetc(c);
	name[n] = '\0';
	if (n == 0)
		return parse_lexerr("invalid macro reference");
	if ((m = parse_findmacro(name)) == NULL)
		return parse_lexerr("macro '%s' not defined", name);
	vlen = strlen(m->m_value);
	if (*len + vlen >= size)
		return parse_lexerr("string too long");
	memcpy(buf + *len, m->m_value, vlen);
	*len += vlen;
	return 1;
}

/* Whether a line's first word is followed by '=': a macro's name. */
static int
parse_isdefinition(void)
{
	int	 c;

	while ((c = parse_getc(0)) == ' ' || c == '\t')
		;
	parse_ungetc(c);
	return c == '=';
}

/* Turn a finished word into a keyword, a NUMBER or a STRING token. */
static int
parse_classify(const char *buf, int keyword)
{
	const struct parse_keyword	*k;
	const char			*errstr;
	size_t				 len;

	len = strlen(buf);
	if (keyword && (k = bsearch(buf, parse_keywords,
	    sizeof(parse_keywords) / sizeof(parse_keywords[0]),
	    sizeof(parse_keywords[0]), parse_kwcmp)) != NULL)
		return k->k_token;
	if (len > 0 && strspn(buf, "0123456789") == len) {
		yylval.number = strtonum(buf, 0, LLONG_MAX, &errstr);
		if (errstr != NULL) {
			parse_lexerr("number too large: %s", buf);
			return ERROR;
		}
		return NUMBER;
	}
	if ((yylval.string = strdup(buf)) == NULL)
		fatal("strdup");
	return STRING;
}

/*
 * Read an unquoted word, expanding macros in it.  A word with a macro
 * in it, or naming a macro or giving its value, is never a keyword.
 */
static int
parse_word(int first, int value)
{
	char	 buf[PARSE_TOKEN_MAX];
	size_t	 len = 0;
	int	 c, expanded = 0;

	while ((c = parse_getc(0)) != EOF) {
		if (c == '$') {
			if (parse_expand(buf, &len, sizeof(buf)) != 1)
				return parse_findeol();
			expanded = 1;
			continue;
		}
		if (!parse_wordchar(c)) {
			parse_ungetc(c);
			break;
		}
		if (len + 1 >= sizeof(buf)) {
			parse_lexerr("string too long");
			return parse_findeol();
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	if (value || (first && !expanded && parse_isdefinition()))
		expanded = 1;
	return parse_classify(buf, !expanded);
}

/* Read a "quoted string"; \" and \\ stand for themselves. */
static int
parse_quoted(void)
{
	char	 buf[PARSE_TOKEN_MAX];
	size_t	 len = 0;
	int	 c, next;

	while ((c = parse_getc(1)) != '"') {
		if (c == EOF || c == '\n') {
			parse_ungetc(c);
			parse_lexerr("unterminated quoted string");
			return ERROR;
		}
		if (c == '\\') {
			next = parse_getc(1);
			if (next == '"' || next == '\\')
				c = next;
			else
				parse_ungetc(next);
		}
		if (iscntrl(c)) {
			parse_lexerr("invalid character in quoted string");
			return parse_findeol();
		}
		if (len + 1 >= sizeof(buf)) {
			parse_lexerr("string too long");
			return parse_findeol();
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	if ((yylval.string = strdup(buf)) == NULL)
		fatal("strdup");
	return STRING;
}

/* The next token: a keyword, NUMBER, STRING, '=', newline or ERROR. */
static int
yylex(void)
{
	int	 c, first, value;

	ps.ps_lexerr = 0;
	value = ps.ps_aftereq;
	ps.ps_aftereq = 0;
	while ((c = parse_getc(0)) == ' ' || c == '\t' || c == '\r')
		;
	ps.ps_tokline = ps.ps_lineno;
	if (c == '#')
		while ((c = parse_getc(0)) != '\n' && c != EOF)
			;
	if (c == EOF) {
		/* A last line without its newline still ends a statement. */
		if (ps.ps_eol)
			return 0;
		ps.ps_eol = 1;
		return '\n';
	}
	first = ps.ps_eol;
	ps.ps_eol = (c == '\n');
	if (c == '\n') {
		ps.ps_lineno++;
		return '\n';
	}
	if (c == '"')
		return parse_quoted();
	if (c == '$' || parse_wordchar(c)) {
		parse_ungetc(c);
		return parse_word(first, value);
	}
	if (c == '=') {
		ps.ps_aftereq = 1;
		return c;
	}
	if (isprint(c))
		parse_lexerr("unexpected character '%c'", c);
	else
		parse_lexerr("unexpected character 0x%02x", c);
	return parse_findeol();
}

/* Define or redefine a macro; takes ownership of both strings. */
static void
parse_setmacro(char *name, char *value)
{
	struct parse_macro	*m;
	const char		*p;

	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			break;
	if (*p != '\0' || p == name || strlen(name) >= PARSE_MACRO_NAME_MAX) {
		yyerror("invalid macro name: %s", name);
		free(name);
		free(value);
		return;
	}
	if ((m = parse_findmacro(name)) != NULL) {
		free(name);
		free(m->m_value);
		m->m_value = value;
		return;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("calloc");
	m->m_name = name;
	m->m_value = value;
	TAILQ_INSERT_TAIL(&ps.ps_macros, m, m_entry);
}

/* Check v against [min, max]; -1 means an error was already reported. */
static int
parse_range(const char *what, int64_t v, int64_t min, int64_t max)
{
	if (v == -1)
		return -1;
	if (v < min || v > max) {
		yyerror("%s out of range", what);
		return -1;
	}
	return 0;
}

/* Store v in *dst if it is within [min, max]. */
static void
parse_uint(unsigned int *dst, const char *what, int64_t v, int64_t min,
    int64_t max)
{
	if (parse_range(what, v, min, max) == 0)
		*dst = v;
}

static void
parse_u64(uint64_t *dst, const char *what, int64_t v, int64_t min,
    int64_t max)
{
	if (parse_range(what, v, min, max) == 0)
		*dst = v;
}

/* Parse digits with one unit letter from units, scaled by mults[]. */
static int64_t
parse_unit(const char *what, const char *s, const char *units,
    const uint64_t *mults)
{
	const char		*u;
	char			*end;
	unsigned long long	 v;

	if (!isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == '\0' || end[1] != '\0' ||
	    (u = strchr(units, *end)) == NULL)
		goto bad;
	if (errno == ERANGE || v > INT64_MAX / mults[u - units]) {
		yyerror("%s too large: %s", what, s);
		return -1;
	}
	return v * mults[u - units];
 bad:
	yyerror("invalid %s: %s", what, s);
	return -1;
}

/* A duration: 30s, 10m, 1h, 2d. */
static int64_t
parse_duration(char *s)
{
	static const uint64_t	 mults[] = { 1, 60, 3600, 86400 };
	int64_t			 v;

	v = parse_unit("duration", s, "smhd", mults);
	free(s);
	return v;
}

/* A size in bytes: 512K, 100M, 2G, 1T (powers of 1024), or none. */
static int64_t
parse_size(char *s)
{
	static const uint64_t	 mults[] = {
		KIB, KIB, MIB, MIB, GIB, GIB, TIB, TIB
	};
	int64_t			 v;

	if (strcmp(s, "none") == 0)
		v = 0;
	else
		v = parse_unit("size", s, "KkMmGgTt", mults);
	free(s);
	return v;
}

/* Index of s in the NULL-terminated names[], for quoted or macro values. */
static int64_t
parse_keyword_value(char *s, const char *what, const char **names)
{
	int64_t	 i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			break;
	if (names[i] == NULL) {
		yyerror("invalid %s: %s", what, s);
		i = -1;
	}
	free(s);
	return i;
}

/* A user or group name: short, portable characters, no leading '-'. */
static void
parse_name(char *dst, size_t size, const char *what, char *s,
    int allow_empty)
{
	size_t	 len;

	len = strlen(s);
	if (len >= size)
		yyerror("%s name too long", what);
	else if ((len == 0 && !allow_empty) || s[0] == '-' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
		yyerror("invalid %s name: \"%s\"", what, s);
	else
		strlcpy(dst, s, size);
	free(s);
}

/* An absolute path that fits in size bytes with its NUL. */
static void
parse_path(char *dst, size_t size, const char *what, char *s)
{
	if (s[0] != '/')
		yyerror("%s must be an absolute path", what);
	else if (strlen(s) >= size)
		yyerror("%s path too long", what);
	else
		strlcpy(dst, s, size);
	free(s);
}

/* Store addr in its canonical numeric form; localhost is 127.0.0.1. */
static int
parse_addr(const char *addr, char *dst, size_t size)
{
	struct in6_addr	 in6;
	struct in_addr	 in4;

	if (strcmp(addr, "localhost") == 0)
		addr = "127.0.0.1";
	if (inet_pton(AF_INET, addr, &in4) == 1)
		return inet_ntop(AF_INET, &in4, dst, size) ? 0 : -1;
	if (inet_pton(AF_INET6, addr, &in6) == 1)
		return inet_ntop(AF_INET6, &in6, dst, size) ? 0 : -1;
	return -1;
}

/* listen on ADDRESS [port N]: the first one replaces the default. */
static void
parse_listen(char *addr, int64_t port)
{
	struct conf		*c = ps.ps_conf;
	struct conf_listen	 l;
	int			 i;

	memset(&l, 0, sizeof(l));
	if (parse_addr(addr, l.l_addr, sizeof(l.l_addr)) == -1) {
		yyerror("invalid listen address: %s", addr);
		goto done;
	}
	if (parse_range("port", port, 1, 65535) == -1)
		goto done;
	l.l_port = port;
	if (!ps.ps_listen_set) {
		ps.ps_listen_set = 1;
		c->c_nlisten = 0;
	}
	for (i = 0; i < c->c_nlisten; i++)
		if (strcmp(c->c_listen[i].l_addr, l.l_addr) == 0 &&
		    c->c_listen[i].l_port == l.l_port) {
			yyerror("duplicate listen address");
			goto done;
		}
	if (c->c_nlisten >= CONF_MAX_LISTEN)
		yyerror("too many listen addresses");
	else
		c->c_listen[c->c_nlisten++] = l;
 done:
	free(addr);
}

/* Why o is not scheme://host[:port], or NULL; o is lowercase. */
static const char *
parse_origin_check(const char *o)
{
	const char	*p, *end;
	char		 host[INET6_ADDRSTRLEN];
	struct in6_addr	 in6;
	size_t		 n;

	if (strchr(o, '*') != NULL)
		return "wildcard not allowed";
	if (strncmp(o, "http://", 7) == 0)
		p = o + 7;
	else if (strncmp(o, "https://", 8) == 0)
		p = o + 8;
	else
		return "scheme must be http or https";
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL ||
		    (n = end - p - 1) == 0 || n >= sizeof(host))
			return "invalid host";
		memcpy(host, p + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &in6) != 1)
			return "invalid host";
		p = end + 1;
	} else {
		if ((n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.-"))
		    == 0 || p[0] == '.' || p[0] == '-')
			return "invalid host";
		p += n;
	}
	if (*p == ':') {
		n = strspn(++p, "0123456789");
		if (n == 0 || n > 5 || p[0] == '0' || strtol(p, NULL, 10) >
		    65535)
			return "invalid port";
		p += n;
	}
	if (*p == '/')
		return "path not allowed";
	if (*p != '\0')
		return "invalid character";
	return NULL;
}

/* cors origin "URL": the first one replaces the default pair. */
static void
parse_origin(char *s)
{
	struct conf	*c = ps.ps_conf;
	const char	*why;
	char		*p;
	int		 i;

	for (p = s; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	if (strlen(s) >= CONF_ORIGIN_MAX) {
		yyerror("cors origin too long");
		goto done;
	}
	if ((why = parse_origin_check(s)) != NULL) {
		yyerror("invalid cors origin \"%s\": %s", s, why);
		goto done;
	}
	if (!ps.ps_origins_set) {
		ps.ps_origins_set = 1;
		c->c_norigins = 0;
	}
	for (i = 0; i < c->c_norigins; i++)
		if (strcmp(c->c_origins[i], s) == 0) {
			yyerror("duplicate cors origin \"%s\"", s);
			goto done;
		}
	if (c->c_norigins >= CONF_MAX_ORIGINS)
		yyerror("too many cors origins");
	else
		strlcpy(c->c_origins[c->c_norigins++], s, CONF_ORIGIN_MAX);
 done:
	free(s);
}

/* Build dir/name from an absolute directory in the environment. */
static int
conf_envpath(char *dst, size_t size, const char *var, const char *name)
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

/* Control socket and known hosts: system paths for root, else per user. */
static void
conf_default_paths(struct conf *c)
{
	uid_t	 uid = geteuid();

	if (uid == 0) {
		strlcpy(c->c_control_socket, "/run/coreastrad.sock",
		    sizeof(c->c_control_socket));
		strlcpy(c->c_known_hosts, "/var/lib/coreastrad/known_hosts",
		    sizeof(c->c_known_hosts));
		return;
	}
	if (conf_envpath(c->c_control_socket, PARSE_SUN_PATH_MAX,
	    "XDG_RUNTIME_DIR", "coreastrad.sock") == -1)
		snprintf(c->c_control_socket, sizeof(c->c_control_socket),
		    "/tmp/coreastrad-%lu.sock", (unsigned long)uid);
	if (conf_envpath(c->c_known_hosts, sizeof(c->c_known_hosts),
	    "HOME", ".coreastrad_known_hosts") == -1)
		snprintf(c->c_known_hosts, sizeof(c->c_known_hosts),
		    "/tmp/coreastrad-%lu-known_hosts", (unsigned long)uid);
}

/* Fill c with the built-in defaults. */
void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strlcpy(c->c_listen[0].l_addr, "127.0.0.1",
	    sizeof(c->c_listen[0].l_addr));
	c->c_listen[0].l_port = PARSE_DEFAULT_PORT;
	c->c_nlisten = 1;

	c->c_max_sessions = 20;
	c->c_worker_batch = 64;
	c->c_idle_timeout = 30 * 60;
	c->c_connect_timeout = 10;
	c->c_command_timeout = 60;
	c->c_keepalive = 30;
	c->c_max_file_size = 0;
	c->c_max_output = MIB;

	c->c_max_clients = 512;
	c->c_max_body = 256 * KIB;
	c->c_header_timeout = 10;
	c->c_keepalive_timeout = 60;
	strlcpy(c->c_origins[0], "http://localhost:3000", CONF_ORIGIN_MAX);
	strlcpy(c->c_origins[1], "http://127.0.0.1:3000", CONF_ORIGIN_MAX);
	c->c_norigins = 2;

	strlcpy(c->c_user, "_coreastra", sizeof(c->c_user));
	strlcpy(c->c_chroot, "/var/empty", sizeof(c->c_chroot));
	conf_default_paths(c);
	c->c_hostkey_policy = HOSTKEY_ACCEPT_NEW;
	strlcpy(c->c_ca_file, "/etc/ssl/certs/ca-certificates.crt",
	    sizeof(c->c_ca_file));
	c->c_ftps_insecure_ok = 0;
}

/* Refuse a file others could have written: its settings are trusted. */
static int
conf_checkfile(int fd, const char *path)
{
	struct stat	 st;
	const char	*why = NULL;

	if (fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		why = "file is not owned by root or the running user";
	else if (st.st_mode & S_IWOTH)
		why = "file is writable by others";
	else if (st.st_mode & S_IWGRP)
		why = "file is writable by group";
	if (why == NULL)
		return 0;
	conf_report(path, "%s", why);
	return -1;
}

/* Forget the macros of the last run. */
static void
conf_freemacros(void)
{
	struct parse_macro	*m;

	while ((m = TAILQ_FIRST(&ps.ps_macros)) != NULL) {
		TAILQ_REMOVE(&ps.ps_macros, m, m_entry);
		free(m->m_name);
		free(m->m_value);
		free(m);
	}
}

/*
 * Read path into *conf.  Errors go to stderr as file:line: message;
 * on any error *conf is left as it was and -1 is returned.
 */
int
conf_parse(const char *path, struct conf *conf)
{
	struct conf	*c;
	FILE		*fp;
	int		 rv = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		conf_report(path, "%s", strerror(errno));
		return -1;
	}
	if (conf_checkfile(fileno(fp), path) == -1) {
		fclose(fp);
		return -1;
	}
	if ((c = malloc(sizeof(*c))) == NULL)
		fatal("malloc");
	conf_defaults(c);
	if (strlcpy(c->c_file, path, sizeof(c->c_file)) >= sizeof(c->c_file)) {
		conf_report(path, "path too long");
		goto done;
	}

	memset(&ps, 0, sizeof(ps));
	TAILQ_INIT(&ps.ps_macros);
	ps.ps_stream = fp;
	ps.ps_name = path;
	ps.ps_conf = c;
	ps.ps_lineno = ps.ps_tokline = 1;
	ps.ps_eol = 1;
	if (yyparse() != 0 && ps.ps_errors == 0)
		ps.ps_errors++;
	conf_freemacros();
	if (ps.ps_errors == 0) {
		memcpy(conf, c, sizeof(*conf));
		rv = 0;
	}
	memset(&ps, 0, sizeof(ps));
 done:
	free(c);
	fclose(fp);
	return rv;
}

/* The keyword for a host key policy, as conf_print() writes it. */
const char *
conf_policy_name(enum conf_hostkey_policy p)
{
	switch (p) {
	case HOSTKEY_ACCEPT_NEW:
		return "accept-new";
	case HOSTKEY_STRICT:
		return "strict";
	case HOSTKEY_OFF:
		return "off";
	}
	return "unknown";
}

/* Seconds in the largest unit that divides them exactly. */
static const char *
conf_fmt_duration(unsigned int v, char *buf, size_t size)
{
	if (v == 0)
		snprintf(buf, size, "0");
	else if (v % 86400 == 0)
		snprintf(buf, size, "%ud", v / 86400);
	else if (v % 3600 == 0)
		snprintf(buf, size, "%uh", v / 3600);
	else if (v % 60 == 0)
		snprintf(buf, size, "%um", v / 60);
	else
		snprintf(buf, size, "%us", v);
	return buf;
}

/* Bytes in the largest unit that divides them exactly. */
static const char *
conf_fmt_size(uint64_t v, char *buf, size_t size)
{
	static const char	 units[] = "TGMK";
	static const uint64_t	 mults[] = { TIB, GIB, MIB, KIB };
	size_t			 i;

	for (i = 0; v != 0 && i < sizeof(mults) / sizeof(mults[0]); i++)
		if (v % mults[i] == 0) {
			snprintf(buf, size, "%llu%c",
			    (unsigned long long)(v / mults[i]), units[i]);
			return buf;
		}
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* Print keyword "string" with quotes and backslashes escaped. */
static void
conf_print_str(FILE *fp, const char *keyword, const char *s)
{
	fprintf(fp, "%s \"", keyword);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fprintf(fp, "\"\n");
}

/* Print the effective configuration in the grammar conf_parse() reads. */
void
conf_print(FILE *fp, const struct conf *c)
{
	char	 b[32];
	int	 i;

	for (i = 0; i < c->c_nlisten; i++)
		fprintf(fp, "listen on %s port %u\n", c->c_listen[i].l_addr,
		    c->c_listen[i].l_port);

	fprintf(fp, "\nmax sessions %u\n", c->c_max_sessions);
	fprintf(fp, "max clients %u\n", c->c_max_clients);
	fprintf(fp, "max body size %s\n",
	    conf_fmt_size(c->c_max_body, b, sizeof(b)));
	if (c->c_max_file_size == 0)
		fprintf(fp, "max file size none\n");
	else
		fprintf(fp, "max file size %s\n",
		    conf_fmt_size(c->c_max_file_size, b, sizeof(b)));
	fprintf(fp, "max output size %s\n",
	    conf_fmt_size(c->c_max_output, b, sizeof(b)));

	fprintf(fp, "\nidle timeout %s\n",
	    conf_fmt_duration(c->c_idle_timeout, b, sizeof(b)));
	fprintf(fp, "connect timeout %s\n",
	    conf_fmt_duration(c->c_connect_timeout, b, sizeof(b)));
	fprintf(fp, "command timeout %s\n",
	    conf_fmt_duration(c->c_command_timeout, b, sizeof(b)));
	fprintf(fp, "header timeout %s\n",
	    conf_fmt_duration(c->c_header_timeout, b, sizeof(b)));
	fprintf(fp, "keepalive timeout %s\n",
	    conf_fmt_duration(c->c_keepalive_timeout, b, sizeof(b)));
	fprintf(fp, "ssh keepalive %s\n",
	    conf_fmt_duration(c->c_keepalive, b, sizeof(b)));

	fputc('\n', fp);
	conf_print_str(fp, "user", c->c_user);
	conf_print_str(fp, "chroot", c->c_chroot);
	if (c->c_worker_exec)
		fprintf(fp, "workers exec\n");
	else
		fprintf(fp, "workers fork %u\n", c->c_worker_batch);
	conf_print_str(fp, "control socket", c->c_control_socket);
	conf_print_str(fp, "control group", c->c_control_group);

	fputc('\n', fp);
	conf_print_str(fp, "known hosts", c->c_known_hosts);
	fprintf(fp, "host key policy %s\n",
	    conf_policy_name(c->c_hostkey_policy));
	conf_print_str(fp, "ftps ca file", c->c_ca_file);
	fprintf(fp, "ftps insecure %s\n",
	    c->c_ftps_insecure_ok ? "allow" : "deny");

	fputc('\n', fp);
	for (i = 0; i < c->c_norigins; i++)
		conf_print_str(fp, "cors origin", c->c_origins[i]);
}
