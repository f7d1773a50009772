/*
 * coreastrad configuration: the settings the parent reads from
 * coreastrad.conf (parse.y) or takes from the built-in defaults.
 * Only the parent reads the file; children get the values they need
 * in messages.
 */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <sys/types.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_DEFAULT_FILE	"/etc/coreastrad.conf"
#define CONF_MAX_LISTEN		8
#define CONF_MAX_ORIGINS	16
#define CONF_ORIGIN_MAX		256
#define CONF_NAME_MAX		64

enum conf_hostkey_policy {
	HOSTKEY_ACCEPT_NEW = 0,		/* remember on first use (default) */
	HOSTKEY_STRICT,			/* refuse hosts not in known hosts */
	HOSTKEY_OFF			/* warn on mismatch, connect anyway */
};

struct conf_listen {
	char		 l_addr[64];	/* numeric IPv4 or IPv6 address */
	uint16_t	 l_port;
};

struct conf {
	char		 c_file[PATH_MAX];	/* file read, "" = defaults */

	struct conf_listen c_listen[CONF_MAX_LISTEN];
	int		 c_nlisten;

	/* sessions */
	unsigned int	 c_max_sessions;	/* 20 */
	unsigned int	 c_idle_timeout;	/* seconds, 1800 */
	unsigned int	 c_connect_timeout;	/* seconds, 10 */
	unsigned int	 c_command_timeout;	/* seconds, 60 */
	unsigned int	 c_keepalive;		/* ssh keepalive seconds, 30 */
	uint64_t	 c_max_file_size;	/* upload limit, 0 = none */
	uint64_t	 c_max_output;		/* execute capture, 1 MiB */

	/* HTTP front */
	unsigned int	 c_max_clients;		/* 512 concurrent clients */
	unsigned int	 c_max_body;		/* JSON body limit, 256 KiB */
	unsigned int	 c_header_timeout;	/* seconds, 10 */
	unsigned int	 c_keepalive_timeout;	/* seconds, 60 */
	char		 c_origins[CONF_MAX_ORIGINS][CONF_ORIGIN_MAX];
	int		 c_norigins;

	/* privilege separation */
	char		 c_user[CONF_NAME_MAX];	/* "_coreastra" */
	char		 c_chroot[PATH_MAX];	/* "/var/empty" */
	int		 c_worker_exec;		/* exec each worker, 0 */
	unsigned int	 c_worker_batch;	/* forked per spawner, 64 */

	/* control socket */
	char		 c_control_socket[PATH_MAX];
	char		 c_control_group[CONF_NAME_MAX]; /* "": root only */

	/* host keys and certificates */
	char		 c_known_hosts[PATH_MAX];
	enum conf_hostkey_policy c_hostkey_policy;
	char		 c_ca_file[PATH_MAX];	/* FTPS CA bundle */
	int		 c_ftps_insecure_ok;	/* allow "insecure": true */
};

/* parse.y */
void	 conf_defaults(struct conf *);
int	 conf_parse(const char *, struct conf *);
void	 conf_print(FILE *, const struct conf *);
const char *conf_policy_name(enum conf_hostkey_policy);
void	 conf_set_reporter(void (*)(const char *));

#endif
