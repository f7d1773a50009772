/*
 * Logging: one line per event, prefixed with the process and function name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_to_stderr = 1;
static int		 log_verbose;
static const char	*log_proc = "coreastrad";
static log_hook_t	 log_hook;

/* Start logging: to stderr when foreground, else to syslog. */
void
log_init(int foreground, int facility)
{
	log_to_stderr = foreground;
	if (!foreground)
		openlog("coreastrad", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procname(const char *name)
{
	log_proc = name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_sethook(log_hook_t hook)
{
	log_hook = hook;
}

/* Write one finished line to wherever this process logs. */
void
log_emit(int pri, const char *line)
{
	if (pri == LOG_DEBUG && !log_verbose)
		return;
	if (log_hook != NULL) {
		log_hook(pri, line);
		return;
	}
	if (log_to_stderr) {
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	int	 n;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	n = snprintf(line, sizeof(line), "%s: ", log_proc);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	log_emit(pri, line);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

/* Format "func: message[: strerror]" and log it at pri. */
static void
log_fn(int pri, const char *fn, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[LOG_LINE_MAX];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		logit(pri, "%s: %s: %s", fn, msg, strerror(saved));
	else
		logit(pri, "%s: %s", fn, msg);
	errno = saved;
}

void
log_fn_warn(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fn(LOG_WARNING, fn, 1, fmt, ap);
	va_end(ap);
}

void
log_fn_warnx(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fn(LOG_WARNING, fn, 0, fmt, ap);
	va_end(ap);
}

void
log_fn_info(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fn(LOG_INFO, fn, 0, fmt, ap);
	va_end(ap);
}

void
log_fn_debug(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_fn(LOG_DEBUG, fn, 0, fmt, ap);
	va_end(ap);
}

void
log_fn_fatal(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fn(LOG_CRIT, fn, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_fn_fatalx(const char *fn, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fn(LOG_CRIT, fn, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
