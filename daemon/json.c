/*
 * JSON for the front: request bodies are parsed with json-c, checked field
 * by field and copied into the fixed wire structs (jv_); replies are built
 * as json-c objects (jr_).  The rules are listed in json.h.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "util.h"
#include "json.h"

/* jv_string() flags */
#define JV_REQUIRED	0x01	/* absent or null is an error */
#define JV_NONEMPTY	0x02	/* "" is an error */
#define JV_NOCTRL	0x04	/* no C0 control character or DEL */
#define JV_NOCRLF	0x08	/* no CR or LF */
#define JV_HOST		0x10	/* letters, digits and . - : _ only */

#define JR_ADD	(JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY)

static int	jv_fail(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

/* Put a sentence in err, set errno to EINVAL and return -1. */
static int
jv_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* Report an allocation failure: the caller answers with an internal error. */
static int
jv_nomem(char *err, size_t errlen)
{
	if (errlen > 0)
		strlcpy(err, "Out of memory", errlen);
	errno = ENOMEM;
	return -1;
}

/* Clear one string value in place; json-c hands out its own buffer. */
static void
jv_wipe_string(struct json_object *o)
{
	union {
		const char	*ro;
		char		*rw;
	} u;

	/* The object is ours and about to be freed: writing to it is safe. */
	u.ro = json_object_get_string(o);
	explicit_bzero(u.rw, json_object_get_string_len(o));
}

/* Clear every string in a parsed tree: any of them may be a secret. */
static void
jv_wipe(struct json_object *o, int depth)
{
	struct json_object_iterator	 it, end;
	size_t				 i, n;

	if (o == NULL || depth > JV_MAX_DEPTH)
		return;
	switch (json_object_get_type(o)) {
	case json_type_string:
		jv_wipe_string(o);
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			jv_wipe(json_object_array_get_idx(o, i), depth + 1);
		break;
	case json_type_object:
		it = json_object_iter_begin(o);
		end = json_object_iter_end(o);
		while (!json_object_iter_equal(&it, &end)) {
			jv_wipe(json_object_iter_peek_value(&it), depth + 1);
			json_object_iter_next(&it);
		}
		break;
	default:
		break;
	}
}

/* Wipe and free a parsed body. */
static void
jv_release(struct json_object *root)
{
	jv_wipe(root, 0);
	json_object_put(root);
}

/*
 * The tokener's scratch buffer still holds the text of the strings it
 * decoded last (a shorter string overwrites only the head of a longer
 * one), so clear all of it before freeing.
 * XXX json-c 0.16 documents these fields as private; there is no API.
 */
static void
jv_wipe_tokener(struct json_tokener *tok)
{
	if (tok->pb != NULL && tok->pb->buf != NULL && tok->pb->size > 0)
		explicit_bzero(tok->pb->buf, tok->pb->size);
}

/* Name what went wrong in a tokener error. */
static const char *
jv_syntax_what(enum json_tokener_error jerr)
{
	switch (jerr) {
	case json_tokener_error_depth:
		return "nesting too deep";
	case json_tokener_error_parse_unexpected:
		return "unexpected character";
	case json_tokener_error_parse_null:
	case json_tokener_error_parse_boolean:
		return "invalid literal";
	case json_tokener_error_parse_number:
		return "invalid number";
	case json_tokener_error_parse_array:
		return "malformed array";
	case json_tokener_error_parse_object_key_name:
		return "expected a quoted object key";
	case json_tokener_error_parse_object_key_sep:
		return "expected ':' after an object key";
	case json_tokener_error_parse_object_value_sep:
		return "expected ',' or '}' after an object value";
	case json_tokener_error_parse_string:
		return "malformed string";
	case json_tokener_error_parse_comment:
		return "comments are not allowed";
	case json_tokener_error_parse_utf8_string:
		return "invalid UTF-8";
	default:
		return "malformed input";
	}
}

/* Turn a tokener error at byte offset end into a sentence. */
static int
jv_syntax(enum json_tokener_error jerr, size_t end, char *err, size_t errlen)
{
	if (jerr == json_tokener_continue ||
	    jerr == json_tokener_error_parse_eof)
		return jv_fail(err, errlen,
		    "Invalid JSON: unexpected end of data");
	if (jerr == json_tokener_error_size)
		return jv_fail(err, errlen, "Request body is too large");
	return jv_fail(err, errlen, "Invalid JSON: %s near byte offset %zu",
	    jv_syntax_what(jerr), end);
}

/* Return 1 when buf holds nothing but JSON white space. */
static int
jv_blank(const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			return 0;
	return 1;
}

/*
 * Parse body into its top-level object.  Return 0 and the object in
 * *rootp, or -1 with err filled.
 */
static int
jv_parse(const char *body, size_t len, struct json_object **rootp,
    char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	size_t			 end;

	*rootp = NULL;
	if (len > INT_MAX)
		return jv_fail(err, errlen, "Request body is too large");
	if (jv_blank(body, len))
		return jv_fail(err, errlen, "Request body is empty");
	if ((tok = json_tokener_new_ex(JV_MAX_DEPTH)) == NULL)
		return jv_nomem(err, errlen);
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/*
	 * Size the tokener's string buffer for the whole body first: grown
	 * by realloc while parsing, it would leave unwiped copies of the
	 * strings (passwords, keys) in freed memory.
	 */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) == -1) {
		json_tokener_free(tok);
		return jv_nomem(err, errlen);
	}
	printbuf_reset(tok->pb);
	root = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	/*
	 * All was consumed but a bare number or literal may go on: a NUL
	 * tells the tokener the input has ended.
	 */
	if (jerr == json_tokener_continue) {
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	jv_wipe_tokener(tok);
	json_tokener_free(tok);

	if (jerr != json_tokener_success)
		return jv_syntax(jerr, end, err, errlen);
	/* Strict mode eats trailing white space; a NUL stops it early. */
	if (end != len) {
		jv_release(root);
		return jv_fail(err, errlen, "Invalid JSON: unexpected data "
		    "after the value at byte offset %zu", end);
	}
	if (!json_object_is_type(root, json_type_object)) {
		jv_release(root);
		return jv_fail(err, errlen,
		    "Request body must be a JSON object");
	}
	*rootp = root;
	return 0;
}

/* Check the characters of string field key against flags. */
static int
jv_chars(const char *key, const char *s, size_t len, int flags, char *err,
    size_t errlen)
{
	unsigned char	 c;
	size_t		 i;

	if (memchr(s, '\0', len) != NULL)
		return jv_fail(err, errlen,
		    "%s must not contain NUL characters", key);
	if (!utf8_valid(s, len))
		return jv_fail(err, errlen, "%s is not valid UTF-8", key);
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((flags & JV_NOCRLF) && (c == '\r' || c == '\n'))
			return jv_fail(err, errlen,
			    "%s must not contain CR or LF", key);
		if ((flags & JV_NOCTRL) && (c < 0x20 || c == 0x7f))
			return jv_fail(err, errlen,
			    "%s must not contain control characters", key);
		if ((flags & JV_HOST) && strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_", c) == NULL)
			return jv_fail(err, errlen, "%s must be a host name "
			    "or an IPv4 or IPv6 address", key);
	}
	/* A leading '-' is never a valid name and looks like an option. */
	if ((flags & JV_HOST) && len > 0 && s[0] == '-')
		return jv_fail(err, errlen, "%s must be a host name or an "
		    "IPv4 or IPv6 address", key);
	return 0;
}

/*
 * Copy string field key of root, at most max bytes, into dst (which has
 * room for max + 1).  Return 1 when present, 0 when absent (dst is
 * empty), -1 on error.
 */
static int
jv_string(struct json_object *root, const char *key, int flags, size_t max,
    char *dst, char *err, size_t errlen)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;

	dst[0] = '\0';
	if ((v = json_object_object_get(root, key)) == NULL) {
		if (flags & JV_REQUIRED)
			return jv_fail(err, errlen, "%s is required", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return jv_fail(err, errlen, "%s must be a string", key);
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);

	if (len == 0 && (flags & JV_NONEMPTY))
		return jv_fail(err, errlen, "%s must not be empty", key);
	if (len > max)
		return jv_fail(err, errlen,
		    "%s is too long (at most %zu bytes)", key, max);
	if (jv_chars(key, s, len, flags, err, errlen) == -1)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 1;
}

/*
 * Read integer field key of root into *dst, def when absent.  Return 1
 * when present, 0 when absent, -1 on error.
 */
static int
jv_int(struct json_object *root, const char *key, int64_t min, int64_t max,
    uint32_t def, uint32_t *dst, char *err, size_t errlen)
{
	struct json_object	*v;
	int64_t			 n;

	*dst = def;
	if ((v = json_object_object_get(root, key)) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return jv_fail(err, errlen, "%s must be an integer", key);
	/* json-c clamps what does not fit in 64 bits; still out of range. */
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return jv_fail(err, errlen, "%s must be between %lld and %lld",
		    key, (long long)min, (long long)max);
	*dst = (uint32_t)n;
	return 1;
}

/* Read boolean field key of root into *dst, def when absent. */
static int
jv_bool(struct json_object *root, const char *key, uint32_t def,
    uint32_t *dst, char *err, size_t errlen)
{
	struct json_object	*v;

	*dst = def;
	if ((v = json_object_object_get(root, key)) == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return jv_fail(err, errlen, "%s must be true or false", key);
	*dst = json_object_get_boolean(v) ? 1 : 0;
	return 1;
}

/* Read the FTP "tls" field: a mode name, or a boolean for old frontends. */
static int
jv_tls(struct json_object *root, uint32_t *dst, char *err, size_t errlen)
{
	static const char	*names[] = { "none", "explicit", "implicit" };
	struct json_object	*v;
	const char		*s;
	uint32_t		 i;

	*dst = FTP_TLS_NONE;
	if ((v = json_object_object_get(root, "tls")) == NULL)
		return 0;
	if (json_object_is_type(v, json_type_boolean)) {
		*dst = json_object_get_boolean(v) ? FTP_TLS_EXPLICIT :
		    FTP_TLS_NONE;
		return 1;
	}
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			/* strcmp stops at an embedded NUL: compare lengths */
			if (strcmp(s, names[i]) == 0 &&
			    strlen(names[i]) ==
			    (size_t)json_object_get_string_len(v)) {
				*dst = i;
				return 1;
			}
		}
	}
	return jv_fail(err, errlen,
	    "tls must be \"none\", \"explicit\" or \"implicit\"");
}

/* Fields shared by both connection requests. */
static int
jv_open_common(struct json_object *root, char *host, char *username,
    char *name, uint32_t *timeout, char *err, size_t errlen)
{
	if (jv_string(root, "host", JV_REQUIRED | JV_NONEMPTY | JV_HOST,
	    P_HOST_LEN - 1, host, err, errlen) == -1 ||
	    jv_string(root, "username", JV_REQUIRED | JV_NONEMPTY | JV_NOCTRL,
	    P_USER_LEN - 1, username, err, errlen) == -1 ||
	    jv_string(root, "name", JV_NOCTRL, P_NAME_LEN - 1, name,
	    err, errlen) == -1 ||
	    jv_int(root, "timeout", 1, 300, 0, timeout, err, errlen) == -1)
		return -1;
	return 0;
}

/* Validate a POST /connections/ssh body into *out (cleared first). */
int
jv_ssh_open(const char *body, size_t len, struct msg_ssh_open *out,
    char *err, size_t errlen)
{
	struct json_object	*root;
	int			 rv = -1;

	memset(out, 0, sizeof(*out));
	if (jv_parse(body, len, &root, err, errlen) == -1)
		return -1;
	if (jv_open_common(root, out->host, out->username, out->name,
	    &out->timeout, err, errlen) == -1 ||
	    jv_int(root, "port", 1, 65535, 22, &out->port, err, errlen) == -1 ||
	    jv_string(root, "password", JV_NOCRLF, P_PASS_LEN - 1,
	    out->password, err, errlen) == -1 ||
	    jv_string(root, "private_key", 0, P_KEY_LEN - 1, out->private_key,
	    err, errlen) == -1 ||
	    jv_string(root, "passphrase", JV_NOCRLF, P_PASS_LEN - 1,
	    out->passphrase, err, errlen) == -1)
		goto done;
	if (out->password[0] == '\0' && out->private_key[0] == '\0') {
		jv_fail(err, errlen, "password or private_key is required");
		goto done;
	}
	rv = 0;
 done:
	jv_release(root);
	if (rv == -1)
		explicit_bzero(out, sizeof(*out));
	return rv;
}

/*
 * Validate a POST /connections/ftp body into *out (cleared first).
 * Without a port, implicit TLS defaults to 990, anything else to 21.
 */
int
jv_ftp_open(const char *body, size_t len, struct msg_ftp_open *out,
    char *err, size_t errlen)
{
	struct json_object	*root;
	int			 rv = -1, haveport = 0;

	memset(out, 0, sizeof(*out));
	if (jv_parse(body, len, &root, err, errlen) == -1)
		return -1;
	if (jv_open_common(root, out->host, out->username, out->name,
	    &out->timeout, err, errlen) == -1 ||
	    (haveport = jv_int(root, "port", 1, 65535, 21, &out->port,
	    err, errlen)) == -1 ||
	    jv_string(root, "password", JV_REQUIRED | JV_NOCRLF,
	    P_PASS_LEN - 1, out->password, err, errlen) == -1 ||
	    jv_tls(root, &out->tls, err, errlen) == -1 ||
	    jv_bool(root, "passive", 1, &out->passive, err, errlen) == -1 ||
	    jv_bool(root, "insecure", 0, &out->insecure, err, errlen) == -1)
		goto done;
	if (!haveport && out->tls == FTP_TLS_IMPLICIT)
		out->port = 990;
	rv = 0;
 done:
	jv_release(root);
	if (rv == -1)
		explicit_bzero(out, sizeof(*out));
	return rv;
}

/* Validate a {"path": ...} body; path has room for pathlen bytes. */
int
jv_path_req(const char *body, size_t len, char *path, size_t pathlen,
    char *err, size_t errlen)
{
	struct json_object	*root;
	size_t			 max;
	int			 rv;

	if (pathlen == 0)
		return jv_fail(err, errlen, "no room for the path");
	path[0] = '\0';
	max = (pathlen < P_PATH_LEN ? pathlen : P_PATH_LEN) - 1;
	if (jv_parse(body, len, &root, err, errlen) == -1)
		return -1;
	rv = jv_string(root, "path", JV_REQUIRED | JV_NONEMPTY | JV_NOCRLF,
	    max, path, err, errlen);
	jv_release(root);
	return rv == -1 ? -1 : 0;
}

/* Validate an execute body into op->command and op->timeout only. */
int
jv_exec(const char *body, size_t len, struct msg_op *op, char *err,
    size_t errlen)
{
	struct json_object	*root;
	int			 rv = -1;

	op->command[0] = '\0';
	op->timeout = 0;
	if (jv_parse(body, len, &root, err, errlen) == -1)
		return -1;
	if (jv_string(root, "command", JV_REQUIRED | JV_NONEMPTY,
	    P_CMD_LEN - 1, op->command, err, errlen) != -1 &&
	    jv_int(root, "timeout", 1, 3600, 0, &op->timeout, err,
	    errlen) != -1)
		rv = 0;
	jv_release(root);
	if (rv == -1) {
		explicit_bzero(op->command, sizeof(op->command));
		op->timeout = 0;
	}
	return rv;
}

/*
 * Check a path taken from a query string (already percent-decoded, so
 * it may hold NUL bytes): non-empty, bounded, no NUL, CR or LF.  Its
 * UTF-8 is not checked: a remote name need not be UTF-8.
 */
int
jv_path_okn(const char *path, size_t len, char *err, size_t errlen)
{
	size_t	 i;

	if (path == NULL || len == 0)
		return jv_fail(err, errlen, "path must not be empty");
	if (len > P_PATH_LEN - 1)
		return jv_fail(err, errlen,
		    "path is too long (at most %d bytes)", P_PATH_LEN - 1);
	for (i = 0; i < len; i++) {
		if (path[i] == '\0')
			return jv_fail(err, errlen,
			    "path must not contain NUL characters");
		if (path[i] == '\r' || path[i] == '\n')
			return jv_fail(err, errlen,
			    "path must not contain CR or LF");
	}
	return 0;
}

/* jv_path_okn() for a C string. */
int
jv_path_ok(const char *path, char *err, size_t errlen)
{
	if (path == NULL)
		return jv_path_okn(NULL, 0, err, errlen);
	return jv_path_okn(path, strnlen(path, P_PATH_LEN), err, errlen);
}

/*
 * Length of the well-formed UTF-8 sequence at p (left bytes remain), or
 * 0 when the byte at p does not start one.
 */
static size_t
jr_seqlen(const unsigned char *p, size_t left)
{
	size_t	 n;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return 0;
	if (n > left || !utf8_valid((const char *)p, n))
		return 0;
	return n;
}

/*
 * A JSON string from arbitrary bytes.  Each byte that does not belong to
 * a well-formed UTF-8 sequence becomes one U+FFFD (so a truncated 3-byte
 * sequence gives two); NUL is kept and serialized as \u0000.
 */
struct json_object *
jr_string_new(const char *buf, size_t len)
{
	struct json_object	*o;
	const unsigned char	*p = (const unsigned char *)buf;
	char			*out;
	size_t			 i, n, olen = 0;

	if (len > INT_MAX) {
		errno = EOVERFLOW;
		return NULL;
	}
	if (len == 0 || utf8_valid(buf, len)) {
		o = json_object_new_string_len(len ? buf : "", (int)len);
		goto done;
	}
	if (len > INT_MAX / 3) {
		errno = EOVERFLOW;
		return NULL;
	}
	if ((out = malloc(len * 3)) == NULL)
		return NULL;
	for (i = 0; i < len; i += n) {
		if ((n = jr_seqlen(p + i, len - i)) == 0) {
			memcpy(out + olen, "\xef\xbf\xbd", 3);
			olen += 3;
			n = 1;
		} else {
			memcpy(out + olen, p + i, n);
			olen += n;
		}
	}
	o = json_object_new_string_len(out, (int)olen);
	free(out);
 done:
	if (o == NULL)
		errno = ENOMEM;
	return o;
}

/* Add v under a constant key; count a failure (or a NULL v) in *bad. */
static void
jr_add(struct json_object *o, const char *key, struct json_object *v,
    int *bad)
{
	if (v == NULL) {
		(*bad)++;
		return;
	}
	if (json_object_object_add_ex(o, key, v, JR_ADD) != 0) {
		json_object_put(v);
		(*bad)++;
	}
}

/* Add a JSON null. */
static void
jr_add_null(struct json_object *o, const char *key, int *bad)
{
	if (json_object_object_add_ex(o, key, NULL, JR_ADD) != 0)
		(*bad)++;
}

/* Add a fixed-size string field of maxlen bytes, "" as null if asked. */
static void
jr_add_str(struct json_object *o, const char *key, const char *s,
    size_t maxlen, int emptynull, int *bad)
{
	size_t	 len = strnlen(s, maxlen);

	if (len == 0 && emptynull)
		jr_add_null(o, key, bad);
	else
		jr_add(o, key, jr_string_new(s, len), bad);
}

/* Add a time as ISO 8601 UTC, 0 as null. */
static void
jr_add_time(struct json_object *o, const char *key, int64_t t, int *bad)
{
	char	 buf[64];

	if (t == 0) {
		jr_add_null(o, key, bad);
		return;
	}
	time_iso8601((time_t)t, buf, sizeof(buf));
	jr_add(o, key, json_object_new_string(buf), bad);
}

/* Hand back a finished object, or free it when any step failed. */
static struct json_object *
jr_done(struct json_object *o, int bad)
{
	if (bad) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

/* {"error": message, "code": code} */
struct json_object *
jr_error(const char *message, const char *code)
{
	struct json_object	*o;
	int			 bad = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	jr_add(o, "error", jr_string_new(message, strlen(message)), &bad);
	jr_add(o, "code", jr_string_new(code, strlen(code)), &bad);
	return jr_done(o, bad);
}

/* Name a session state. */
static const char *
jr_state(uint32_t state)
{
	switch (state) {
	case SESS_CONNECTING:
		return "connecting";
	case SESS_READY:
		return "ready";
	case SESS_BUSY:
		return "busy";
	case SESS_DEAD:
		return "closed";
	default:
		return "unknown";
	}
}

/* Name an FTP TLS mode. */
static const char *
jr_tls(uint32_t tls)
{
	switch (tls) {
	case FTP_TLS_NONE:
		return "none";
	case FTP_TLS_EXPLICIT:
		return "explicit";
	case FTP_TLS_IMPLICIT:
		return "implicit";
	default:
		return "unknown";
	}
}

/* {"type", "sha256"} of an SSH host key, or null before it is known. */
static void
jr_add_hostkey(struct json_object *o, const struct msg_session *s, int *bad)
{
	struct json_object	*hk;

	if (s->hostkey_type[0] == '\0') {
		jr_add_null(o, "host_key", bad);
		return;
	}
	if ((hk = json_object_new_object()) == NULL) {
		(*bad)++;
		return;
	}
	jr_add_str(hk, "type", s->hostkey_type, sizeof(s->hostkey_type), 0,
	    bad);
	jr_add_str(hk, "sha256", s->hostkey_sha256,
	    sizeof(s->hostkey_sha256), 0, bad);
	jr_add(o, "host_key", hk, bad);
}

/*
 * One session as the API shows it.  "id" repeats "session_id" for
 * frontends that read either.  Times come from the parent as they were
 * when it answered; time_remaining is never negative.
 */
struct json_object *
jr_session(const struct msg_session *s)
{
	struct json_object	*o;
	int			 bad = 0, ssh = s->type == SESS_SSH;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	jr_add_str(o, "session_id", s->id, sizeof(s->id), 0, &bad);
	jr_add_str(o, "id", s->id, sizeof(s->id), 0, &bad);
	jr_add(o, "type", json_object_new_string(ssh ? "ssh" :
	    s->type == SESS_FTP ? "ftp" : "unknown"), &bad);
	jr_add_str(o, "host", s->host, sizeof(s->host), 0, &bad);
	jr_add(o, "port", json_object_new_int64(s->port), &bad);
	jr_add_str(o, "username", s->username, sizeof(s->username), 0, &bad);
	jr_add_str(o, "name", s->name, sizeof(s->name), 1, &bad);
	jr_add(o, "state", json_object_new_string(jr_state(s->state)), &bad);
	jr_add_time(o, "created_at", s->created, &bad);
	jr_add_time(o, "last_activity", s->last_activity, &bad);
	jr_add_time(o, "expires_at", s->expires, &bad);
	jr_add(o, "time_remaining",
	    json_object_new_int64(s->remaining > 0 ? s->remaining : 0), &bad);
	if (ssh)
		jr_add_hostkey(o, s, &bad);
	else if (s->type == SESS_FTP)
		jr_add(o, "tls", json_object_new_string(jr_tls(s->tls)), &bad);
	return jr_done(o, bad);
}

/* ls(1) style permission bits, with s/S/t/T for the special bits. */
static void
jr_perms(uint32_t mode, char buf[10])
{
	static const char	 rwx[] = "rwxrwxrwx";
	int			 i;

	for (i = 0; i < 9; i++)
		buf[i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		buf[2] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		buf[5] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[8] = (mode & S_IXOTH) ? 't' : 'T';
	buf[9] = '\0';
}

/* Name an entry type. */
static const char *
jr_type(uint32_t type)
{
	switch (type) {
	case DC_T_FILE:
		return "file";
	case DC_T_DIR:
		return "dir";
	case DC_T_LINK:
		return "link";
	default:
		return "other";
	}
}

/* Owner, ids and link target of an entry, when known. */
static void
jr_entry_extra(struct json_object *o, const struct dc_entry *e,
    const char *target, size_t targetlen, int *bad)
{
	if (e->e_flags & DC_E_HASID) {
		jr_add(o, "uid", json_object_new_int64(e->e_uid), bad);
		jr_add(o, "gid", json_object_new_int64(e->e_gid), bad);
	}
	if (e->e_owner[0] != '\0')
		jr_add_str(o, "owner", e->e_owner, sizeof(e->e_owner), 0, bad);
	if (e->e_group[0] != '\0')
		jr_add_str(o, "group", e->e_group, sizeof(e->e_group), 0, bad);
	if (e->e_type != DC_T_LINK)
		return;
	if (targetlen == 0)
		jr_add_null(o, "link_target", bad);
	else
		jr_add(o, "link_target", jr_string_new(target, targetlen), bad);
}

/* One directory entry as the API shows it; name need not be UTF-8. */
struct json_object *
jr_entry(const struct dc_entry *e, const char *name, size_t namelen,
    const char *target, size_t targetlen)
{
	struct json_object	*o;
	char			 mode[8], perms[10];
	int			 bad = 0;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->e_mode & 07777));
	jr_perms(e->e_mode, perms);
	jr_add(o, "name", jr_string_new(name, namelen), &bad);
	jr_add(o, "type", json_object_new_string(jr_type(e->e_type)), &bad);
	jr_add(o, "size", json_object_new_uint64(e->e_size), &bad);
	jr_add_time(o, "mtime", e->e_mtime, &bad);
	jr_add(o, "mode", json_object_new_string(mode), &bad);
	jr_add(o, "permissions", json_object_new_string(perms), &bad);
	jr_entry_extra(o, e, target, targetlen, &bad);
	return jr_done(o, bad);
}

/* Return 1 when entry o is a directory. */
static int
jr_is_dir(const struct json_object *o)
{
	struct json_object	*v;

	v = json_object_object_get(o, "type");
	return v != NULL && json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "dir") == 0;
}

/* Compare the names of two entries byte by byte, NULs included. */
static int
jr_name_cmp(const struct json_object *a, const struct json_object *b)
{
	struct json_object	*va, *vb;
	const char		*sa = "", *sb = "";
	size_t			 la = 0, lb = 0;
	int			 c;

	va = json_object_object_get(a, "name");
	vb = json_object_object_get(b, "name");
	if (va != NULL && json_object_is_type(va, json_type_string)) {
		sa = json_object_get_string(va);
		la = json_object_get_string_len(va);
	}
	if (vb != NULL && json_object_is_type(vb, json_type_string)) {
		sb = json_object_get_string(vb);
		lb = json_object_get_string_len(vb);
	}
	if ((c = memcmp(sa, sb, la < lb ? la : lb)) != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

/* qsort comparator: directories first, then by name. */
static int
jr_entry_cmp(const void *a, const void *b)
{
	struct json_object *const	*ea = a;
	struct json_object *const	*eb = b;
	int				 da, db;

	da = jr_is_dir(*ea);
	db = jr_is_dir(*eb);
	if (da != db)
		return db - da;
	return jr_name_cmp(*ea, *eb);
}

/* Sort an array of jr_entry() objects: directories first, then by name. */
void
jr_entries_sort(struct json_object *array)
{
	if (array != NULL && json_object_is_type(array, json_type_array))
		json_object_array_sort(array, jr_entry_cmp);
}
