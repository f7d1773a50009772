/*
 * The session table: lookup by id or unique prefix, operation queues and
 * idle expiry.  Time is always passed in.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

struct sess_tree	 sess_all = RB_INITIALIZER(&sess_all);
unsigned int		 sess_count;
static uint32_t		 sess_opid;

RB_GENERATE(sess_tree, session, s_entry, sess_cmp);

int
sess_cmp(struct session *a, struct session *b)
{
	return strcmp(a->s_id, b->s_id);
}

/* A random 128-bit id in UUID text form (version 4). */
void
sess_make_id(char *buf, size_t len)
{
	unsigned char	 r[16];

	arc4random_buf(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* Create and insert a session; it counts against the limit at once. */
struct session *
sess_new(enum sess_type type, time_t now, unsigned int idle)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	do
		sess_make_id(s->s_id, sizeof(s->s_id));
	while (RB_FIND(sess_tree, &sess_all, s) != NULL);
	s->s_type = type;
	s->s_state = SESS_CONNECTING;
	s->s_created = s->s_last = now;
	s->s_idle = idle;
	s->s_pid = -1;
	TAILQ_INIT(&s->s_ops);
	RB_INSERT(sess_tree, &sess_all, s);
	s->s_linked = 1;
	sess_count++;
	return s;
}

/* Take a session out of the table; it no longer counts or is found. */
void
sess_unlink(struct session *s)
{
	if (!s->s_linked)
		return;
	RB_REMOVE(sess_tree, &sess_all, s);
	s->s_linked = 0;
	sess_count--;
}

/* Free a session and its queued operations. */
void
sess_free(struct session *s)
{
	while (sess_op_head(s) != NULL)
		sess_op_pop(s);
	sess_unlink(s);
	freezero(s, sizeof(*s));
}

struct session *
sess_find(const char *id)
{
	struct session	 key;

	if (strlcpy(key.s_id, id, sizeof(key.s_id)) >= sizeof(key.s_id))
		return NULL;
	return RB_FIND(sess_tree, &sess_all, &key);
}

/* Find by a unique id prefix (coreastractl); *ambiguous set when not. */
struct session *
sess_find_prefix(const char *prefix, int *ambiguous)
{
	struct session	*s, *found = NULL;
	size_t		 len = strlen(prefix);

	*ambiguous = 0;
	if (len == 0)
		return NULL;
	RB_FOREACH(s, sess_tree, &sess_all) {
		if (strncmp(s->s_id, prefix, len) != 0)
			continue;
		if (found != NULL) {
			*ambiguous = 1;
			return NULL;
		}
		found = s;
	}
	return found;
}

void
sess_touch(struct session *s, time_t now)
{
	s->s_last = now;
}

time_t
sess_expires(const struct session *s)
{
	return s->s_last + s->s_idle;
}

time_t
sess_remaining(const struct session *s, time_t now)
{
	time_t	 left = sess_expires(s) - now;

	return left > 0 ? left : 0;
}

/* Idle for longer than its timeout; a busy session never expires. */
int
sess_expired(const struct session *s, time_t now)
{
	if (s->s_state == SESS_BUSY || s->s_nops > 0)
		return 0;
	return now >= sess_expires(s);
}

/* Queue an operation; it runs when it reaches the head. */
struct op *
sess_op_push(struct session *s, const struct msg_op *m, uint32_t reqid,
    uint32_t front)
{
	struct op	*o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->o_msg = *m;
	o->o_id = ++sess_opid;
	o->o_reqid = reqid;
	o->o_front = front;
	TAILQ_INSERT_TAIL(&s->s_ops, o, o_entry);
	s->s_nops++;
	return o;
}

struct op *
sess_op_head(struct session *s)
{
	return TAILQ_FIRST(&s->s_ops);
}

void
sess_op_pop(struct session *s)
{
	struct op	*o;

	if ((o = TAILQ_FIRST(&s->s_ops)) == NULL)
		return;
	TAILQ_REMOVE(&s->s_ops, o, o_entry);
	s->s_nops--;
	explicit_bzero(o, sizeof(*o));
	free(o);
}

/* Fill the wire description of a session. */
void
sess_describe(const struct session *s, time_t now, struct msg_session *m)
{
	const struct op	*o = TAILQ_FIRST(&s->s_ops);

	memset(m, 0, sizeof(*m));
	m->type = s->s_type;
	m->state = s->s_state;
	m->port = s->s_port;
	strlcpy(m->id, s->s_id, sizeof(m->id));
	strlcpy(m->host, s->s_host, sizeof(m->host));
	strlcpy(m->username, s->s_user, sizeof(m->username));
	strlcpy(m->name, s->s_name, sizeof(m->name));
	strlcpy(m->hostkey_type, s->s_hktype, sizeof(m->hostkey_type));
	strlcpy(m->hostkey_sha256, s->s_hkfp, sizeof(m->hostkey_sha256));
	m->created = s->s_created;
	m->last_activity = s->s_last;
	m->expires = sess_expires(s);
	m->remaining = sess_remaining(s, now);
	m->pid = s->s_pid;
	m->op = (s->s_state == SESS_BUSY && o != NULL) ? o->o_msg.op : 0;
	m->queued = s->s_nops;
	m->tls = s->s_tls;
	m->ops = s->s_opcount;
	m->bytes_in = s->s_bytes_in;
	m->bytes_out = s->s_bytes_out;
}
