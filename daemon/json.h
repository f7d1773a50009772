/*
 * JSON for the front: validation of request bodies into the wire structs
 * (jv_) and rendering of replies as json-c objects (jr_).  Only the front
 * links json-c.
 *
 * Validators return 0 on success.  On failure they return -1 with errno
 * EINVAL and a sentence for {"error": ..., "code": "invalid_request"} in
 * err, or errno ENOMEM when json-c could not allocate (an internal error).
 * Rules shared by every validator:
 * - the body is one JSON object, nested at most JV_MAX_DEPTH deep, with
 *   nothing but white space after it; json-c's strict mode is used, which
 *   still accepts single-quoted strings;
 * - every string used must be valid UTF-8 without NUL (\u0000) and fit
 *   its struct field; lone surrogate escapes arrive as U+FFFD (json-c);
 * - integers must be JSON integers (22.0 is refused), in range;
 * - a field set to null counts as absent;
 * - unknown fields are ignored, since frontends send extras; for a
 *   duplicated key json-c keeps the last value.
 *
 * Renderers return a new json-c object the caller serializes (with
 * JSON_C_TO_STRING_PLAIN, best with JSON_C_TO_STRING_NOSLASHESCAPE too)
 * and releases with json_object_put(); NULL with errno set on failure.
 */
#ifndef DAEMON_JSON_H
#define DAEMON_JSON_H

#include <stddef.h>
#include <time.h>

#include "coreastra_proto.h"

#define JV_MAX_DEPTH	16

struct json_object;
struct dc_entry;

int	 jv_ssh_open(const char *, size_t, struct msg_ssh_open *, char *,
	    size_t);
int	 jv_ftp_open(const char *, size_t, struct msg_ftp_open *, char *,
	    size_t);
int	 jv_path_req(const char *, size_t, char *, size_t, char *, size_t);
int	 jv_exec(const char *, size_t, struct msg_op *, char *, size_t);
int	 jv_path_ok(const char *, char *, size_t);
int	 jv_path_okn(const char *, size_t, char *, size_t);

struct json_object	*jr_error(const char *, const char *);
struct json_object	*jr_session(const struct msg_session *);
struct json_object	*jr_entry(const struct dc_entry *, const char *,
			    size_t, const char *, size_t);
struct json_object	*jr_string_new(const char *, size_t);
void			 jr_entries_sort(struct json_object *);

#endif
