/*
 * imsg-style framing: fixed header, bounded payload, one optional file
 * descriptor per message.  Never logs; sets errno and returns -1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_RBUF_SIZE	(sizeof(struct imsg_hdr) + IMSG_MAX_PAYLOAD)

int
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof(*ib));
	if ((ib->ib_rbuf = malloc(IMSG_RBUF_SIZE)) == NULL)
		return -1;
	ib->ib_fd = fd;
	ib->ib_pid = getpid();
	TAILQ_INIT(&ib->ib_outq);
	return 0;
}

/* Drop queued output and received descriptors; the fd stays open. */
void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	int		 i;

	while ((o = TAILQ_FIRST(&ib->ib_outq)) != NULL) {
		TAILQ_REMOVE(&ib->ib_outq, o, o_entry);
		if (o->o_fd != -1)
			close(o->o_fd);
		freezero(o, sizeof(*o) + o->o_len);
	}
	for (i = 0; i < ib->ib_nfds; i++)
		close(ib->ib_fds[i]);
	ib->ib_nfds = 0;
	ib->ib_outlen = 0;
	/* imsg_get wipes what it consumes: only ib_rlen bytes are left. */
	if (ib->ib_rbuf != NULL)
		explicit_bzero(ib->ib_rbuf, ib->ib_rlen);
	free(ib->ib_rbuf);
	ib->ib_rbuf = NULL;
	ib->ib_rlen = 0;
}

/*
 * Queue a message.  The fd, if not -1, is passed to the peer and closed
 * here once sent (also on failure).
 */
int
imsg_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct imsg_out	*o;
	struct imsg_hdr	 hdr;

	if (len > IMSG_MAX_PAYLOAD || (len > 0 && data == NULL)) {
		if (fd != -1)
			close(fd);
		errno = EMSGSIZE;
		return -1;
	}
	if ((o = malloc(sizeof(*o) + sizeof(hdr) + len)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = ib->ib_pid;
	hdr.flags = fd != -1 ? IMSG_F_HASFD : 0;
	memcpy(o->o_buf, &hdr, sizeof(hdr));
	if (len > 0)
		memcpy(o->o_buf + sizeof(hdr), data, len);
	o->o_len = sizeof(hdr) + len;
	o->o_off = 0;
	o->o_fd = fd;
	TAILQ_INSERT_TAIL(&ib->ib_outq, o, o_entry);
	ib->ib_outlen += o->o_len;
	return 0;
}

/* Send the first queued message's remaining bytes, with its fd if due. */
static ssize_t
imsg_send_one(struct imsgbuf *ib, struct imsg_out *o)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = o->o_buf + o->o_off;
	iov.iov_len = o->o_len - o->o_off;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (o->o_fd != -1 && o->o_off == 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = &cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &o->o_fd, sizeof(int));
	}
	while ((n = sendmsg(ib->ib_fd, &msg, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	return n;
}

/*
 * Write queued messages without blocking.  Returns 0 when the queue is
 * empty, 1 when the socket would block, -1 on error.
 */
int
imsg_flush(struct imsgbuf *ib)
{
	struct imsg_out	*o;
	ssize_t		 n;

	while ((o = TAILQ_FIRST(&ib->ib_outq)) != NULL) {
		if ((n = imsg_send_one(ib, o)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		if (o->o_fd != -1 && o->o_off == 0) {
			close(o->o_fd);
			o->o_fd = -1;
		}
		o->o_off += n;
		ib->ib_outlen -= n;
		if (o->o_off < o->o_len)
			continue;
		TAILQ_REMOVE(&ib->ib_outq, o, o_entry);
		/* Messages may carry credentials: leave nothing behind. */
		freezero(o, sizeof(*o) + o->o_len);
	}
	return 0;
}

/* Flush the queue, waiting for the socket as needed. */
int
imsg_flush_blocking(struct imsgbuf *ib)
{
	struct pollfd	 pfd;
	int		 rv;

	while ((rv = imsg_flush(ib)) == 1) {
		pfd.fd = ib->ib_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
	}
	return rv;
}

/*
 * Wait up to timeout_ms (-1: without end) for the next message: 1 with
 * it in im, 0 on timeout, -1 with errno set (EPIPE: the peer closed).
 */
int
imsg_get_blocking(struct imsgbuf *ib, struct imsg *im, int timeout_ms)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 rv;

	for (;;) {
		if ((rv = imsg_get(ib, im)) != 0)
			return rv;
		pfd.fd = ib->ib_fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, timeout_ms)) == -1 && errno != EINTR)
			return -1;
		if (rv == 0)
			return 0;
		if ((n = imsg_read(ib)) == 0) {
			errno = EPIPE;
			return -1;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

/* Keep the descriptors a recvmsg brought, in arrival order. */
static int
imsg_collect_fds(struct imsgbuf *ib, struct msghdr *msg)
{
	struct cmsghdr	*cmsg;
	int		 i, n, fd, bad = 0;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (ib->ib_nfds < IMSG_MAX_FDS)
				ib->ib_fds[ib->ib_nfds++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	if (bad || (msg->msg_flags & MSG_CTRUNC)) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/*
 * Read what the socket has.  Returns the bytes read, 0 on EOF, -1 on
 * error (EAGAIN when nothing is there yet).
 */
ssize_t
imsg_read(struct imsgbuf *ib)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cmsgbuf;
	ssize_t		 n;

	if (ib->ib_rlen >= IMSG_RBUF_SIZE) {
		errno = ENOBUFS;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = ib->ib_rbuf + ib->ib_rlen;
	iov.iov_len = IMSG_RBUF_SIZE - ib->ib_rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = &cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);
	while ((n = recvmsg(ib->ib_fd, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		return -1;
	if (imsg_collect_fds(ib, &msg) == -1)
		return -1;
	ib->ib_rlen += n;
	return n;
}

/*
 * Take the next complete message out of the read buffer.  Returns 1 with
 * *im filled (release it with imsg_free), 0 when more bytes are needed,
 * -1 with EBADMSG for a malformed header.
 */
int
imsg_get(struct imsgbuf *ib, struct imsg *im)
{
	struct imsg_hdr	 hdr;
	size_t		 total;

	if (ib->ib_rlen < sizeof(hdr))
		return 0;
	memcpy(&hdr, ib->ib_rbuf, sizeof(hdr));
	if (hdr.len > IMSG_MAX_PAYLOAD || (hdr.flags & ~IMSG_F_HASFD)) {
		errno = EBADMSG;
		return -1;
	}
	total = sizeof(hdr) + hdr.len;
	if (ib->ib_rlen < total)
		return 0;
	im->fd = -1;
	if (hdr.flags & IMSG_F_HASFD) {
		if (ib->ib_nfds == 0) {
			errno = EBADMSG;
			return -1;
		}
		im->fd = ib->ib_fds[0];
		memmove(ib->ib_fds, ib->ib_fds + 1,
		    --ib->ib_nfds * sizeof(int));
	}
	im->hdr = hdr;
	im->data = NULL;
	if (hdr.len > 0 && (im->data = malloc(hdr.len)) == NULL) {
		if (im->fd != -1)
			close(im->fd);
		return -1;
	}
	if (hdr.len > 0)
		memcpy(im->data, ib->ib_rbuf + sizeof(hdr), hdr.len);
	memmove(ib->ib_rbuf, ib->ib_rbuf + total, ib->ib_rlen - total);
	explicit_bzero(ib->ib_rbuf + ib->ib_rlen - total, total);
	ib->ib_rlen -= total;
	return 1;
}

/* Take ownership of the message's descriptor. */
int
imsg_take_fd(struct imsg *im)
{
	int	 fd = im->fd;

	im->fd = -1;
	return fd;
}

/* Release a message; its fd is closed unless it was taken. */
void
imsg_free(struct imsg *im)
{
	if (im->fd != -1)
		close(im->fd);
	im->fd = -1;
	if (im->data != NULL)
		freezero(im->data, im->hdr.len);
	im->data = NULL;
}
