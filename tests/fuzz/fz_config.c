/*
 * Fuzz target for the configuration grammar (daemon/parse.y).
 *
 * Input: the text of coreastrad.conf.  It is written to a private file
 * (mode 0600, as conf_parse demands; see fz_tmpfile), reused for every
 * run, and parsed.  A configuration that parses must hold
 * only bounded, valid settings, and what conf_print (coreastrad -nv)
 * writes for it must parse back to the same settings.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fz.h"

#define FZC_BOUNDED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

static char	 fzc_path[PATH_MAX];	/* the input */
static char	 fzc_path2[PATH_MAX];	/* conf_print's output */
static int	 fzc_fd = -1;

/* Errors are expected by the million: keep them off the terminal. */
static void
fzc_report(const char *line)
{
	(void)line;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fzc_fd = fz_tmpfile("fz_config", fzc_path, sizeof(fzc_path));
	(void)fz_tmpfile("fz_config", fzc_path2, sizeof(fzc_path2));
	conf_set_reporter(fzc_report);
	return 0;
}

/* What a parsed configuration may hold. */
static void
fzc_check(const struct conf *c)
{
	struct in6_addr	 a6;
	int		 i;

	FZ_CHECK(c->c_nlisten >= 1 && c->c_nlisten <= CONF_MAX_LISTEN);
	for (i = 0; i < c->c_nlisten; i++) {
		FZ_CHECK(FZC_BOUNDED(c->c_listen[i].l_addr));
		FZ_CHECK(inet_pton(AF_INET, c->c_listen[i].l_addr, &a6) ==
		    1 || inet_pton(AF_INET6, c->c_listen[i].l_addr, &a6) == 1);
		FZ_CHECK(c->c_listen[i].l_port >= 1);
	}
	FZ_CHECK(c->c_norigins >= 0 && c->c_norigins <= CONF_MAX_ORIGINS);
	for (i = 0; i < c->c_norigins; i++)
		FZ_CHECK(FZC_BOUNDED(c->c_origins[i]));
	FZ_CHECK(c->c_max_sessions >= 1 && c->c_max_clients >= 1);
	FZ_CHECK(c->c_idle_timeout >= 1 && c->c_connect_timeout >= 1);
	FZ_CHECK(c->c_max_body >= 1024);
	FZ_CHECK(FZC_BOUNDED(c->c_user) && c->c_user[0] != '\0');
	FZ_CHECK(FZC_BOUNDED(c->c_chroot) && c->c_chroot[0] == '/');
	FZ_CHECK(FZC_BOUNDED(c->c_control_socket));
	FZ_CHECK(strlen(c->c_control_socket) <
	    sizeof(((struct sockaddr_un *)0)->sun_path));
	FZ_CHECK(FZC_BOUNDED(c->c_control_group));
	FZ_CHECK(FZC_BOUNDED(c->c_known_hosts));
	FZ_CHECK(FZC_BOUNDED(c->c_ca_file));
	FZ_CHECK(c->c_hostkey_policy >= HOSTKEY_ACCEPT_NEW &&
	    c->c_hostkey_policy <= HOSTKEY_OFF);
}

/* Clear what follows the NUL of a string field: stale, never read. */
static void
fzc_clear_tail(char *buf, size_t size)
{
	size_t	 len = strnlen(buf, size);

	if (len < size)
		memset(buf + len, 0, size - len);
}

/* Settings in a form memcmp can compare: unused bytes cleared. */
static void
fzc_normalize(struct conf *c)
{
	int	 i;

	memset(c->c_file, 0, sizeof(c->c_file));
	for (i = 0; i < CONF_MAX_LISTEN; i++) {
		if (i >= c->c_nlisten)
			memset(&c->c_listen[i], 0, sizeof(c->c_listen[i]));
		fzc_clear_tail(c->c_listen[i].l_addr,
		    sizeof(c->c_listen[i].l_addr));
	}
	for (i = 0; i < CONF_MAX_ORIGINS; i++) {
		if (i >= c->c_norigins)
			memset(c->c_origins[i], 0, sizeof(c->c_origins[i]));
		fzc_clear_tail(c->c_origins[i], sizeof(c->c_origins[i]));
	}
	fzc_clear_tail(c->c_user, sizeof(c->c_user));
	fzc_clear_tail(c->c_chroot, sizeof(c->c_chroot));
	fzc_clear_tail(c->c_control_socket, sizeof(c->c_control_socket));
	fzc_clear_tail(c->c_control_group, sizeof(c->c_control_group));
	fzc_clear_tail(c->c_known_hosts, sizeof(c->c_known_hosts));
	fzc_clear_tail(c->c_ca_file, sizeof(c->c_ca_file));
}

/* conf_print's output must read back as the same settings. */
static void
fzc_roundtrip(const struct conf *c)
{
	static struct conf	 back;
	FILE			*fp;

	if ((fp = fopen(fzc_path2, "w")) == NULL)
		abort();
	conf_print(fp, c);
	if (fclose(fp) == EOF)
		abort();
	memset(&back, 0, sizeof(back));
	if (conf_parse(fzc_path2, &back) == -1)
		fz_fail(__FILE__, __LINE__, "conf_print output does not parse");
	fzc_normalize(&back);
	if (memcmp(&back, c, sizeof(back)) != 0)
		fz_fail(__FILE__, __LINE__, "conf_print output parses to "
		    "other settings");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf	 c;

	if (ftruncate(fzc_fd, 0) == -1 ||
	    pwrite(fzc_fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&c, 0, sizeof(c));
	if (conf_parse(fzc_path, &c) == -1)
		return 0;
	FZ_CHECK(strcmp(c.c_file, fzc_path) == 0);
	fzc_check(&c);
	fzc_normalize(&c);
	fzc_roundtrip(&c);
	return 0;
}
