/*
 * Blocking record I/O on data channels (the worker's side).
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datachan.h"
#include "util.h"

/* Write all iovecs; MSG_NOSIGNAL turns a closed peer into EPIPE. */
static int
dc_writev(int fd, struct iovec *iov, int iovcnt)
{
	struct msghdr	 msg;
	ssize_t		 n;

	while (iovcnt > 0) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = iovcnt;
		if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

/* Write one record made of two payload parts. */
int
dc_write2(int fd, uint32_t kind, const void *a, size_t alen, const void *b,
    size_t blen)
{
	struct dc_hdr	 hdr;
	struct iovec	 iov[3];

	if (alen + blen > DC_MAX_RECORD) {
		errno = EMSGSIZE;
		return -1;
	}
	hdr.kind = kind;
	hdr.len = alen + blen;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)a;
	iov[1].iov_len = alen;
	iov[2].iov_base = (void *)(uintptr_t)b;
	iov[2].iov_len = blen;
	return dc_writev(fd, iov, 3);
}

int
dc_write(int fd, uint32_t kind, const void *buf, size_t len)
{
	return dc_write2(fd, kind, buf, len, NULL, 0);
}

/* Read one record header; EOF before it is EPIPE, a bad one EBADMSG. */
int
dc_read_hdr(int fd, struct dc_hdr *hdr)
{
	if (read_all(fd, hdr, sizeof(*hdr)) == -1)
		return -1;
	if (hdr->len > DC_MAX_RECORD) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* Fill a result with a status, a machine code and a human sentence. */
void
dc_result_set(struct dc_result *r, int status, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;

	r->r_status = status;
	strlcpy(r->r_code, code, sizeof(r->r_code));
	va_start(ap, fmt);
	vsnprintf(r->r_message, sizeof(r->r_message), fmt, ap);
	va_end(ap);
}
