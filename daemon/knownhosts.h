/*
 * Known host keys, kept by the parent: one line per host and port,
 * "host port type SHA256:fingerprint".
 */
#ifndef DAEMON_KNOWNHOSTS_H
#define DAEMON_KNOWNHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

int	kh_valid(const char *, const char *);
int	kh_check(const char *, enum conf_hostkey_policy, const char *,
	    uint16_t, const char *, const char *, char *, size_t);

#endif
