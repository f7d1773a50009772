/*
 * imsg-style framing between coreastrad processes.
 *
 * A message is a fixed header followed by a bounded payload; it may carry
 * one file descriptor, sent with SCM_RIGHTS alongside its first byte.
 * Reads and writes are non-blocking and queued.  The library never logs:
 * it sets errno and returns -1.
 */
#ifndef COMMON_IMSG_H
#define COMMON_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#define IMSG_MAX_PAYLOAD	(64 * 1024)
#define IMSG_MAX_FDS		16	/* received fds waiting for a header */
#define IMSG_F_HASFD		0x1

struct imsg_hdr {
	uint32_t	type;
	uint32_t	len;		/* payload bytes after the header */
	uint32_t	peerid;
	uint32_t	pid;
	uint32_t	flags;
};

struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;		/* -1 when none */
	void		*data;		/* hdr.len bytes, owned by the imsg */
};

struct imsg_out {
	TAILQ_ENTRY(imsg_out)	 o_entry;
	size_t			 o_len;
	size_t			 o_off;	/* bytes already written */
	int			 o_fd;	/* sent with the first byte */
	unsigned char		 o_buf[];
};

struct imsgbuf {
	int			 ib_fd;
	pid_t			 ib_pid;
	unsigned char		*ib_rbuf;
	size_t			 ib_rlen;
	int			 ib_fds[IMSG_MAX_FDS];
	int			 ib_nfds;
	TAILQ_HEAD(, imsg_out)	 ib_outq;
	size_t			 ib_outlen;	/* queued bytes */
};

int	imsgbuf_init(struct imsgbuf *, int);
void	imsgbuf_clear(struct imsgbuf *);
int	imsg_compose(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	imsg_flush(struct imsgbuf *);
int	imsg_flush_blocking(struct imsgbuf *);
ssize_t	imsg_read(struct imsgbuf *);
int	imsg_get(struct imsgbuf *, struct imsg *);
int	imsg_get_blocking(struct imsgbuf *, struct imsg *, int);
void	imsg_free(struct imsg *);
int	imsg_take_fd(struct imsg *);

#endif
