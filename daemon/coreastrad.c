/*
 * coreastrad: the CoreAstra connection manager.  Parses options, loads
 * the configuration and runs the parent; when exec'd by the parent with
 * -X ROLE it becomes that child (front, ssh or ftp worker) instead.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "coreastra_proto.h"
#include "front.h"
#include "log.h"
#include "parent.h"
#include "proc.h"
#include "worker.h"

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: coreastrad [-dnv] [-f file] [-s socket]\n"
	    "  -d         stay in the foreground, log to stderr\n"
	    "  -f file    configuration file (default %s)\n"
	    "  -n         check the configuration and exit; with -v print it\n"
	    "  -s socket  control socket path\n"
	    "  -v         verbose: debug logging\n", CONF_DEFAULT_FILE);
	exit(2);
}

/* Load the file, or the built-in defaults when the default is absent. */
static int
main_load_conf(struct parent *env)
{
	conf_defaults(&env->p_conf);
	if (!env->p_conf_explicit && access(env->p_conffile, F_OK) == -1 &&
	    errno == ENOENT)
		return 0;
	return conf_parse(env->p_conffile, &env->p_conf);
}

/* A child exec'd by the parent: never reads the configuration. */
static void __attribute__((__noreturn__))
main_child(const char *role, int foreground, int verbose)
{
	log_init(foreground, LOG_DAEMON);
	log_setverbose(verbose);
	if (strcmp(role, "front") == 0)
		front_main();
	if (strcmp(role, "ssh") == 0 || strcmp(role, "ftp") == 0)
		worker_main(role, 0);
	if (strcmp(role, "spawner") == 0)
		spawner_main();
	fatalx("unknown role %s", role);
}

int
main(int argc, char *argv[], char *envp[])
{
	static struct parent	 env;
	const char		*role = NULL;
	int			 ch, checkonly = 0;

	strlcpy(env.p_conffile, CONF_DEFAULT_FILE, sizeof(env.p_conffile));
	while ((ch = getopt(argc, argv, "df:hns:vX:")) != -1) {
		switch (ch) {
		case 'd':
			env.p_foreground = 1;
			break;
		case 'f':
			if (strlcpy(env.p_conffile, optarg,
			    sizeof(env.p_conffile)) >= sizeof(env.p_conffile))
				usage();
			env.p_conf_explicit = 1;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 's':
			if (strlcpy(env.p_ctlsock, optarg,
			    sizeof(env.p_ctlsock)) >= sizeof(env.p_ctlsock))
				usage();
			break;
		case 'v':
			env.p_verbose++;
			break;
		case 'X':
			role = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setproctitle_init(argc, argv, envp);
	if (role != NULL)
		main_child(role, env.p_foreground, env.p_verbose);

	log_init(1, LOG_DAEMON);
	log_setverbose(env.p_verbose);
	if (main_load_conf(&env) == -1)
		exit(1);
	if (env.p_ctlsock[0] != '\0')
		strlcpy(env.p_conf.c_control_socket, env.p_ctlsock,
		    sizeof(env.p_conf.c_control_socket));
	if (checkonly) {
		if (env.p_verbose)
			conf_print(stdout, &env.p_conf);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	proc_init_self();
	if (!env.p_foreground) {
		log_init(0, LOG_DAEMON);
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	parent_main(&env);
}
