/*
 * Small helpers every program links.
 */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* True when the fixed array holds a NUL-terminated string. */
#define STR_BOUNDED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

int	 fd_nonblock(int);
int	 fd_cloexec(int);
int	 write_all(int, const void *, size_t);
int	 read_all(int, void *, size_t);
void	 time_iso8601(time_t, char *, size_t);
uint64_t mono_ms(void);
int	 utf8_valid(const char *, size_t);

#endif
