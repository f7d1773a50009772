/*
 * Known host keys: check a server's key fingerprint against the file and
 * remember new ones, as the configured policy says.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "knownhosts.h"
#include "log.h"

/*
 * Look host:port up.  Returns 1 and fills type/fp when found, 0 when not
 * there (or no file), -1 when the file cannot be read.
 */
static int
kh_lookup(const char *file, const char *host, uint16_t port, char *type,
    size_t tlen, char *fp, size_t flen)
{
	FILE		*f;
	char		 line[1024], h[256], t[64], p[128];
	unsigned int	 lport;
	int		 found = 0;

	if ((f = fopen(file, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %u %63s %127s", h, &lport, t, p) != 4)
			continue;
		if (lport != port || strcasecmp(h, host) != 0)
			continue;
		strlcpy(type, t, tlen);
		strlcpy(fp, strncmp(p, "SHA256:", 7) == 0 ? p + 7 : p, flen);
		found = 1;
	}
	fclose(f);
	return found;
}

static int
kh_add(const char *file, const char *host, uint16_t port, const char *type,
    const char *fp)
{
	FILE	*f;
	int	 fd;

	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return -1;
	}
	fprintf(f, "%s %u %s SHA256:%s\n", host, port, type, fp);
	return fclose(f) == EOF ? -1 : 0;
}

/*
 * A key type ("ssh-ed25519") and an unpadded base64 SHA-256 fingerprint
 * as a worker reports them; anything else could forge lines in the file.
 */
int
kh_valid(const char *type, const char *fp)
{
	size_t	 i;

	if (type[0] == '\0' || strlen(fp) != 43)
		return 0;
	for (i = 0; type[i] != '\0'; i++)
		if (!islower((unsigned char)type[i]) &&
		    !isdigit((unsigned char)type[i]) &&
		    strchr("-.@", type[i]) == NULL)
			return 0;
	for (i = 0; fp[i] != '\0'; i++)
		if (!isalnum((unsigned char)fp[i]) && fp[i] != '+' &&
		    fp[i] != '/')
			return 0;
	return 1;
}

/* Host names are compared and stored in lower case. */
static void
kh_lower(const char *in, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = tolower((unsigned char)in[i]);
	out[i] = '\0';
}

/*
 * Check a host key.  Returns 0 when it may be used, -1 when refused with
 * a sentence for the client in why.
 */
int
kh_check(const char *file, enum conf_hostkey_policy policy,
    const char *rhost, uint16_t port, const char *type, const char *fp,
    char *why, size_t len)
{
	char	 host[256], ktype[64], kfp[128];
	int	 rv;

	kh_lower(rhost, host, sizeof(host));
	rv = kh_lookup(file, host, port, ktype, sizeof(ktype), kfp,
	    sizeof(kfp));
	if (rv == -1) {
		log_warn("%s", file);
		if (policy == HOSTKEY_OFF)
			return 0;
		snprintf(why, len, "Connection failed: known hosts file "
		    "unreadable");
		return -1;
	}
	if (rv == 1 && strcmp(ktype, type) == 0 && strcmp(kfp, fp) == 0)
		return 0;
	if (rv == 1) {
		log_warnx("host key for %s port %u changed: was %s %s, now "
		    "%s %s", host, port, ktype, kfp, type, fp);
		if (policy == HOSTKEY_OFF)
			return 0;
		snprintf(why, len, "Connection failed: host key mismatch "
		    "for %s: server offered %s SHA256:%s", host, type, fp);
		return -1;
	}
	switch (policy) {
	case HOSTKEY_STRICT:
		snprintf(why, len, "Connection failed: unknown host key for "
		    "%s: %s SHA256:%s", host, type, fp);
		return -1;
	case HOSTKEY_ACCEPT_NEW:
		if (kh_add(file, host, port, type, fp) == -1)
			log_warn("cannot remember host key in %s", file);
		else
			log_info("new host key for %s port %u: %s SHA256:%s",
			    host, port, type, fp);
		return 0;
	case HOSTKEY_OFF:
		return 0;
	}
	return 0;
}
