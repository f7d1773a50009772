/*
 * Unit tests for the session table: ids, lookup by prefix, the limit
 * count, operation queues and idle expiry with an injected clock.
 */
#include <atf-c.h>
#include <ctype.h>
#include <string.h>

#include "session.h"

static void
t_drain(void)
{
	struct session	*s, *next;

	RB_FOREACH_SAFE(s, sess_tree, &sess_all, next)
		sess_free(s);
}

ATF_TC_WITHOUT_HEAD(ids);
ATF_TC_BODY(ids, tc)
{
	struct session	*a, *b;
	size_t		 i;

	a = sess_new(SESS_SSH, 1000, 60);
	b = sess_new(SESS_FTP, 1000, 60);
	ATF_REQUIRE(a != NULL && b != NULL);
	ATF_CHECK(strcmp(a->s_id, b->s_id) != 0);
	ATF_CHECK_EQ(strlen(a->s_id), 36u);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ATF_CHECK_EQ(a->s_id[i], '-');
		else
			ATF_CHECK(isxdigit((unsigned char)a->s_id[i]));
	}
	ATF_CHECK_EQ(a->s_id[14], '4');		/* version 4 */
	ATF_CHECK(sess_find(a->s_id) == a);
	ATF_CHECK(sess_find("nope") == NULL);
	ATF_CHECK_EQ(sess_count, 2u);
	t_drain();
	ATF_CHECK_EQ(sess_count, 0u);
}

ATF_TC_WITHOUT_HEAD(prefix);
ATF_TC_BODY(prefix, tc)
{
	struct session	*a, *b;
	int		 amb;

	a = sess_new(SESS_SSH, 0, 60);
	b = sess_new(SESS_SSH, 0, 60);
	ATF_REQUIRE(a != NULL && b != NULL);
	/* Force a shared prefix. */
	RB_REMOVE(sess_tree, &sess_all, a);
	RB_REMOVE(sess_tree, &sess_all, b);
	memcpy(a->s_id, "abcd0000", 8);
	memcpy(b->s_id, "abcd1111", 8);
	RB_INSERT(sess_tree, &sess_all, a);
	RB_INSERT(sess_tree, &sess_all, b);
	ATF_CHECK(sess_find_prefix("abcd", &amb) == NULL);
	ATF_CHECK_EQ(amb, 1);
	ATF_CHECK(sess_find_prefix("abcd0", &amb) == a);
	ATF_CHECK_EQ(amb, 0);
	ATF_CHECK(sess_find_prefix("abcd1", &amb) == b);
	ATF_CHECK(sess_find_prefix("ffff", &amb) == NULL);
	ATF_CHECK_EQ(amb, 0);
	ATF_CHECK(sess_find_prefix("", &amb) == NULL);
	t_drain();
}

ATF_TC_WITHOUT_HEAD(expiry);
ATF_TC_BODY(expiry, tc)
{
	struct session		*s;
	struct msg_session	 m;
	struct msg_op		 op;

	s = sess_new(SESS_SSH, 1000, 30);
	ATF_REQUIRE(s != NULL);
	s->s_state = SESS_READY;
	ATF_CHECK_EQ(sess_expires(s), 1030);
	ATF_CHECK_EQ(sess_remaining(s, 1010), 20);
	ATF_CHECK(!sess_expired(s, 1029));
	ATF_CHECK(sess_expired(s, 1030));
	ATF_CHECK_EQ(sess_remaining(s, 2000), 0);

	/* Activity moves the deadline; a queued operation holds it. */
	sess_touch(s, 1025);
	ATF_CHECK(!sess_expired(s, 1050));
	ATF_CHECK(sess_expired(s, 1055));
	memset(&op, 0, sizeof(op));
	op.op = OP_LIST;
	ATF_REQUIRE(sess_op_push(s, &op, 7, 1) != NULL);
	ATF_CHECK(!sess_expired(s, 5000));
	s->s_state = SESS_BUSY;
	sess_describe(s, 1030, &m);
	ATF_CHECK_EQ(m.remaining, 25);
	ATF_CHECK_EQ(m.expires, 1055);
	ATF_CHECK_EQ(m.op, (uint32_t)OP_LIST);
	ATF_CHECK_EQ(m.queued, 1u);
	sess_op_pop(s);
	s->s_state = SESS_READY;
	ATF_CHECK(sess_expired(s, 5000));
	t_drain();
}

ATF_TC_WITHOUT_HEAD(queue_order);
ATF_TC_BODY(queue_order, tc)
{
	struct session	*s;
	struct msg_op	 op;
	struct op	*o;
	uint32_t	 last = 0;
	int		 i;

	s = sess_new(SESS_SSH, 0, 60);
	ATF_REQUIRE(s != NULL);
	memset(&op, 0, sizeof(op));
	for (i = 1; i <= 5; i++) {
		op.reqid = i;
		ATF_REQUIRE(sess_op_push(s, &op, i, 1) != NULL);
	}
	ATF_CHECK_EQ(s->s_nops, 5u);
	for (i = 1; i <= 5; i++) {
		o = sess_op_head(s);
		ATF_REQUIRE(o != NULL);
		ATF_CHECK_EQ(o->o_reqid, (uint32_t)i);
		ATF_CHECK(o->o_id > last);
		last = o->o_id;
		sess_op_pop(s);
	}
	ATF_CHECK(sess_op_head(s) == NULL);
	/* Freeing a session with queued operations releases them. */
	ATF_REQUIRE(sess_op_push(s, &op, 9, 1) != NULL);
	t_drain();
}

ATF_TC_WITHOUT_HEAD(unlink);
ATF_TC_BODY(unlink, tc)
{
	struct session	*s;
	char		 id[P_ID_LEN];

	s = sess_new(SESS_SSH, 0, 60);
	ATF_REQUIRE(s != NULL);
	strlcpy(id, s->s_id, sizeof(id));
	sess_unlink(s);
	ATF_CHECK_EQ(sess_count, 0u);
	ATF_CHECK(sess_find(id) == NULL);
	sess_unlink(s);
	ATF_CHECK_EQ(sess_count, 0u);
	sess_free(s);
	ATF_CHECK_EQ(sess_count, 0u);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ids);
	ATF_TP_ADD_TC(tp, prefix);
	ATF_TP_ADD_TC(tp, expiry);
	ATF_TP_ADD_TC(tp, queue_order);
	ATF_TP_ADD_TC(tp, unlink);
	return atf_no_error();
}
