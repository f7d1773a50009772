/*
 * Logging for every coreastrad process.
 *
 * The macros prefix each line with the calling function's name.  A process
 * logs to stderr (foreground, -d), to syslog, or, in a sandboxed child,
 * through a hook that hands the finished line to the parent.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

#define LOG_LINE_MAX	1024

/* Called with each finished line instead of syslog/stderr when set. */
typedef void	(*log_hook_t)(int, const char *);

void	log_init(int, int);
void	log_procname(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_sethook(log_hook_t);
void	log_emit(int, const char *);

void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
void	log_fn_warn(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	log_fn_warnx(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	log_fn_info(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	log_fn_debug(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	log_fn_fatal(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3), __noreturn__));
void	log_fn_fatalx(const char *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3), __noreturn__));

/* warn and fatal append strerror(errno); the x forms do not. */
#define log_warn(...)	log_fn_warn(__func__, __VA_ARGS__)
#define log_warnx(...)	log_fn_warnx(__func__, __VA_ARGS__)
#define log_info(...)	log_fn_info(__func__, __VA_ARGS__)
#define log_debug(...)	log_fn_debug(__func__, __VA_ARGS__)
#define fatal(...)	log_fn_fatal(__func__, __VA_ARGS__)
#define fatalx(...)	log_fn_fatalx(__func__, __VA_ARGS__)

#endif
