/*
 * Helpers shared by the libFuzzer targets: a reader that takes bytes
 * from the front of the fuzz input (zeros once it is used up), chunk
 * sizes derived from the input for split feeding, a transcript hash for
 * comparing two runs, and a failed check that names the spot.
 */
#ifndef TESTS_FUZZ_FZ_H
#define TESTS_FUZZ_FZ_H

#include <stddef.h>
#include <stdint.h>

#define FZ_NSPLIT	8	/* chunk size bytes taken from the input */

struct fz_in {
	const uint8_t	*in_p;
	size_t		 in_len;
	size_t		 in_off;
};

/* Chunk sizes for feeding a stream in pieces, from FZ_NSPLIT bytes. */
struct fz_split {
	uint8_t		 sp_ctl[FZ_NSPLIT];
	size_t		 sp_i;
};

#define FZ_CHECK(c)	do {						\
	if (!(c))							\
		fz_fail(__FILE__, __LINE__, "%s", #c);			\
} while (0)

void	 fz_in_init(struct fz_in *, const uint8_t *, size_t);
uint8_t	 fz_u8(struct fz_in *);
uint16_t fz_u16(struct fz_in *);
uint32_t fz_u32(struct fz_in *);
size_t	 fz_take(struct fz_in *, size_t, const uint8_t **);
size_t	 fz_left(const struct fz_in *);
void	 fz_split_init(struct fz_split *, struct fz_in *);
size_t	 fz_split_next(struct fz_split *, size_t);
uint64_t fz_hash(uint64_t, const void *, size_t);
int	 fz_tmpfile(const char *, char *, size_t);
void	 fz_trace(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	 fz_fail(const char *, int, const char *, ...)
	    __attribute__((__format__ (printf, 3, 4), __noreturn__));

/* The libFuzzer entry points. */
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	 LLVMFuzzerInitialize(int *, char ***);

#endif
