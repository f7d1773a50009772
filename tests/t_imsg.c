/*
 * Unit tests for the imsg framing layer: round trips, descriptor passing,
 * partial reads and writes, malformed and oversized messages, the
 * blocking receive.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "util.h"

static void
t_pair(int sv[2])
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	ATF_REQUIRE(fd_nonblock(sv[0]) == 0);
	ATF_REQUIRE(fd_nonblock(sv[1]) == 0);
}

/* Read until one message is complete or the peer has nothing more. */
static int
t_get(struct imsgbuf *ib, struct imsg *im)
{
	int	 rv, i;

	for (i = 0; i < 1000; i++) {
		if ((rv = imsg_get(ib, im)) != 0)
			return rv;
		if (imsg_read(ib) <= 0)
			return imsg_get(ib, im);
	}
	return -1;
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 im;
	int		 sv[2], i;
	char		 payload[100];

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	for (i = 0; i < 10; i++) {
		memset(payload, 'a' + i, sizeof(payload));
		ATF_REQUIRE(imsg_compose(&a, 100 + i, i, -1, payload,
		    i * 10) == 0);
	}
	ATF_REQUIRE(imsg_compose(&a, 7, 0, -1, NULL, 0) == 0);
	ATF_REQUIRE_EQ(imsg_flush(&a), 0);
	for (i = 0; i < 10; i++) {
		ATF_REQUIRE_EQ(t_get(&b, &im), 1);
		ATF_CHECK_EQ(im.hdr.type, (uint32_t)(100 + i));
		ATF_CHECK_EQ(im.hdr.peerid, (uint32_t)i);
		ATF_CHECK_EQ(im.hdr.len, (uint32_t)(i * 10));
		ATF_CHECK_EQ(im.hdr.pid, (uint32_t)getpid());
		ATF_CHECK_EQ(im.fd, -1);
		if (i > 0)
			ATF_CHECK(((char *)im.data)[i * 10 - 1] == 'a' + i);
		imsg_free(&im);
	}
	ATF_REQUIRE_EQ(t_get(&b, &im), 1);
	ATF_CHECK_EQ(im.hdr.type, 7u);
	ATF_CHECK(im.data == NULL);
	imsg_free(&im);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
}

ATF_TC_WITHOUT_HEAD(fdpass);
ATF_TC_BODY(fdpass, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 im;
	int		 sv[2], p[2], fd, i;
	char		 buf[8];

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE(pipe(p) == 0);
		ATF_REQUIRE(write(p[1], "fd", 2) == 2);
		close(p[1]);
		ATF_REQUIRE(imsg_compose(&a, 1, i, p[0], "x", 1) == 0);
		ATF_REQUIRE(imsg_compose(&a, 2, i, -1, "y", 1) == 0);
	}
	ATF_REQUIRE_EQ(imsg_flush(&a), 0);
	for (i = 0; i < 3; i++) {
		ATF_REQUIRE_EQ(t_get(&b, &im), 1);
		ATF_REQUIRE_EQ(im.hdr.type, 1u);
		ATF_REQUIRE(im.fd != -1);
		fd = imsg_take_fd(&im);
		ATF_REQUIRE_EQ(read(fd, buf, sizeof(buf)), 2);
		ATF_CHECK(memcmp(buf, "fd", 2) == 0);
		close(fd);
		imsg_free(&im);
		ATF_REQUIRE_EQ(t_get(&b, &im), 1);
		ATF_CHECK_EQ(im.hdr.type, 2u);
		ATF_CHECK_EQ(im.fd, -1);
		imsg_free(&im);
	}
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
}

/* Bytes trickle in one at a time: the message appears only when whole. */
ATF_TC_WITHOUT_HEAD(partial_read);
ATF_TC_BODY(partial_read, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 im;
	struct imsg_out	*o;
	int		 sv[2];
	size_t		 i, len;
	unsigned char	 wire[512];
	char		 payload[300];

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&a, -1) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	memset(payload, 'z', sizeof(payload));
	ATF_REQUIRE(imsg_compose(&a, 9, 1, -1, payload, sizeof(payload)) ==
	    0);
	o = TAILQ_FIRST(&a.ib_outq);
	len = o->o_len;
	memcpy(wire, o->o_buf, len);
	for (i = 0; i < len; i++) {
		ATF_REQUIRE_EQ(imsg_get(&b, &im), 0);
		ATF_REQUIRE(write(sv[0], wire + i, 1) == 1);
		ATF_REQUIRE_EQ(imsg_read(&b), 1);
	}
	ATF_REQUIRE_EQ(imsg_get(&b, &im), 1);
	ATF_CHECK_EQ(im.hdr.len, sizeof(payload));
	imsg_free(&im);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
}

/* A full socket buffer: flush reports 1 and finishes later. */
ATF_TC_WITHOUT_HEAD(partial_write);
ATF_TC_BODY(partial_write, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 im;
	int		 sv[2], i, n, rv, got = 0;
	static char	 payload[IMSG_MAX_PAYLOAD];

	t_pair(sv);
	n = 200;
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	for (i = 0; i < n; i++) {
		memset(payload, i, sizeof(payload));
		ATF_REQUIRE(imsg_compose(&a, 3, i, -1, payload,
		    sizeof(payload)) == 0);
	}
	ATF_REQUIRE_EQ(imsg_flush(&a), 1);
	for (i = 0; i < 100000 && got < n; i++) {
		rv = imsg_flush(&a);
		ATF_REQUIRE(rv != -1);
		while (imsg_get(&b, &im) == 1) {
			ATF_CHECK_EQ(im.hdr.peerid, (uint32_t)got);
			ATF_CHECK_EQ(((unsigned char *)im.data)[100],
			    (unsigned char)got);
			got++;
			imsg_free(&im);
		}
		if (imsg_read(&b) == -1)
			ATF_REQUIRE(errno == EAGAIN);
	}
	ATF_CHECK_EQ(got, n);
	ATF_CHECK_EQ(a.ib_outlen, 0u);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
}

ATF_TC_WITHOUT_HEAD(oversize);
ATF_TC_BODY(oversize, tc)
{
	struct imsgbuf	 a, b;
	struct imsg	 im;
	struct imsg_hdr	 hdr;
	int		 sv[2];
	static char	 big[IMSG_MAX_PAYLOAD + 1];

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&a, sv[0]) == 0);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	ATF_CHECK_EQ(imsg_compose(&a, 1, 0, -1, big, sizeof(big)), -1);
	ATF_CHECK_EQ(errno, EMSGSIZE);

	/* A peer announcing more than the limit is refused. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = 1;
	hdr.len = IMSG_MAX_PAYLOAD + 1;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_REQUIRE(imsg_read(&b) > 0);
	ATF_CHECK_EQ(imsg_get(&b, &im), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
}

ATF_TC_WITHOUT_HEAD(malformed);
ATF_TC_BODY(malformed, tc)
{
	struct imsgbuf	 b;
	struct imsg	 im;
	struct imsg_hdr	 hdr;
	int		 sv[2];

	/* Claims to carry a descriptor but none came. */
	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.flags = IMSG_F_HASFD;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_REQUIRE(imsg_read(&b) > 0);
	ATF_CHECK_EQ(imsg_get(&b, &im), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* Unknown flag bits. */
	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	hdr.flags = 0x80;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_REQUIRE(imsg_read(&b) > 0);
	ATF_CHECK_EQ(imsg_get(&b, &im), -1);
	imsgbuf_clear(&b);
}

/* EOF in the middle of a message leaves it incomplete, never delivered. */
ATF_TC_WITHOUT_HEAD(truncated);
ATF_TC_BODY(truncated, tc)
{
	struct imsgbuf	 b;
	struct imsg	 im;
	struct imsg_hdr	 hdr;
	int		 sv[2];

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.len = 10;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_REQUIRE(write(sv[0], "abc", 3) == 3);
	close(sv[0]);
	ATF_REQUIRE(imsg_read(&b) > 0);
	ATF_CHECK_EQ(imsg_get(&b, &im), 0);
	ATF_CHECK_EQ(imsg_read(&b), 0);
	ATF_CHECK_EQ(imsg_get(&b, &im), 0);
	imsgbuf_clear(&b);
}

/*
 * The blocking receive: a timeout with nothing sent, a message that
 * arrives in two writes from another process, then the peer's close.
 */
ATF_TC_WITHOUT_HEAD(blocking);
ATF_TC_BODY(blocking, tc)
{
	struct imsgbuf	 b;
	struct imsg	 im;
	struct imsg_hdr	 hdr;
	pid_t		 pid;
	int		 sv[2], status;

	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	ATF_CHECK_EQ(imsg_get_blocking(&b, &im, 50), 0);

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = 42;
	hdr.len = 4;
	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (write(sv[0], &hdr, sizeof(hdr)) != sizeof(hdr))
			_exit(1);
		usleep(100000);
		_exit(write(sv[0], "wxyz", 4) != 4);
	}
	close(sv[0]);
	ATF_REQUIRE_EQ(imsg_get_blocking(&b, &im, 10000), 1);
	ATF_CHECK_EQ(im.hdr.type, 42u);
	ATF_CHECK_EQ(im.hdr.len, 4u);
	ATF_CHECK(memcmp(im.data, "wxyz", 4) == 0);
	imsg_free(&im);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ATF_CHECK_EQ(imsg_get_blocking(&b, &im, 10000), -1);
	ATF_CHECK_EQ(errno, EPIPE);
	imsgbuf_clear(&b);
	close(sv[1]);

	/* A malformed header is an error, not a wait. */
	t_pair(sv);
	ATF_REQUIRE(imsgbuf_init(&b, sv[1]) == 0);
	hdr.len = IMSG_MAX_PAYLOAD + 1;
	ATF_REQUIRE(write(sv[0], &hdr, sizeof(hdr)) == sizeof(hdr));
	ATF_CHECK_EQ(imsg_get_blocking(&b, &im, 10000), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, fdpass);
	ATF_TP_ADD_TC(tp, partial_read);
	ATF_TP_ADD_TC(tp, partial_write);
	ATF_TP_ADD_TC(tp, oversize);
	ATF_TP_ADD_TC(tp, malformed);
	ATF_TP_ADD_TC(tp, truncated);
	ATF_TP_ADD_TC(tp, blocking);
	return atf_no_error();
}
