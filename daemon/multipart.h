/*
 * Streaming multipart/form-data parsing (RFC 7578, RFC 2046 framing),
 * without I/O.
 *
 * The body is fed as it arrives, split anywhere; part data is passed
 * through as it comes, never buffered, and memory is fixed: only a part's
 * header block (MP_HEADERS_MAX) is held.  Bytes that start like a
 * delimiter but are not one are delivered as data.  The preamble and the
 * epilogue are ignored.
 *
 * mp_feed returns how many bytes it consumed: all of them, or fewer when
 * a callback paused the parser (mp_pause); the caller feeds the rest
 * after mp_pause(mp, 0).  On error it returns -1 and mp_error says why.
 * When the body ends, mp_end tells whether the closing delimiter came.
 */
#ifndef DAEMON_MULTIPART_H
#define DAEMON_MULTIPART_H

#include <sys/types.h>

#include <stddef.h>

#define MP_BOUNDARY_MAX	70		/* RFC 2046 */
#define MP_HEADERS_MAX	8192		/* one part's header block */
#define MP_FIELD_MAX	1024		/* name, filename, content type */

struct mp_callbacks {
	/*
	 * A part begins.  filename is NULL for a plain field ("" when the
	 * form sent no file), content_type NULL when the part has none.
	 * The strings last until the next callback.
	 */
	int	(*on_part_begin)(void *, const char *, const char *,
		    const char *);
	int	(*on_part_data)(void *, const char *, size_t);
	int	(*on_part_end)(void *);
	/* The closing delimiter: the form is complete. */
	int	(*on_finish)(void *);
};

struct mp;

ssize_t		 mp_boundary_from_content_type(const char *, char *, size_t);
struct mp	*mp_new(const char *, const struct mp_callbacks *, void *);
void		 mp_free(struct mp *);
ssize_t		 mp_feed(struct mp *, const char *, size_t);
void		 mp_pause(struct mp *, int);
int		 mp_paused(const struct mp *);
int		 mp_end(struct mp *);
const char	*mp_error(const struct mp *);

#endif
