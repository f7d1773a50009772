/*
 * Unit tests for JSON validation of request bodies (jv_) and rendering
 * of replies (jr_): valid input, missing and mistyped fields, ranges,
 * lengths, malformed and hostile JSON, and output that re-parses.
 */
#include <sys/stat.h>

#include <atf-c.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "util.h"
#include "json.h"

#define CRED	"\"username\":\"u\",\"password\":\"p\""

static char	 err[P_MSG_LEN];

/* A body built with printf; the caller frees it. */
static char *
t_body(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	ATF_REQUIRE(vasprintf(&s, fmt, ap) != -1);
	va_end(ap);
	return s;
}

/* A string of n copies of c; the caller frees it. */
static char *
t_fill(char c, size_t n)
{
	char	*s;

	ATF_REQUIRE((s = malloc(n + 1)) != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static int
t_ssh(const char *body, struct msg_ssh_open *o)
{
	err[0] = '\0';
	return jv_ssh_open(body, strlen(body), o, err, sizeof(err));
}

static int
t_ftp(const char *body, struct msg_ftp_open *o)
{
	err[0] = '\0';
	return jv_ftp_open(body, strlen(body), o, err, sizeof(err));
}

/* The SSH body must be refused with exactly msg. */
static void
t_ssh_bad(const char *body, const char *msg)
{
	struct msg_ssh_open	 o;
	int			 rv;

	errno = 0;
	rv = t_ssh(body, &o);
	ATF_CHECK_EQ_MSG(rv, -1, "accepted: %s", body);
	ATF_CHECK_EQ_MSG(errno, EINVAL, "errno %d for %s", errno, body);
	ATF_CHECK_STREQ_MSG(err, msg, "for %s", body);
}

/* The FTP body must be refused with exactly msg. */
static void
t_ftp_bad(const char *body, const char *msg)
{
	struct msg_ftp_open	 o;

	ATF_CHECK_EQ_MSG(t_ftp(body, &o), -1, "accepted: %s", body);
	ATF_CHECK_STREQ_MSG(err, msg, "for %s", body);
}

/* The SSH body must be accepted. */
static void
t_ssh_good(const char *body, struct msg_ssh_open *o)
{
	ATF_CHECK_EQ_MSG(t_ssh(body, o), 0, "refused: %s: %s", body, err);
}

/* Serialize o as the front does. */
static const char *
t_ser(struct json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* String member key of o, or NULL when absent or not a string. */
static const char *
t_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Integer member key of o, or -999 when absent or not an integer. */
static int64_t
t_int(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -999;
	return json_object_get_int64(v);
}

/* True when o has member key and it is null. */
static int
t_isnull(struct json_object *o, const char *key)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, key, &v) && v == NULL;
}

static int
t_has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

ATF_TC_WITHOUT_HEAD(ssh_valid);
ATF_TC_BODY(ssh_valid, tc)
{
	struct msg_ssh_open	 o;

	t_ssh_good("{\"host\":\"srv.example.com\",\"port\":2222,"
	    "\"username\":\"alice\",\"password\":\"s3cr\\\"et\","
	    "\"private_key\":\"-----BEGIN KEY-----\\nAAA\\n\","
	    "\"passphrase\":\"pp\",\"name\":\"my server\",\"timeout\":45}",
	    &o);
	ATF_CHECK_STREQ(o.host, "srv.example.com");
	ATF_CHECK_EQ(o.port, 2222u);
	ATF_CHECK_STREQ(o.username, "alice");
	ATF_CHECK_STREQ(o.password, "s3cr\"et");
	ATF_CHECK_STREQ(o.private_key, "-----BEGIN KEY-----\nAAA\n");
	ATF_CHECK_STREQ(o.passphrase, "pp");
	ATF_CHECK_STREQ(o.name, "my server");
	ATF_CHECK_EQ(o.timeout, 45u);
	ATF_CHECK_EQ(o.reqid, 0u);

	/* defaults, white space around the object */
	t_ssh_good(" \r\n\t{\"host\":\"::1\"," CRED "}\n ", &o);
	ATF_CHECK_STREQ(o.host, "::1");
	ATF_CHECK_EQ(o.port, 22u);
	ATF_CHECK_EQ(o.timeout, 0u);
	ATF_CHECK_STREQ(o.name, "");
	ATF_CHECK_STREQ(o.private_key, "");

	/* a key alone is enough; the bounds are inclusive */
	t_ssh_good("{\"host\":\"10.0.0.1\",\"username\":\"u\","
	    "\"private_key\":\"k\",\"port\":65535,\"timeout\":300}", &o);
	ATF_CHECK_STREQ(o.password, "");
	ATF_CHECK_EQ(o.port, 65535u);
	ATF_CHECK_EQ(o.timeout, 300u);
	t_ssh_good("{\"host\":\"a\",\"port\":1,\"timeout\":1," CRED "}", &o);
	ATF_CHECK_EQ(o.port, 1u);
	ATF_CHECK_EQ(o.timeout, 1u);

	/* host literals and names */
	t_ssh_good("{\"host\":\"fe80::1:abcd\"," CRED "}", &o);
	t_ssh_good("{\"host\":\"my_host.example-1.com\"," CRED "}", &o);
	t_ssh_good("{\"host\":\"192.168.0.1\"," CRED "}", &o);
	/* UTF-8 in a user name is fine */
	t_ssh_good("{\"host\":\"h\",\"username\":\"J\xc3\xb6rg\","
	    "\"password\":\"p\"}", &o);
	ATF_CHECK_STREQ(o.username, "J\xc3\xb6rg");
}

ATF_TC_WITHOUT_HEAD(ssh_missing);
ATF_TC_BODY(ssh_missing, tc)
{
	t_ssh_bad("{\"username\":\"u\",\"password\":\"p\"}",
	    "host is required");
	t_ssh_bad("{\"host\":null,\"username\":\"u\",\"password\":\"p\"}",
	    "host is required");
	t_ssh_bad("{\"host\":\"h\",\"password\":\"p\"}",
	    "username is required");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\"}",
	    "password or private_key is required");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":\"\","
	    "\"private_key\":\"\"}", "password or private_key is required");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"passphrase\":\"x\"}",
	    "password or private_key is required");
	t_ssh_bad("{\"host\":\"\"," CRED "}", "host must not be empty");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"\",\"password\":\"p\"}",
	    "username must not be empty");
	t_ssh_bad("{}", "host is required");
}

ATF_TC_WITHOUT_HEAD(ssh_types);
ATF_TC_BODY(ssh_types, tc)
{
	struct msg_ssh_open	 o;

	t_ssh_bad("{\"host\":5," CRED "}", "host must be a string");
	t_ssh_bad("{\"host\":[\"h\"]," CRED "}", "host must be a string");
	t_ssh_bad("{\"host\":\"h\",\"port\":\"22\"," CRED "}",
	    "port must be an integer");
	t_ssh_bad("{\"host\":\"h\",\"port\":22.0," CRED "}",
	    "port must be an integer");
	t_ssh_bad("{\"host\":\"h\",\"port\":true," CRED "}",
	    "port must be an integer");
	t_ssh_bad("{\"host\":\"h\",\"port\":NaN," CRED "}",
	    "port must be an integer");
	t_ssh_bad("{\"host\":\"h\",\"username\":{},\"password\":\"p\"}",
	    "username must be a string");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":1}",
	    "password must be a string");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"private_key\":true}",
	    "private_key must be a string");
	t_ssh_bad("{\"host\":\"h\"," CRED ",\"passphrase\":0}",
	    "passphrase must be a string");
	t_ssh_bad("{\"host\":\"h\"," CRED ",\"name\":1}",
	    "name must be a string");
	t_ssh_bad("{\"host\":\"h\"," CRED ",\"timeout\":\"30\"}",
	    "timeout must be an integer");

	/* null means absent for optional fields */
	t_ssh_good("{\"host\":\"h\",\"port\":null,\"name\":null,"
	    "\"timeout\":null,\"private_key\":null," CRED "}", &o);
	ATF_CHECK_EQ(o.port, 22u);
}

ATF_TC_WITHOUT_HEAD(ssh_range);
ATF_TC_BODY(ssh_range, tc)
{
	static const char	*ports[] = { "0", "65536", "-1", "-0",
	    "99999999999999999999", "18446744073709551615",
	    "-99999999999999999999", "9223372036854775808", "4294967318" };
	static const char	*floats[] = { "1e400", "2.2e1", "-1e400" };
	char			*b;
	size_t			 i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		b = t_body("{\"host\":\"h\",\"port\":%s," CRED "}", ports[i]);
		t_ssh_bad(b, "port must be between 1 and 65535");
		free(b);
	}
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		b = t_body("{\"host\":\"h\",\"port\":%s," CRED "}", floats[i]);
		t_ssh_bad(b, "port must be an integer");
		free(b);
	}
	t_ssh_bad("{\"host\":\"h\",\"timeout\":0," CRED "}",
	    "timeout must be between 1 and 300");
	t_ssh_bad("{\"host\":\"h\",\"timeout\":301," CRED "}",
	    "timeout must be between 1 and 300");
}

ATF_TC_WITHOUT_HEAD(ssh_lengths);
ATF_TC_BODY(ssh_lengths, tc)
{
	struct msg_ssh_open	 o;
	char			*s, *b;

	s = t_fill('a', P_HOST_LEN - 1);
	b = t_body("{\"host\":\"%s\"," CRED "}", s);
	t_ssh_good(b, &o);
	ATF_CHECK_EQ(strlen(o.host), (size_t)P_HOST_LEN - 1);
	free(b);
	b = t_body("{\"host\":\"%sa\"," CRED "}", s);
	t_ssh_bad(b, "host is too long (at most 255 bytes)");
	free(b);
	b = t_body("{\"host\":\"h\",\"username\":\"%sa\",\"password\":\"p\"}",
	    s);
	t_ssh_bad(b, "username is too long (at most 255 bytes)");
	free(b);
	free(s);

	s = t_fill('n', P_NAME_LEN - 1);
	b = t_body("{\"host\":\"h\",\"name\":\"%s\"," CRED "}", s);
	t_ssh_good(b, &o);
	free(b);
	b = t_body("{\"host\":\"h\",\"name\":\"%sn\"," CRED "}", s);
	t_ssh_bad(b, "name is too long (at most 127 bytes)");
	free(b);
	free(s);

	s = t_fill('p', P_PASS_LEN - 1);
	b = t_body("{\"host\":\"h\",\"username\":\"u\",\"password\":\"%s\"}",
	    s);
	t_ssh_good(b, &o);
	ATF_CHECK_EQ(strlen(o.password), (size_t)P_PASS_LEN - 1);
	free(b);
	b = t_body("{\"host\":\"h\",\"username\":\"u\",\"password\":\"%sp\"}",
	    s);
	t_ssh_bad(b, "password is too long (at most 1023 bytes)");
	free(b);
	b = t_body("{\"host\":\"h\"," CRED ",\"passphrase\":\"%sp\"}", s);
	t_ssh_bad(b, "passphrase is too long (at most 1023 bytes)");
	free(b);
	free(s);

	s = t_fill('k', P_KEY_LEN - 1);
	b = t_body("{\"host\":\"h\",\"username\":\"u\",\"private_key\":"
	    "\"%s\"}", s);
	t_ssh_good(b, &o);
	ATF_CHECK_EQ(strlen(o.private_key), (size_t)P_KEY_LEN - 1);
	free(b);
	b = t_body("{\"host\":\"h\",\"username\":\"u\",\"private_key\":"
	    "\"%sk\"}", s);
	t_ssh_bad(b, "private_key is too long (at most 16383 bytes)");
	free(b);
	free(s);
}

ATF_TC_WITHOUT_HEAD(ssh_chars);
ATF_TC_BODY(ssh_chars, tc)
{
	static const char	*hosts[] = { "exa mple", "a/b", "[::1]",
	    "-oProxyCommand", "ho\\nst", "h%eth0", "h\\u0007", "h;ls",
	    "h\xc3\xa9" };
	struct msg_ssh_open	 o;
	char			*b;
	size_t			 i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		b = t_body("{\"host\":\"%s\"," CRED "}", hosts[i]);
		t_ssh_bad(b, "host must be a host name or an IPv4 or IPv6 "
		    "address");
		free(b);
	}
	t_ssh_bad("{\"host\":\"h\",\"username\":\"a\\tb\",\"password\":\"p\"}",
	    "username must not contain control characters");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"a\\u007f\","
	    "\"password\":\"p\"}",
	    "username must not contain control characters");
	t_ssh_bad("{\"host\":\"h\",\"name\":\"a\\r\"," CRED "}",
	    "name must not contain control characters");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"a\\u0000b\","
	    "\"password\":\"p\"}", "username must not contain NUL characters");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\","
	    "\"password\":\"p\\u0000\"}",
	    "password must not contain NUL characters");
	t_ssh_bad("{\"host\":\"h\\u0000.evil\"," CRED "}",
	    "host must not contain NUL characters");

	/* control characters are fine in secrets */
	t_ssh_good("{\"host\":\"h\",\"username\":\"u\","
	    "\"password\":\"a\\tb\\u0001\"}", &o);
	ATF_CHECK_STREQ(o.password, "a\tb\001");
}

ATF_TC_WITHOUT_HEAD(ssh_secrets_cleared);
ATF_TC_BODY(ssh_secrets_cleared, tc)
{
	struct msg_ssh_open	 o, zero;

	memset(&zero, 0, sizeof(zero));
	memset(&o, 'x', sizeof(o));
	/* the last field checked fails after the secrets were copied */
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":\"pw\","
	    "\"private_key\":\"key\",\"passphrase\":\"pp\",\"timeout\":999}",
	    "timeout must be between 1 and 300");
	ATF_CHECK_EQ(t_ssh("{\"host\":\"h\",\"username\":\"u\","
	    "\"password\":\"pw\",\"private_key\":\"key\",\"timeout\":999}",
	    &o), -1);
	ATF_CHECK(memcmp(&o, &zero, sizeof(o)) == 0);
}

ATF_TC_WITHOUT_HEAD(json_syntax);
ATF_TC_BODY(json_syntax, tc)
{
	static const char	 nul[] = "{\"host\":\"h\"," CRED "}";
	static const char	 instr[] = "{\"host\":\"h\0\"," CRED "}";
	struct msg_ssh_open	 o;

	t_ssh_bad("", "Request body is empty");
	t_ssh_bad(" \r\n\t", "Request body is empty");
	t_ssh_bad("{", "Invalid JSON: unexpected end of data");
	t_ssh_bad("{\"host\":\"h", "Invalid JSON: unexpected end of data");
	t_ssh_bad("{\"host\" \"h\"}", "Invalid JSON: expected ':' after an "
	    "object key near byte offset 8");
	t_ssh_bad("{\"host\":\"h\",}",
	    "Invalid JSON: unexpected character near byte offset 12");
	t_ssh_bad("{host:1}", "Invalid JSON: expected a quoted object key "
	    "near byte offset 1");
	t_ssh_bad("{\"a\":tru}", "Invalid JSON: invalid literal near byte "
	    "offset 8");
	t_ssh_bad("{\"a\":012}", "Invalid JSON: invalid number near byte "
	    "offset 8");
	t_ssh_bad("/* c */{}", "Invalid JSON: unexpected character near byte "
	    "offset 0");
	t_ssh_bad("[1]", "Request body must be a JSON object");
	t_ssh_bad("null", "Request body must be a JSON object");
	t_ssh_bad("\"host\"", "Request body must be a JSON object");
	t_ssh_bad("42", "Request body must be a JSON object");

	/* a value must not be followed by anything but white space */
	t_ssh_bad("{\"host\":\"h\"," CRED "} x",
	    "Invalid JSON: unexpected character near byte offset 43");
	t_ssh_bad("{\"host\":\"h\"," CRED "}{}",
	    "Invalid JSON: unexpected character near byte offset 42");
	ATF_CHECK_EQ(jv_ssh_open(nul, sizeof(nul), &o, err, sizeof(err)),
	    -1);
	ATF_CHECK_STREQ(err, "Invalid JSON: unexpected data after the value "
	    "at byte offset 42");
	/* a NUL inside a string is not JSON */
	ATF_CHECK_EQ(jv_ssh_open(instr, sizeof(instr) - 1, &o, err,
	    sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "Invalid JSON: unexpected end of data");

	/* too large is refused before anything is read */
	ATF_CHECK_EQ(jv_ssh_open("{}", (size_t)INT_MAX + 1, &o, err,
	    sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "Request body is too large");

	/* err is bounded and always terminated */
	ATF_CHECK_EQ(jv_ssh_open("[]", 2, &o, err, 8), -1);
	ATF_CHECK_STREQ(err, "Request");
	ATF_CHECK_EQ(jv_ssh_open("[]", 2, &o, NULL, 0), -1);
}

ATF_TC_WITHOUT_HEAD(json_depth);
ATF_TC_BODY(json_depth, tc)
{
	struct msg_ssh_open	 o;
	char			*open, *close, *b;

	open = t_fill('[', 10000);
	t_ssh_bad(open, "Invalid JSON: nesting too deep near byte offset 16");
	free(open);

	/* the object itself and 15 arrays inside fit, 16 do not */
	open = t_fill('[', JV_MAX_DEPTH - 1);
	close = t_fill(']', JV_MAX_DEPTH - 1);
	b = t_body("{\"x\":%s%s,\"host\":\"h\"," CRED "}", open, close);
	t_ssh_good(b, &o);
	free(b);
	b = t_body("{\"x\":[%s%s],\"host\":\"h\"," CRED "}", open, close);
	t_ssh_bad(b, "Invalid JSON: nesting too deep near byte offset 20");
	free(b);
	free(open);
	free(close);

	open = t_fill('{', 10000);
	t_ssh_bad(open, "Invalid JSON: expected a quoted object key near byte "
	    "offset 1");
	free(open);
}

ATF_TC_WITHOUT_HEAD(json_utf8);
ATF_TC_BODY(json_utf8, tc)
{
	struct msg_ssh_open	 o;

	/* bytes json-c itself refuses */
	t_ssh_bad("{\"host\":\"h\",\"username\":\"\xff\",\"password\":\"p\"}",
	    "Invalid JSON: invalid UTF-8 near byte offset 24");
	t_ssh_bad("{\"junk\":\"\x80\",\"host\":\"h\"," CRED "}",
	    "Invalid JSON: invalid UTF-8 near byte offset 9");
	/* overlong, surrogate and truncated forms json-c lets through */
	t_ssh_bad("{\"host\":\"h\",\"username\":\"\xc0\x80\","
	    "\"password\":\"p\"}",
	    "username is not valid UTF-8");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"\xed\xa0\x80\","
	    "\"password\":\"p\"}", "username is not valid UTF-8");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":\"\xe0\x80"
	    "\x80\"}", "password is not valid UTF-8");
	t_ssh_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":\"\xf4\x90"
	    "\x80\x80\"}", "password is not valid UTF-8");
	/* a lone surrogate escape arrives as U+FFFD */
	t_ssh_good("{\"host\":\"h\",\"name\":\"\\ud800\"," CRED "}", &o);
	ATF_CHECK_STREQ(o.name, "\xef\xbf\xbd");
	/* a proper pair decodes */
	t_ssh_good("{\"host\":\"h\",\"name\":\"\\ud83d\\ude00\"," CRED "}", &o);
	ATF_CHECK_STREQ(o.name, "\xf0\x9f\x98\x80");
}

ATF_TC_WITHOUT_HEAD(json_extras);
ATF_TC_BODY(json_extras, tc)
{
	struct msg_ssh_open	 o;

	/* unknown fields are ignored, whatever they hold */
	t_ssh_good("{\"host\":\"h\",\"extra\":{\"a\":[1,2,{\"b\":null}]},"
	    "\"auth_method\":\"password\"," CRED "}", &o);
	ATF_CHECK_STREQ(o.host, "h");
	/* duplicate keys: the last one wins */
	t_ssh_good("{\"host\":\"first\",\"host\":\"second\"," CRED "}", &o);
	ATF_CHECK_STREQ(o.host, "second");
	t_ssh_good("{\"host\":\"h\",\"port\":\"x\",\"port\":23," CRED "}", &o);
	ATF_CHECK_EQ(o.port, 23u);
	t_ssh_bad("{\"host\":\"h\",\"port\":23,\"port\":\"x\"," CRED "}",
	    "port must be an integer");
}

ATF_TC_WITHOUT_HEAD(ftp_open);
ATF_TC_BODY(ftp_open, tc)
{
	struct msg_ftp_open	 o;

	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"ftp.example.org\"," CRED "}", &o),
	    0);
	ATF_CHECK_STREQ(o.host, "ftp.example.org");
	ATF_CHECK_EQ(o.port, 21u);
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_NONE);
	ATF_CHECK_EQ(o.passive, 1u);
	ATF_CHECK_EQ(o.insecure, 0u);
	ATF_CHECK_EQ(o.timeout, 0u);
	ATF_CHECK_STREQ(o.password, "p");

	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"port\":2121,\"username\":"
	    "\"anonymous\",\"password\":\"\",\"tls\":\"explicit\","
	    "\"passive\":false,\"insecure\":true,\"name\":\"n\","
	    "\"timeout\":10}", &o), 0);
	ATF_CHECK_EQ(o.port, 2121u);
	ATF_CHECK_STREQ(o.password, "");
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_EXPLICIT);
	ATF_CHECK_EQ(o.passive, 0u);
	ATF_CHECK_EQ(o.insecure, 1u);
	ATF_CHECK_STREQ(o.name, "n");
	ATF_CHECK_EQ(o.timeout, 10u);

	/* implicit TLS has its own default port */
	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"tls\":\"implicit\"," CRED "}",
	    &o), 0);
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_IMPLICIT);
	ATF_CHECK_EQ(o.port, 990u);
	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"tls\":\"implicit\",\"port\":21,"
	    CRED "}", &o), 0);
	ATF_CHECK_EQ(o.port, 21u);

	/* booleans for older frontends */
	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"tls\":true," CRED "}", &o), 0);
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_EXPLICIT);
	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"tls\":false," CRED "}", &o),
	    0);
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_NONE);
	ATF_REQUIRE_EQ(t_ftp("{\"host\":\"h\",\"tls\":\"none\"," CRED "}", &o),
	    0);
	ATF_CHECK_EQ(o.tls, (uint32_t)FTP_TLS_NONE);
}

ATF_TC_WITHOUT_HEAD(ftp_bad);
ATF_TC_BODY(ftp_bad, tc)
{
	static const char	*tlsmsg =
	    "tls must be \"none\", \"explicit\" or \"implicit\"";
	struct msg_ftp_open	 o;

	t_ftp_bad("{\"host\":\"h\",\"username\":\"u\"}",
	    "password is required");
	t_ftp_bad("{\"username\":\"u\",\"password\":\"\"}", "host is required");
	t_ftp_bad("{\"host\":\"h\",\"password\":\"\"}", "username is required");
	t_ftp_bad("{\"host\":\"h\",\"username\":\"u\",\"password\":7}",
	    "password must be a string");
	t_ftp_bad("{\"host\":\"h\",\"tls\":\"ssl\"," CRED "}", tlsmsg);
	t_ftp_bad("{\"host\":\"h\",\"tls\":\"Explicit\"," CRED "}", tlsmsg);
	t_ftp_bad("{\"host\":\"h\",\"tls\":\"none\\u0000x\"," CRED "}", tlsmsg);
	t_ftp_bad("{\"host\":\"h\",\"tls\":1," CRED "}", tlsmsg);
	t_ftp_bad("{\"host\":\"h\",\"passive\":\"yes\"," CRED "}",
	    "passive must be true or false");
	t_ftp_bad("{\"host\":\"h\",\"insecure\":1," CRED "}",
	    "insecure must be true or false");
	t_ftp_bad("{\"host\":\"h\",\"port\":70000," CRED "}",
	    "port must be between 1 and 65535");
	t_ftp_bad("{\"host\":\"h\",\"timeout\":-5," CRED "}",
	    "timeout must be between 1 and 300");
	t_ftp_bad("{\"host\":\"a b\"," CRED "}",
	    "host must be a host name or an IPv4 or IPv6 address");
	t_ftp_bad("{\"host\":\"h\"," CRED "", "Invalid JSON: unexpected end "
	    "of data");

	memset(&o, 'x', sizeof(o));
	ATF_CHECK_EQ(t_ftp("{\"host\":\"h\",\"username\":\"u\",\"password\":"
	    "\"secret\",\"insecure\":\"no\"}", &o), -1);
	ATF_CHECK(o.password[0] == '\0' && o.password[1] == '\0');
}

/* The path body must be refused with exactly msg. */
static void
t_path_bad(const char *body, const char *msg)
{
	char	 path[P_PATH_LEN];

	ATF_CHECK_EQ_MSG(jv_path_req(body, strlen(body), path, sizeof(path),
	    err, sizeof(err)), -1, "accepted: %s", body);
	ATF_CHECK_STREQ_MSG(err, msg, "for %s", body);
}

/* The execute body must be refused with exactly msg, command cleared. */
static void
t_exec_bad(const char *body, const char *msg)
{
	struct msg_op	 op;

	memset(&op, 'x', sizeof(op));
	ATF_CHECK_EQ_MSG(jv_exec(body, strlen(body), &op, err, sizeof(err)),
	    -1, "accepted: %s", body);
	ATF_CHECK_STREQ_MSG(err, msg, "for %s", body);
	ATF_CHECK_STREQ(op.command, "");
	ATF_CHECK_EQ(op.timeout, 0u);
}

ATF_TC_WITHOUT_HEAD(path_req);
ATF_TC_BODY(path_req, tc)
{
	char	 path[P_PATH_LEN], small[8], *s, *b;

	ATF_CHECK_EQ(jv_path_req("{\"path\":\"/home/u/a b.txt\"}", 26, path,
	    sizeof(path), err, sizeof(err)), 0);
	ATF_CHECK_STREQ(path, "/home/u/a b.txt");
	t_path_bad("{}", "path is required");
	t_path_bad("{\"path\":null}", "path is required");
	t_path_bad("{\"path\":\"\"}", "path must not be empty");
	t_path_bad("{\"path\":[\"/\"]}", "path must be a string");
	t_path_bad("{\"path\":\"/a\\rb\"}", "path must not contain CR or LF");
	t_path_bad("{\"path\":\"/a\\nb\"}", "path must not contain CR or LF");
	t_path_bad("{\"path\":\"/a\\u0000b\"}",
	    "path must not contain NUL characters");
	t_path_bad("{\"path\":\"/a\"} /", "Invalid JSON: unexpected character "
	    "near byte offset 14");
	t_path_bad("[\"path\"]", "Request body must be a JSON object");

	s = t_fill('p', P_PATH_LEN - 1);
	b = t_body("{\"path\":\"%s\"}", s);
	ATF_CHECK_EQ(jv_path_req(b, strlen(b), path, sizeof(path), err,
	    sizeof(err)), 0);
	ATF_CHECK_EQ(strlen(path), (size_t)P_PATH_LEN - 1);
	free(b);
	b = t_body("{\"path\":\"/%s\"}", s);
	ATF_CHECK_EQ(jv_path_req(b, strlen(b), path, sizeof(path), err,
	    sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path is too long (at most 4095 bytes)");
	free(b);
	free(s);

	/* a smaller buffer than P_PATH_LEN bounds the length */
	ATF_CHECK_EQ(jv_path_req("{\"path\":\"/123456\"}", 18, small,
	    sizeof(small), err, sizeof(err)), 0);
	ATF_CHECK_STREQ(small, "/123456");
	ATF_CHECK_EQ(jv_path_req("{\"path\":\"/1234567\"}", 19, small,
	    sizeof(small), err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path is too long (at most 7 bytes)");
}

ATF_TC_WITHOUT_HEAD(path_ok);
ATF_TC_BODY(path_ok, tc)
{
	char	*s;

	ATF_CHECK_EQ(jv_path_ok("/srv/data", err, sizeof(err)), 0);
	ATF_CHECK_EQ(jv_path_ok(".", err, sizeof(err)), 0);
	/* remote names need not be UTF-8 */
	ATF_CHECK_EQ(jv_path_ok("/tmp/\xff", err, sizeof(err)), 0);
	ATF_CHECK_EQ(jv_path_ok("", err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path must not be empty");
	ATF_CHECK_EQ(jv_path_ok(NULL, err, sizeof(err)), -1);
	ATF_CHECK_EQ(jv_path_ok("/a\r\nHost: x", err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path must not contain CR or LF");
	ATF_CHECK_EQ(jv_path_ok("/a\n", err, sizeof(err)), -1);
	ATF_CHECK_EQ(jv_path_okn("/a\0b", 4, err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path must not contain NUL characters");
	ATF_CHECK_EQ(jv_path_okn("/a\0b", 2, err, sizeof(err)), 0);

	s = t_fill('/', P_PATH_LEN - 1);
	ATF_CHECK_EQ(jv_path_ok(s, err, sizeof(err)), 0);
	free(s);
	s = t_fill('/', P_PATH_LEN + 100);
	ATF_CHECK_EQ(jv_path_ok(s, err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "path is too long (at most 4095 bytes)");
	free(s);
}

ATF_TC_WITHOUT_HEAD(exec);
ATF_TC_BODY(exec, tc)
{
	struct msg_op	 op;
	const char	*body;
	char		*s, *b;

	memset(&op, 0, sizeof(op));
	op.reqid = 7;
	strlcpy(op.id, "abc", sizeof(op.id));
	body = "{\"command\":\"ls -l /\\nuname -a\",\"timeout\":3600}";
	ATF_REQUIRE_EQ(jv_exec(body, strlen(body), &op, err, sizeof(err)), 0);
	ATF_CHECK_STREQ(op.command, "ls -l /\nuname -a");
	ATF_CHECK_EQ(op.timeout, 3600u);
	ATF_CHECK_EQ(op.reqid, 7u);
	ATF_CHECK_STREQ(op.id, "abc");
	ATF_REQUIRE_EQ(jv_exec("{\"command\":\"id\"}", 16, &op, err,
	    sizeof(err)), 0);
	ATF_CHECK_EQ(op.timeout, 0u);

	t_exec_bad("{}", "command is required");
	t_exec_bad("{\"cmd\":\"id\"}", "command is required");
	t_exec_bad("{\"command\":\"\"}", "command must not be empty");
	t_exec_bad("{\"command\":[\"id\"]}", "command must be a string");
	t_exec_bad("{\"command\":\"id\\u0000; rm -rf /\"}",
	    "command must not contain NUL characters");
	t_exec_bad("{\"command\":\"id\",\"timeout\":0}",
	    "timeout must be between 1 and 3600");
	t_exec_bad("{\"command\":\"id\",\"timeout\":3601}",
	    "timeout must be between 1 and 3600");
	t_exec_bad("{\"command\":\"id\",\"timeout\":\"5\"}",
	    "timeout must be an integer");
	t_exec_bad("{\"command\":\"id\",\"timeout\":1.5}",
	    "timeout must be an integer");

	s = t_fill('x', P_CMD_LEN - 1);
	b = t_body("{\"command\":\"%s\"}", s);
	ATF_CHECK_EQ(jv_exec(b, strlen(b), &op, err, sizeof(err)), 0);
	ATF_CHECK_EQ(strlen(op.command), (size_t)P_CMD_LEN - 1);
	free(b);
	b = t_body("{\"command\":\"x%s\"}", s);
	ATF_CHECK_EQ(jv_exec(b, strlen(b), &op, err, sizeof(err)), -1);
	ATF_CHECK_STREQ(err, "command is too long (at most 16383 bytes)");
	free(b);
	free(s);
}

ATF_TC_WITHOUT_HEAD(render_error);
ATF_TC_BODY(render_error, tc)
{
	struct json_object	*o;

	ATF_REQUIRE((o = jr_error("Session expired or not found",
	    "session_not_found")) != NULL);
	ATF_CHECK_STREQ(t_ser(o), "{\"error\":\"Session expired or not "
	    "found\",\"code\":\"session_not_found\"}");
	json_object_put(o);

	/* a remote's message may be anything */
	ATF_REQUIRE((o = jr_error("bad \"x\"\n\xff", "internal")) != NULL);
	ATF_CHECK_STREQ(t_ser(o), "{\"error\":\"bad \\\"x\\\"\\n\xef\xbf\xbd"
	    "\",\"code\":\"internal\"}");
	json_object_put(o);
}

ATF_TC_WITHOUT_HEAD(render_session);
ATF_TC_BODY(render_session, tc)
{
	struct msg_session	 s;
	struct json_object	*o, *hk;

	memset(&s, 0, sizeof(s));
	s.type = SESS_SSH;
	s.state = SESS_READY;
	s.port = 22;
	strlcpy(s.id, "0b8e7c1e-3b0a-4d7e-9a43-6d5f1c2b9e10", sizeof(s.id));
	strlcpy(s.host, "srv.example.com", sizeof(s.host));
	strlcpy(s.username, "alice", sizeof(s.username));
	strlcpy(s.hostkey_type, "ssh-ed25519", sizeof(s.hostkey_type));
	strlcpy(s.hostkey_sha256, "abcDEF012+/x", sizeof(s.hostkey_sha256));
	s.created = 1700000000;
	s.last_activity = 1700000060;
	s.expires = 1700001860;
	s.remaining = 1799;

	ATF_REQUIRE((o = jr_session(&s)) != NULL);
	ATF_CHECK_STREQ(t_str(o, "session_id"), s.id);
	ATF_CHECK_STREQ(t_str(o, "id"), s.id);
	ATF_CHECK_STREQ(t_str(o, "type"), "ssh");
	ATF_CHECK_STREQ(t_str(o, "host"), "srv.example.com");
	ATF_CHECK_EQ(t_int(o, "port"), 22);
	ATF_CHECK_STREQ(t_str(o, "username"), "alice");
	ATF_CHECK(t_isnull(o, "name"));
	ATF_CHECK_STREQ(t_str(o, "state"), "ready");
	ATF_CHECK_STREQ(t_str(o, "created_at"), "2023-11-14T22:13:20Z");
	ATF_CHECK_STREQ(t_str(o, "last_activity"), "2023-11-14T22:14:20Z");
	ATF_CHECK_STREQ(t_str(o, "expires_at"), "2023-11-14T22:44:20Z");
	ATF_CHECK_EQ(t_int(o, "time_remaining"), 1799);
	ATF_REQUIRE(json_object_object_get_ex(o, "host_key", &hk));
	ATF_CHECK_STREQ(t_str(hk, "type"), "ssh-ed25519");
	ATF_CHECK_STREQ(t_str(hk, "sha256"), "abcDEF012+/x");
	ATF_CHECK(!t_has(o, "tls"));
	json_object_put(o);

	/* FTP, connecting, negative remaining, unknown times */
	s.type = SESS_FTP;
	s.state = SESS_CONNECTING;
	s.tls = FTP_TLS_IMPLICIT;
	s.remaining = -5;
	s.last_activity = 0;
	strlcpy(s.name, "files", sizeof(s.name));
	ATF_REQUIRE((o = jr_session(&s)) != NULL);
	ATF_CHECK_STREQ(t_str(o, "type"), "ftp");
	ATF_CHECK_STREQ(t_str(o, "state"), "connecting");
	ATF_CHECK_STREQ(t_str(o, "name"), "files");
	ATF_CHECK_STREQ(t_str(o, "tls"), "implicit");
	ATF_CHECK_EQ(t_int(o, "time_remaining"), 0);
	ATF_CHECK(t_isnull(o, "last_activity"));
	ATF_CHECK(!t_has(o, "host_key"));
	json_object_put(o);

	/* SSH before the host key is known; busy */
	s.type = SESS_SSH;
	s.state = SESS_BUSY;
	s.hostkey_type[0] = '\0';
	ATF_REQUIRE((o = jr_session(&s)) != NULL);
	ATF_CHECK_STREQ(t_str(o, "state"), "busy");
	ATF_CHECK(t_isnull(o, "host_key"));
	json_object_put(o);

	/* unterminated fields from a broken peer stay within bounds */
	memset(s.host, 'h', sizeof(s.host));
	ATF_REQUIRE((o = jr_session(&s)) != NULL);
	ATF_CHECK_EQ(strlen(t_str(o, "host")), sizeof(s.host));
	json_object_put(o);
}

/* Render an entry with mode m and return its "permissions". */
static void
t_perms(uint32_t m, const char *mode, const char *perms)
{
	struct dc_entry		 e;
	struct json_object	*o;

	memset(&e, 0, sizeof(e));
	e.e_mode = m;
	e.e_type = S_ISDIR(m) ? DC_T_DIR : DC_T_FILE;
	ATF_REQUIRE((o = jr_entry(&e, "x", 1, NULL, 0)) != NULL);
	ATF_CHECK_STREQ_MSG(t_str(o, "mode"), mode, "mode %o", m);
	ATF_CHECK_STREQ_MSG(t_str(o, "permissions"), perms, "mode %o", m);
	json_object_put(o);
}

ATF_TC_WITHOUT_HEAD(render_perms);
ATF_TC_BODY(render_perms, tc)
{
	t_perms(S_IFDIR | 0755, "0755", "rwxr-xr-x");
	t_perms(S_IFREG | 04755, "4755", "rwsr-xr-x");
	t_perms(S_IFDIR | 01777, "1777", "rwxrwxrwt");
	t_perms(S_IFREG | 0644, "0644", "rw-r--r--");
	t_perms(S_IFREG | 04644, "4644", "rwSr--r--");
	t_perms(S_IFDIR | 01776, "1776", "rwxrwxrwT");
	t_perms(S_IFDIR | 02750, "2750", "rwxr-s---");
	t_perms(S_IFREG | 02640, "2640", "rw-r-S---");
	t_perms(0, "0000", "---------");
	t_perms(07777, "7777", "rwsrwsrwt");
}

ATF_TC_WITHOUT_HEAD(render_entry);
ATF_TC_BODY(render_entry, tc)
{
	struct dc_entry		 e;
	struct json_object	*o;

	memset(&e, 0, sizeof(e));
	e.e_type = DC_T_FILE;
	e.e_mode = S_IFREG | 0600;
	e.e_size = (uint64_t)1 << 40;
	e.e_mtime = 1700000000;
	e.e_uid = 1000;
	e.e_gid = 100;
	e.e_flags = DC_E_HASID;
	ATF_REQUIRE((o = jr_entry(&e, "notes.txt", 9, NULL, 0)) != NULL);
	ATF_CHECK_STREQ(t_str(o, "name"), "notes.txt");
	ATF_CHECK_STREQ(t_str(o, "type"), "file");
	ATF_CHECK_EQ(t_int(o, "size"), (int64_t)1 << 40);
	ATF_CHECK_STREQ(t_str(o, "mtime"), "2023-11-14T22:13:20Z");
	ATF_CHECK_EQ(t_int(o, "uid"), 1000);
	ATF_CHECK_EQ(t_int(o, "gid"), 100);
	ATF_CHECK(!t_has(o, "owner"));
	ATF_CHECK(!t_has(o, "group"));
	ATF_CHECK(!t_has(o, "link_target"));
	json_object_put(o);

	/* FTP style: names, no ids, no time; a link with its target */
	memset(&e, 0, sizeof(e));
	e.e_type = DC_T_LINK;
	e.e_mode = S_IFLNK | 0777;
	strlcpy(e.e_owner, "ftp", sizeof(e.e_owner));
	strlcpy(e.e_group, "users", sizeof(e.e_group));
	ATF_REQUIRE((o = jr_entry(&e, "cur", 3, "/var/www/cur\xff", 13)) !=
	    NULL);
	ATF_CHECK_STREQ(t_str(o, "type"), "link");
	ATF_CHECK(t_isnull(o, "mtime"));
	ATF_CHECK(!t_has(o, "uid"));
	ATF_CHECK(!t_has(o, "gid"));
	ATF_CHECK_STREQ(t_str(o, "owner"), "ftp");
	ATF_CHECK_STREQ(t_str(o, "group"), "users");
	ATF_CHECK_STREQ(t_str(o, "link_target"), "/var/www/cur\xef\xbf\xbd");
	json_object_put(o);

	ATF_REQUIRE((o = jr_entry(&e, "dangling", 8, NULL, 0)) != NULL);
	ATF_CHECK(t_isnull(o, "link_target"));
	json_object_put(o);

	e.e_type = 99;
	ATF_REQUIRE((o = jr_entry(&e, "fifo", 4, NULL, 0)) != NULL);
	ATF_CHECK_STREQ(t_str(o, "type"), "other");
	json_object_put(o);
}

/* An entry object with just a type and a name. */
static struct json_object *
t_ent(uint32_t type, const char *name, size_t len)
{
	struct dc_entry		 e;
	struct json_object	*o;

	memset(&e, 0, sizeof(e));
	e.e_type = type;
	ATF_REQUIRE((o = jr_entry(&e, name, len, NULL, 0)) != NULL);
	return o;
}

ATF_TC_WITHOUT_HEAD(render_sort);
ATF_TC_BODY(render_sort, tc)
{
	static const char	*want[] = { "B", "a", "z", "", "a", "a\0b",
	    "b", "c", "\xc3\xa9" };
	struct json_object	*a, *e, *n;
	size_t			 i;

	ATF_REQUIRE((a = json_object_new_array()) != NULL);
	json_object_array_add(a, t_ent(DC_T_FILE, "b", 1));
	json_object_array_add(a, t_ent(DC_T_DIR, "z", 1));
	json_object_array_add(a, t_ent(DC_T_LINK, "c", 1));
	json_object_array_add(a, t_ent(DC_T_FILE, "\xc3\xa9", 2));
	json_object_array_add(a, t_ent(DC_T_FILE, "a\0b", 3));
	json_object_array_add(a, t_ent(DC_T_DIR, "a", 1));
	json_object_array_add(a, t_ent(DC_T_FILE, "a", 1));
	json_object_array_add(a, t_ent(DC_T_OTHER, "", 0));
	json_object_array_add(a, t_ent(DC_T_DIR, "B", 1));
	jr_entries_sort(a);
	ATF_REQUIRE_EQ(json_object_array_length(a), 9u);
	for (i = 0; i < 9; i++) {
		e = json_object_array_get_idx(a, i);
		ATF_REQUIRE(json_object_object_get_ex(e, "name", &n));
		ATF_CHECK_STREQ_MSG(json_object_get_string(n), want[i],
		    "index %zu", i);
		ATF_CHECK_EQ_MSG(strcmp(t_str(e, "type"), "dir") == 0, i < 3,
		    "index %zu", i);
	}
	/* "a" before "a\0b": the length decides */
	e = json_object_array_get_idx(a, 5);
	ATF_REQUIRE(json_object_object_get_ex(e, "name", &n));
	ATF_CHECK_EQ(json_object_get_string_len(n), 3);
	json_object_put(a);

	/* not an array: nothing happens */
	jr_entries_sort(NULL);
	a = json_object_new_object();
	jr_entries_sort(a);
	json_object_put(a);
}

/*
 * jr_string_new(in) must give want; its serialization must re-parse
 * into valid UTF-8 equal to want.
 */
static void
t_strnew(const char *in, size_t inlen, const char *want, size_t wantlen)
{
	struct json_tokener	*tok;
	struct json_object	*o, *back;
	const char		*txt, *s;
	size_t			 len;

	ATF_REQUIRE((o = jr_string_new(in, inlen)) != NULL);
	ATF_CHECK_EQ((size_t)json_object_get_string_len(o), wantlen);
	ATF_CHECK(memcmp(json_object_get_string(o), want, wantlen) == 0);

	txt = t_ser(o);
	ATF_CHECK(utf8_valid(txt, strlen(txt)));
	ATF_REQUIRE((tok = json_tokener_new()) != NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	back = json_tokener_parse_ex(tok, txt, strlen(txt));
	ATF_REQUIRE_MSG(back != NULL, "%s does not re-parse", txt);
	ATF_REQUIRE(json_object_is_type(back, json_type_string));
	s = json_object_get_string(back);
	len = json_object_get_string_len(back);
	ATF_CHECK(utf8_valid(s, len));
	ATF_CHECK_EQ(len, wantlen);
	ATF_CHECK(memcmp(s, want, wantlen) == 0);
	json_object_put(back);
	json_tokener_free(tok);
	json_object_put(o);
}

#define FFFD	"\xef\xbf\xbd"
#define S(x)	x, sizeof(x) - 1

ATF_TC_WITHOUT_HEAD(render_string);
ATF_TC_BODY(render_string, tc)
{
	struct json_object	*o;

	t_strnew(S(""), S(""));
	t_strnew(S("plain"), S("plain"));
	t_strnew(S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	    S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
	t_strnew(S("a\xff" "b"), S("a" FFFD "b"));
	t_strnew(S("\x80\x80"), S(FFFD FFFD));
	/* one U+FFFD per byte of a truncated or bad sequence */
	t_strnew(S("x\xe2\x82"), S("x" FFFD FFFD));
	t_strnew(S("\xc0\x80"), S(FFFD FFFD));
	t_strnew(S("\xed\xa0\x80z"), S(FFFD FFFD FFFD "z"));
	t_strnew(S("\xf4\x90\x80\x80"), S(FFFD FFFD FFFD FFFD));
	t_strnew(S("\xf8\x88\x80\x80\x80"), S(FFFD FFFD FFFD FFFD FFFD));
	t_strnew(S("\xe2\x28\xa1"), S(FFFD "(" FFFD));
	t_strnew(S("ok\xf0\x9f\x98\x80\xf0\x9f"), S("ok\xf0\x9f\x98\x80"
	    FFFD FFFD));
	/* NUL is kept and escaped */
	t_strnew(S("a\0b\xff"), S("a\0b" FFFD));
	ATF_REQUIRE((o = jr_string_new("a\0b", 3)) != NULL);
	ATF_CHECK_STREQ(t_ser(o), "\"a\\u0000b\"");
	json_object_put(o);

	errno = 0;
	ATF_CHECK(jr_string_new("x", (size_t)INT_MAX + 1) == NULL);
	ATF_CHECK_EQ(errno, EOVERFLOW);
}

/* Random bytes through jr_entry must always serialize to valid UTF-8. */
ATF_TC_WITHOUT_HEAD(render_random);
ATF_TC_BODY(render_random, tc)
{
	struct dc_entry		 e;
	struct json_object	*o, *back;
	const char		*txt;
	char			 buf[64];
	size_t			 i, j, len;

	memset(&e, 0, sizeof(e));
	srandom(1);
	for (i = 0; i < 2000; i++) {
		len = random() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (char)(random() & 0xff);
		ATF_REQUIRE((o = jr_entry(&e, buf, len, NULL, 0)) != NULL);
		txt = t_ser(o);
		ATF_REQUIRE(utf8_valid(txt, strlen(txt)));
		ATF_REQUIRE((back = json_tokener_parse(txt)) != NULL);
		ATF_REQUIRE(utf8_valid(t_str(back, "name"),
		    json_object_get_string_len(json_object_object_get(back,
		    "name"))));
		json_object_put(back);
		json_object_put(o);
	}
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ssh_valid);
	ATF_TP_ADD_TC(tp, ssh_missing);
	ATF_TP_ADD_TC(tp, ssh_types);
	ATF_TP_ADD_TC(tp, ssh_range);
	ATF_TP_ADD_TC(tp, ssh_lengths);
	ATF_TP_ADD_TC(tp, ssh_chars);
	ATF_TP_ADD_TC(tp, ssh_secrets_cleared);
	ATF_TP_ADD_TC(tp, json_syntax);
	ATF_TP_ADD_TC(tp, json_depth);
	ATF_TP_ADD_TC(tp, json_utf8);
	ATF_TP_ADD_TC(tp, json_extras);
	ATF_TP_ADD_TC(tp, ftp_open);
	ATF_TP_ADD_TC(tp, ftp_bad);
	ATF_TP_ADD_TC(tp, path_req);
	ATF_TP_ADD_TC(tp, path_ok);
	ATF_TP_ADD_TC(tp, exec);
	ATF_TP_ADD_TC(tp, render_error);
	ATF_TP_ADD_TC(tp, render_session);
	ATF_TP_ADD_TC(tp, render_perms);
	ATF_TP_ADD_TC(tp, render_entry);
	ATF_TP_ADD_TC(tp, render_sort);
	ATF_TP_ADD_TC(tp, render_string);
	ATF_TP_ADD_TC(tp, render_random);
	return atf_no_error();
}
