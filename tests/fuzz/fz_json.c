/*
 * Fuzz target for the front's JSON code (daemon/json.c).
 *
 * Input: a request body, used as is.  Every validator runs on it and
 * must either fill its struct with bounded, checked strings, or fail
 * with a message and leave the struct wiped.  jv_path_okn is compared
 * with the rule it documents.  The renderers turn the bytes into JSON
 * strings and entries whose serialization must parse again, as valid
 * UTF-8, giving back the bytes (with U+FFFD for invalid ones).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coreastra_proto.h"
#include "datachan.h"
#include "json.h"
#include "util.h"
#include "fz.h"

#define FZJ_BOUNDED(a)	(memchr((a), '\0', sizeof(a)) != NULL)
#define FZJ_SERIAL	(JSON_C_TO_STRING_PLAIN | \
			    JSON_C_TO_STRING_NOSLASHESCAPE)

static const char fzj_hostchars[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_";

/* Both validators' outputs are scratch; large, so not on the stack. */
static struct msg_ssh_open	fzj_ssh;
static struct msg_ftp_open	fzj_ftp;
static struct msg_op		fzj_op;

/* A failed validation: a sentence, errno set, and no bytes left over. */
static void
fzj_failed(const char *err, const void *out, size_t size)
{
	static const unsigned char	 zero[sizeof(struct msg_ssh_open)];

	FZ_CHECK(errno == EINVAL || errno == ENOMEM);
	FZ_CHECK(err[0] != '\0');
	FZ_CHECK(size <= sizeof(zero) && memcmp(out, zero, size) == 0);
}

/* A validated string: bounded, UTF-8, and free of what flags forbid. */
static void
fzj_string(const char *s, size_t size, int nonempty, int noctrl)
{
	size_t	 len, i;

	FZ_CHECK(memchr(s, '\0', size) != NULL);
	len = strlen(s);
	FZ_CHECK(!nonempty || len > 0);
	FZ_CHECK(utf8_valid(s, len));
	for (i = 0; noctrl && i < len; i++)
		FZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void
fzj_host(const char *host)
{
	fzj_string(host, P_HOST_LEN, 1, 1);
	FZ_CHECK(strspn(host, fzj_hostchars) == strlen(host));
	FZ_CHECK(host[0] != '-');
}

static void
fzj_ssh_open(const char *body, size_t len)
{
	struct msg_ssh_open	*m = &fzj_ssh;
	char			 err[256] = "";

	memset(m, 0xa5, sizeof(*m));
	if (jv_ssh_open(body, len, m, err, sizeof(err)) == -1) {
		fzj_failed(err, m, sizeof(*m));
		return;
	}
	fzj_host(m->host);
	fzj_string(m->username, sizeof(m->username), 1, 1);
	fzj_string(m->name, sizeof(m->name), 0, 1);
	fzj_string(m->password, sizeof(m->password), 0, 0);
	fzj_string(m->private_key, sizeof(m->private_key), 0, 0);
	fzj_string(m->passphrase, sizeof(m->passphrase), 0, 0);
	FZ_CHECK(m->password[0] != '\0' || m->private_key[0] != '\0');
	FZ_CHECK(m->port >= 1 && m->port <= 65535);
	FZ_CHECK(m->timeout <= 300);
	FZ_CHECK(m->reqid == 0);
}

static void
fzj_ftp_open(const char *body, size_t len)
{
	struct msg_ftp_open	*m = &fzj_ftp;
	char			 err[256] = "";

	memset(m, 0xa5, sizeof(*m));
	if (jv_ftp_open(body, len, m, err, sizeof(err)) == -1) {
		fzj_failed(err, m, sizeof(*m));
		return;
	}
	fzj_host(m->host);
	fzj_string(m->username, sizeof(m->username), 1, 1);
	fzj_string(m->name, sizeof(m->name), 0, 1);
	fzj_string(m->password, sizeof(m->password), 0, 0);
	FZ_CHECK(m->port >= 1 && m->port <= 65535);
	FZ_CHECK(m->timeout <= 300);
	FZ_CHECK(m->tls <= FTP_TLS_IMPLICIT);
	FZ_CHECK(m->passive <= 1 && m->insecure <= 1);
}

/* jv_path_req into a buffer of exactly pathlen bytes. */
static void
fzj_path_req(const char *body, size_t len, size_t pathlen)
{
	char	 err[256] = "", *path;

	if ((path = malloc(pathlen == 0 ? 1 : pathlen)) == NULL)
		abort();
	if (jv_path_req(body, len, path, pathlen, err, sizeof(err)) == -1)
		FZ_CHECK(err[0] != '\0' && errno != 0);
	else {
		FZ_CHECK(pathlen > 0 && memchr(path, '\0', pathlen) != NULL);
		FZ_CHECK(path[0] != '\0' && strlen(path) < P_PATH_LEN);
		FZ_CHECK(strpbrk(path, "\r\n") == NULL);
		FZ_CHECK(utf8_valid(path, strlen(path)));
	}
	free(path);
}

static void
fzj_exec(const char *body, size_t len)
{
	struct msg_op	*op = &fzj_op;
	char		 err[256] = "";

	/* It writes only these two: anything left on failure was copied. */
	memset(op, 0, sizeof(*op));
	if (jv_exec(body, len, op, err, sizeof(err)) == -1) {
		fzj_failed(err, op->command, sizeof(op->command));
		FZ_CHECK(op->timeout == 0);
		return;
	}
	fzj_string(op->command, sizeof(op->command), 1, 0);
	FZ_CHECK(op->timeout <= 3600);
}

/* jv_path_okn against its rule: 1 to P_PATH_LEN - 1 bytes, no NUL/CR/LF. */
static void
fzj_path_okn(const char *p, size_t len)
{
	char	 err[256] = "";
	int	 ok, rv;

	ok = len > 0 && len < P_PATH_LEN && memchr(p, '\0', len) == NULL &&
	    memchr(p, '\r', len) == NULL && memchr(p, '\n', len) == NULL;
	rv = jv_path_okn(p, len, err, sizeof(err));
	FZ_CHECK(rv == (ok ? 0 : -1));
	FZ_CHECK(ok || err[0] != '\0');
}

/* Serialize o, parse it back strictly; the caller releases both. */
static struct json_object *
fzj_reparse(struct json_object *o)
{
	struct json_tokener	*tok;
	struct json_object	*back;
	const char		*s;
	size_t			 len;

	s = json_object_to_json_string_length(o, FZJ_SERIAL, &len);
	FZ_CHECK(s != NULL && strlen(s) == len);
	FZ_CHECK(utf8_valid(s, len));
	if ((tok = json_tokener_new()) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	back = json_tokener_parse_ex(tok, s, (int)len);
	FZ_CHECK(json_tokener_get_error(tok) == json_tokener_success);
	FZ_CHECK(json_tokener_get_parse_end(tok) == len);
	json_tokener_free(tok);
	return back;
}

/* What jr_string_new must give: the bytes, U+FFFD for invalid ones. */
static size_t
fzj_expect(const unsigned char *p, size_t len, char *out)
{
	size_t	 i = 0, o = 0, n;

	while (i < len) {
		if (p[i] < 0x80)
			n = 1;
		else if (p[i] >= 0xc0 && p[i] < 0xe0)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] < 0xf0)
			n = 3;
		else if (p[i] >= 0xf0 && p[i] < 0xf8)
			n = 4;
		else
			n = 0;
		if (n == 0 || n > len - i || !utf8_valid((const char *)p + i,
		    n)) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	return o;
}

static void
fzj_string_new(const char *p, size_t len)
{
	struct json_object	*o, *back;
	char			*want;
	size_t			 wantlen;

	if ((o = jr_string_new(p, len)) == NULL)
		abort();
	back = fzj_reparse(o);
	FZ_CHECK(json_object_is_type(back, json_type_string));
	if ((want = malloc(len * 3 + 1)) == NULL)
		abort();
	wantlen = fzj_expect((const unsigned char *)p, len, want);
	FZ_CHECK((size_t)json_object_get_string_len(back) == wantlen);
	FZ_CHECK(memcmp(json_object_get_string(back), want, wantlen) == 0);
	FZ_CHECK(!utf8_valid(p, len) || wantlen == len);
	free(want);
	json_object_put(back);
	json_object_put(o);
}

/* A directory entry named by p, its other fields from its bytes. */
static struct json_object *
fzj_entry(const char *p, size_t len)
{
	struct dc_entry		 e;
	struct json_object	*o, *back;
	size_t			 split = len / 2;

	memset(&e, 0, sizeof(e));
	memcpy(&e, p, len < sizeof(e) ? len : sizeof(e));
	e.e_owner[sizeof(e.e_owner) - 1] = '\0';
	e.e_group[sizeof(e.e_group) - 1] = '\0';
	if ((o = jr_entry(&e, p, split, p + split, len - split)) == NULL)
		abort();
	back = fzj_reparse(o);
	FZ_CHECK(json_object_is_type(back, json_type_object));
	json_object_put(back);
	return o;
}

/* An entry's sort key: directory or not, and its name. */
static int
fzj_key(struct json_object *o, const char **name, size_t *len)
{
	struct json_object	*v;

	FZ_CHECK(json_object_object_get_ex(o, "name", &v));
	*name = json_object_get_string(v);
	*len = json_object_get_string_len(v);
	FZ_CHECK(json_object_object_get_ex(o, "type", &v));
	return strcmp(json_object_get_string(v), "dir") == 0;
}

/* Entries from pieces of the input, sorted: directories, then names. */
static void
fzj_entries(const char *p, size_t len)
{
	struct json_object	*a;
	const char		*na, *nb;
	size_t			 i, n, la, lb, piece = len / 4 + 1;
	int			 da, db, c;

	if ((a = json_object_new_array()) == NULL)
		abort();
	for (i = 0; i < len; i += piece)
		json_object_array_add(a, fzj_entry(p + i,
		    len - i < piece ? len - i : piece));
	jr_entries_sort(a);
	n = json_object_array_length(a);
	for (i = 1; i < n; i++) {
		da = fzj_key(json_object_array_get_idx(a, i - 1), &na, &la);
		db = fzj_key(json_object_array_get_idx(a, i), &nb, &lb);
		FZ_CHECK(da >= db);
		c = memcmp(na, nb, la < lb ? la : lb);
		FZ_CHECK(da != db || c < 0 || (c == 0 && la <= lb));
	}
	json_object_put(a);
}

/* A session and an error as the API shows them, from input bytes. */
static void
fzj_session(const char *p, size_t len)
{
	struct msg_session	 m;
	struct json_object	*o, *back;
	char			 msg[P_MSG_LEN];
	size_t			 n;

	memset(&m, 0, sizeof(m));
	memcpy(&m, p, len < sizeof(m) ? len : sizeof(m));
	if ((o = jr_session(&m)) == NULL)
		abort();
	back = fzj_reparse(o);
	json_object_put(back);
	json_object_put(o);

	n = len < sizeof(msg) ? len : sizeof(msg) - 1;
	memcpy(msg, p, n);
	msg[n] = '\0';
	if ((o = jr_error(msg, "internal")) == NULL)
		abort();
	back = fzj_reparse(o);
	json_object_put(back);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 pathlens[] = { 0, 1, 2, 16, P_PATH_LEN,
				    P_PATH_LEN + 7 };
	const char		*body = (const char *)data;

	fzj_ssh_open(body, size);
	fzj_ftp_open(body, size);
	fzj_path_req(body, size, pathlens[size % 6]);
	fzj_exec(body, size);
	fzj_path_okn(body, size);
	fzj_string_new(body, size);
	fzj_entries(body, size);
	fzj_session(body, size);
	return 0;
}
