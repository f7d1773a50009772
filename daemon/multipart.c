/*
 * Streaming multipart/form-data parsing (RFC 7578, RFC 2046 framing).
 *
 * A delimiter is CRLF "--" boundary.  The body, and a part's content
 * after its header block, are read as if they began with CRLF: the first
 * delimiter may open the body, and a part may have no content at all
 * (RFC 2046: body-part := headers [CRLF *OCTET]).  Matching needs no
 * look-back buffer: a boundary holds no CR, so when a partial match
 * fails, the matched bytes are a prefix of the delimiter itself and are
 * delivered from it, less the assumed CRLF, and only the failing byte
 * can start a new match.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"

#define MP_DELIM_MAX	(4 + MP_BOUNDARY_MAX)	/* CRLF "--" boundary */

enum mp_state {
	MP_PREAMBLE,		/* before the first delimiter, ignored */
	MP_TAIL,		/* right after a delimiter */
	MP_TAIL_DASH,		/* the second '-' of the close delimiter */
	MP_PADDING,		/* blanks after a delimiter */
	MP_TAIL_LF,		/* the LF ending a delimiter line */
	MP_HEADERS,		/* a part's header block */
	MP_DATA,		/* a part's data */
	MP_EPILOGUE,		/* after the close delimiter, ignored */
	MP_ERROR
};

struct mp {
	struct mp_callbacks	 m_cb;
	void			*m_arg;
	enum mp_state		 m_state;
	int			 m_paused;
	int			 m_inpart;	/* on_part_end is owed */
	const char		*m_error;
	char			 m_delim[MP_DELIM_MAX + 1];
	size_t			 m_dlen;
	size_t			 m_match;	/* delimiter bytes matched */
	size_t			 m_virt;	/* of which assumed, not seen */

	/* The current part's header block and what it says. */
	char			 m_hdr[MP_HEADERS_MAX];
	size_t			 m_hdrlen;
	size_t			 m_line;	/* start of the current line */
	char			 m_name[MP_FIELD_MAX];
	char			 m_filename[MP_FIELD_MAX];
	char			 m_ctype[MP_FIELD_MAX];
	int			 m_hasname;
	int			 m_hasfile;	/* 1 filename, 2 filename* */
	int			 m_hasctype;
	int			 m_hasdisp;
};

/* One parameter of a header value: name=value or name="value". */
struct mp_param {
	const char	*pr_name;
	size_t		 pr_namelen;
	char		 pr_val[MP_FIELD_MAX];
	size_t		 pr_vallen;
};

static int	 mp_fail(struct mp *, const char *);
static int	 mp_is_tchar(unsigned char);
static int	 mp_is_bchar(unsigned char);
static int	 mp_boundary_ok(const char *, size_t);
static const char *mp_skip_ows(const char *, const char *);
static const char *mp_quoted(const char *, const char *, struct mp_param *);
static int	 mp_param_next(const char **, const char *, struct mp_param *);
static const char *mp_type(const char *, const char *, const char *);
static int	 mp_pname(const struct mp_param *, const char *);
static int	 mp_hexval(unsigned char);
static int	 mp_ext_value(struct mp_param *);
static int	 mp_disposition(struct mp *, const char *, const char *);
static int	 mp_header_line(struct mp *, const char *, const char *);
static int	 mp_part_begin(struct mp *);
static ssize_t	 mp_headers(struct mp *, const char *, size_t);
static int	 mp_data(struct mp *, const char *, size_t);
static ssize_t	 mp_scan(struct mp *, const char *, size_t);
static int	 mp_part_end(struct mp *);
static int	 mp_tail(struct mp *, unsigned char);

/* Record an error; always returns -1. */
static int
mp_fail(struct mp *m, const char *reason)
{
	if (m->m_state != MP_ERROR) {
		m->m_state = MP_ERROR;
		m->m_error = reason;
	}
	return -1;
}

static int
mp_is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* A character allowed in a boundary (RFC 2046 bchars). */
static int
mp_is_bchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return 1;
	return ch != '\0' && strchr("'()+_,-./:=? ", ch) != NULL;
}

/* 1 to 70 bchars, not ending in a space. */
static int
mp_boundary_ok(const char *b, size_t len)
{
	size_t	 i;

	if (len == 0 || len > MP_BOUNDARY_MAX || b[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++)
		if (!mp_is_bchar(b[i]))
			return 0;
	return 1;
}

static const char *
mp_skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* A quoted string after its opening quote; NULL when malformed. */
static const char *
mp_quoted(const char *p, const char *end, struct mp_param *pr)
{
	size_t	 o = 0;
	char	 ch;

	for (; p < end && *p != '"'; p++) {
		ch = *p;
		/* Only \" and \\ are escapes: Windows paths keep theirs. */
		if (ch == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			ch = *++p;
		if (o + 1 >= sizeof(pr->pr_val))
			return NULL;
		pr->pr_val[o++] = ch;
	}
	if (p == end)
		return NULL;
	pr->pr_val[o] = '\0';
	pr->pr_vallen = o;
	return p + 1;
}

/*
 * The next "; name=value" of a header value.  Returns 1 with pr filled,
 * 0 at the end, -1 when malformed or too long.
 */
static int
mp_param_next(const char **pp, const char *end, struct mp_param *pr)
{
	const char	*p = mp_skip_ows(*pp, end), *v;

	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	if ((p = mp_skip_ows(p + 1, end)) == end)
		return 0;
	for (pr->pr_name = p; p < end && mp_is_tchar(*p); p++)
		;
	if ((pr->pr_namelen = p - pr->pr_name) == 0)
		return -1;
	p = mp_skip_ows(p, end);
	if (p == end || *p != '=')
		return -1;
	p = mp_skip_ows(p + 1, end);

	if (p < end && *p == '"') {
		if ((p = mp_quoted(p + 1, end, pr)) == NULL)
			return -1;
	} else {
		for (v = p; p < end && mp_is_tchar(*p); p++)
			;
		pr->pr_vallen = p - v;
		if (pr->pr_vallen == 0 || pr->pr_vallen >= sizeof(pr->pr_val))
			return -1;
		memcpy(pr->pr_val, v, pr->pr_vallen);
		pr->pr_val[pr->pr_vallen] = '\0';
	}
	*pp = p;
	return 1;
}

/*
 * Does the value [p, end) start with the token want (any case), followed
 * by blanks, ';' or its end?  Returns where the parameters start, or NULL.
 */
static const char *
mp_type(const char *p, const char *end, const char *want)
{
	size_t	 len = strlen(want);

	p = mp_skip_ows(p, end);
	if ((size_t)(end - p) < len || strncasecmp(p, want, len) != 0)
		return NULL;
	p += len;
	if (p < end && *p != ';' && *p != ' ' && *p != '\t')
		return NULL;
	return p;
}

static int
mp_pname(const struct mp_param *pr, const char *name)
{
	return pr->pr_namelen == strlen(name) &&
	    strncasecmp(pr->pr_name, name, pr->pr_namelen) == 0;
}

/*
 * Take a Content-Type value; put its boundary, checked, in out.  Returns
 * the boundary's length; -1 and EINVAL when not multipart/form-data or
 * without a valid boundary, ERANGE when out is too small.
 */
ssize_t
mp_boundary_from_content_type(const char *ctype, char *out, size_t outlen)
{
	struct mp_param	 pr;
	const char	*p, *end = ctype + strlen(ctype);
	ssize_t		 blen = -1;
	int		 rv;

	if ((p = mp_type(ctype, end, "multipart/form-data")) == NULL)
		goto bad;
	while ((rv = mp_param_next(&p, end, &pr)) == 1) {
		if (!mp_pname(&pr, "boundary"))
			continue;
		if (blen != -1 || !mp_boundary_ok(pr.pr_val, pr.pr_vallen))
			goto bad;
		if (pr.pr_vallen >= outlen) {
			errno = ERANGE;
			return -1;
		}
		memcpy(out, pr.pr_val, pr.pr_vallen + 1);
		blen = pr.pr_vallen;
	}
	if (rv == 0 && blen != -1)
		return blen;
 bad:
	errno = EINVAL;
	return -1;
}

/* A parser for one body; NULL and EINVAL for a bad boundary. */
struct mp *
mp_new(const char *boundary, const struct mp_callbacks *cb, void *arg)
{
	struct mp	*m;
	size_t		 blen = strlen(boundary);

	if (!mp_boundary_ok(boundary, blen)) {
		errno = EINVAL;
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (cb != NULL)
		m->m_cb = *cb;
	m->m_arg = arg;
	memcpy(m->m_delim, "\r\n--", 4);
	memcpy(m->m_delim + 4, boundary, blen + 1);
	m->m_dlen = 4 + blen;
	m->m_state = MP_PREAMBLE;
	m->m_match = m->m_virt = 2;
	return m;
}

void
mp_free(struct mp *m)
{
	free(m);
}

/* Stop (1) or resume (0) consuming input. */
void
mp_pause(struct mp *m, int paused)
{
	m->m_paused = paused != 0;
}

int
mp_paused(const struct mp *m)
{
	return m->m_paused;
}

/* The body has ended: 0 when the form was complete, else -1. */
int
mp_end(struct mp *m)
{
	if (m->m_state == MP_EPILOGUE)
		return 0;
	return mp_fail(m, "body ended without closing delimiter");
}

const char *
mp_error(const struct mp *m)
{
	return m->m_error != NULL ? m->m_error : "";
}

static int
mp_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode an RFC 5987 value, UTF-8'lang'percent-encoded, in place. */
static int
mp_ext_value(struct mp_param *pr)
{
	char	*v = pr->pr_val, *q;
	size_t	 i, o = 0;
	int	 hi, lo;

	if (strncasecmp(v, "UTF-8'", 6) != 0 ||
	    (q = strchr(v + 6, '\'')) == NULL)
		return -1;
	for (i = q + 1 - v; v[i] != '\0'; i++) {
		if (v[i] == '%') {
			if ((hi = mp_hexval(v[i + 1])) == -1 ||
			    (lo = mp_hexval(v[i + 2])) == -1)
				return -1;
			v[o] = hi * 16 + lo;
			i += 2;
		} else
			v[o] = v[i];
		if (v[o] == '\0' || v[o] == '\r' || v[o] == '\n')
			return -1;
		o++;
	}
	v[o] = '\0';
	pr->pr_vallen = o;
	return 0;
}

/* Content-Disposition: form-data; name="..."[; filename[*]="..."] */
static int
mp_disposition(struct mp *m, const char *p, const char *end)
{
	struct mp_param	 pr;
	int		 rv;

	if (m->m_hasdisp++)
		return mp_fail(m, "repeated Content-Disposition");
	if ((p = mp_type(p, end, "form-data")) == NULL)
		return mp_fail(m, "part is not form-data");
	while ((rv = mp_param_next(&p, end, &pr)) == 1) {
		if (mp_pname(&pr, "name")) {
			if (m->m_hasname++)
				return mp_fail(m, "repeated name");
			memcpy(m->m_name, pr.pr_val, pr.pr_vallen + 1);
		} else if (mp_pname(&pr, "filename*")) {
			if (m->m_hasfile == 2 || mp_ext_value(&pr) == -1)
				return mp_fail(m, "bad filename*");
			memcpy(m->m_filename, pr.pr_val, pr.pr_vallen + 1);
			m->m_hasfile = 2;
		} else if (mp_pname(&pr, "filename")) {
			if (m->m_hasfile == 2)
				continue;
			if (m->m_hasfile)
				return mp_fail(m, "repeated filename");
			memcpy(m->m_filename, pr.pr_val, pr.pr_vallen + 1);
			m->m_hasfile = 1;
		}
	}
	if (rv == -1)
		return mp_fail(m, "malformed Content-Disposition");
	if (!m->m_hasname || m->m_name[0] == '\0')
		return mp_fail(m, "part without a name");
	return 0;
}

/* One header line of a part, without its CRLF. */
static int
mp_header_line(struct mp *m, const char *p, const char *end)
{
	const char	*colon, *s;
	size_t		 len;

	if (*p == ' ' || *p == '\t')
		return mp_fail(m, "folded part header");
	for (s = p; s < end; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return mp_fail(m, "control byte in part header");
	if ((colon = memchr(p, ':', end - p)) == NULL || colon == p)
		return mp_fail(m, "malformed part header");
	for (s = p; s < colon; s++)
		if (!mp_is_tchar(*s))
			return mp_fail(m, "malformed part header");

	len = colon - p;
	s = mp_skip_ows(colon + 1, end);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (len == 19 && strncasecmp(p, "content-disposition", len) == 0)
		return mp_disposition(m, s, end);
	if (len == 12 && strncasecmp(p, "content-type", len) == 0) {
		if (m->m_hasctype++)
			return mp_fail(m, "repeated Content-Type");
		if ((size_t)(end - s) >= sizeof(m->m_ctype))
			return mp_fail(m, "part Content-Type too long");
		memcpy(m->m_ctype, s, end - s);
		m->m_ctype[end - s] = '\0';
	}
	return 0;
}

/* The header block is complete: parse it and open the part. */
static int
mp_part_begin(struct mp *m)
{
	const char	*p, *eol, *end = m->m_hdr + m->m_hdrlen - 2;
	int		 rv;

	m->m_hasname = m->m_hasfile = m->m_hasctype = m->m_hasdisp = 0;
	for (p = m->m_hdr; p < end; p = eol + 2) {
		if ((eol = memchr(p, '\r', end - p)) == NULL)
			return mp_fail(m, "malformed part header");
		if (mp_header_line(m, p, eol) == -1)
			return -1;
	}
	if (!m->m_hasdisp)
		return mp_fail(m, "part without Content-Disposition");

	m->m_state = MP_DATA;
	m->m_match = m->m_virt = 2;
	m->m_inpart = 1;
	if (m->m_cb.on_part_begin != NULL) {
		rv = m->m_cb.on_part_begin(m->m_arg, m->m_name,
		    m->m_hasfile ? m->m_filename : NULL,
		    m->m_hasctype ? m->m_ctype : NULL);
		if (rv == -1)
			return mp_fail(m, "part refused");
	}
	return 0;
}

/* Collect a part's header block; returns the bytes consumed. */
static ssize_t
mp_headers(struct mp *m, const char *buf, size_t len)
{
	size_t	 i;
	char	 ch;

	for (i = 0; i < len; i++) {
		if (m->m_hdrlen == sizeof(m->m_hdr))
			return mp_fail(m, "part headers too large");
		ch = m->m_hdr[m->m_hdrlen++] = buf[i];
		if (ch != '\n')
			continue;
		/* Each line ends in CRLF and holds no other CR. */
		if (m->m_hdrlen - m->m_line < 2 ||
		    m->m_hdr[m->m_hdrlen - 2] != '\r' ||
		    memchr(m->m_hdr + m->m_line, '\r',
		    m->m_hdrlen - m->m_line - 2) != NULL)
			return mp_fail(m, "bare CR or LF in part headers");
		if (m->m_hdrlen - m->m_line == 2)
			return mp_part_begin(m) == -1 ? -1 : (ssize_t)i + 1;
		m->m_line = m->m_hdrlen;
	}
	return len;
}

/* Part data, or preamble bytes to drop. */
static int
mp_data(struct mp *m, const char *buf, size_t len)
{
	if (len == 0 || m->m_state != MP_DATA || m->m_cb.on_part_data == NULL)
		return 0;
	if (m->m_cb.on_part_data(m->m_arg, buf, len) == -1)
		return mp_fail(m, "part data refused");
	return 0;
}

/*
 * Look for the delimiter, passing everything else on as data.  Returns
 * the bytes consumed; the state is MP_TAIL once a delimiter is complete.
 */
static ssize_t
mp_scan(struct mp *m, const char *buf, size_t len)
{
	const char	*cr;
	size_t		 i = 0, start, n;

	while (i < len && !m->m_paused) {
		if (m->m_match == 0) {
			cr = memchr(buf + i, '\r', len - i);
			start = i;
			i = cr != NULL ? (size_t)(cr - buf) : len;
			if (mp_data(m, buf + start, i - start) == -1)
				return -1;
			if (cr == NULL || m->m_paused)
				break;
			m->m_match = 1;
			i++;
		} else if (buf[i] == m->m_delim[m->m_match]) {
			i++;
			if (++m->m_match == m->m_dlen) {
				m->m_match = m->m_virt = 0;
				m->m_state = MP_TAIL;
				break;
			}
		} else {
			/* What matched was data; buf[i] may start a match. */
			n = m->m_match - m->m_virt;
			if (mp_data(m, m->m_delim + m->m_virt, n) == -1)
				return -1;
			m->m_match = m->m_virt = 0;
		}
	}
	return i;
}

static int
mp_part_end(struct mp *m)
{
	if (!m->m_inpart)
		return 0;
	m->m_inpart = 0;
	if (m->m_cb.on_part_end != NULL && m->m_cb.on_part_end(m->m_arg) == -1)
		return mp_fail(m, "part end refused");
	return 0;
}

/* A byte of the rest of a delimiter line. */
static int
mp_tail(struct mp *m, unsigned char ch)
{
	switch (m->m_state) {
	case MP_TAIL:
		if (ch == '-') {
			m->m_state = MP_TAIL_DASH;
			return 0;
		}
		/* FALLTHROUGH */
	case MP_PADDING:
		if (ch == ' ' || ch == '\t')
			m->m_state = MP_PADDING;
		else if (ch == '\r')
			m->m_state = MP_TAIL_LF;
		else
			return mp_fail(m, "malformed delimiter line");
		return 0;
	case MP_TAIL_DASH:
		if (ch != '-')
			return mp_fail(m, "malformed close delimiter");
		m->m_state = MP_EPILOGUE;
		if (mp_part_end(m) == -1)
			return -1;
		if (m->m_cb.on_finish != NULL &&
		    m->m_cb.on_finish(m->m_arg) == -1)
			return mp_fail(m, "finish refused");
		return 0;
	case MP_TAIL_LF:
		if (ch != '\n')
			return mp_fail(m, "malformed delimiter line");
		m->m_state = MP_HEADERS;
		m->m_hdrlen = m->m_line = 0;
		return mp_part_end(m);
	default:
		return mp_fail(m, "multipart state");
	}
}

/* Feed body bytes; returns how many were consumed, or -1. */
ssize_t
mp_feed(struct mp *m, const char *buf, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < len && !m->m_paused) {
		switch (m->m_state) {
		case MP_ERROR:
			return -1;
		case MP_EPILOGUE:
			return len;
		case MP_PREAMBLE:
		case MP_DATA:
			n = mp_scan(m, buf + off, len - off);
			break;
		case MP_HEADERS:
			n = mp_headers(m, buf + off, len - off);
			break;
		default:
			n = mp_tail(m, buf[off]) == -1 ? -1 : 1;
			break;
		}
		if (n == -1)
			return -1;
		off += n;
	}
	return m->m_state == MP_ERROR ? -1 : (ssize_t)off;
}
