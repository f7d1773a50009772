/*
 * Helpers shared by the libFuzzer targets.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fz.h"

#define FZ_FNV_PRIME	0x100000001b3ULL

void
fz_in_init(struct fz_in *in, const uint8_t *p, size_t len)
{
	in->in_p = p;
	in->in_len = len;
	in->in_off = 0;
}

/* The next byte, or 0 once the input is used up. */
uint8_t
fz_u8(struct fz_in *in)
{
	if (in->in_off >= in->in_len)
		return 0;
	return in->in_p[in->in_off++];
}

uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t	 v = fz_u8(in);

	return v | (uint16_t)fz_u8(in) << 8;
}

uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t	 v = fz_u16(in);

	return v | (uint32_t)fz_u16(in) << 16;
}

/* Point *p at up to n more bytes; returns how many there are. */
size_t
fz_take(struct fz_in *in, size_t n, const uint8_t **p)
{
	size_t	 left = in->in_len - in->in_off;

	if (n > left)
		n = left;
	*p = in->in_p + in->in_off;
	in->in_off += n;
	return n;
}

size_t
fz_left(const struct fz_in *in)
{
	return in->in_len - in->in_off;
}

void
fz_split_init(struct fz_split *sp, struct fz_in *in)
{
	size_t	 i;

	for (i = 0; i < FZ_NSPLIT; i++)
		sp->sp_ctl[i] = fz_u8(in);
	sp->sp_i = 0;
}

/*
 * The size of the next chunk, at most left and at least 1 when left is
 * not 0: small pieces for low control bytes, larger ones for high.
 */
size_t
fz_split_next(struct fz_split *sp, size_t left)
{
	uint8_t	 c = sp->sp_ctl[sp->sp_i++ % FZ_NSPLIT];
	size_t	 n;

	if (c == 0)
		n = left;
	else if (c < 128)
		n = c;
	else
		n = (size_t)(c - 127) * 64;
	if (n > left)
		n = left;
	if (n == 0 && left > 0)
		n = 1;
	return n;
}

/* FNV-1a over p, continuing from h. */
uint64_t
fz_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FZ_FNV_PRIME;
	}
	return h;
}

/*
 * A private file (mode 0600) under $TMPDIR, /dev/shm or /tmp, open for
 * reading and writing; path gets a name that opens it.  Where /proc is
 * mounted the file is unlinked at once and named by its /proc/self/fd
 * link, so that nothing is left behind when a run aborts.
 */
int
fz_tmpfile(const char *tag, char *path, size_t size)
{
	const char	*dir = getenv("TMPDIR");
	char		 name[PATH_MAX];
	int		 fd;

	if (dir == NULL || dir[0] != '/' || access(dir, W_OK) == -1)
		dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(name, sizeof(name), "%s/%s.XXXXXX", dir, tag);
	if ((fd = mkstemp(name)) == -1) {
		perror(name);
		exit(1);
	}
	snprintf(path, size, "/proc/self/fd/%d", fd);
	if (access(path, R_OK | W_OK) == 0)
		unlink(name);
	else
		strlcpy(path, name, size);
	return fd;
}

/* Print a line when FZ_TRACE is set in the environment. */
void
fz_trace(const char *fmt, ...)
{
	static int	 on = -1;
	va_list		 ap;

	if (on == -1)
		on = getenv("FZ_TRACE") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A broken invariant: say where and why, and abort for libFuzzer. */
void
fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
