/*
 * [radius.client NAME] sections and the RADIUS checks made once the file is
 * read: CIDR addresses, secret files (0600, refused otherwise, as OpenSSH
 * refuses a readable key), the RadSec files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "secret.h"

#define RADIUS_SECRET_MIN 8

static struct radius_client *find_client(struct config *c, const char *cname)
{
	for (unsigned i = 0; i < c->nradius_clients; i++)
		if (strcmp(c->radius_clients[i].name, cname) == 0)
			return &c->radius_clients[i];
	return NULL;
}

static struct radius_client *new_client(struct config *c, const char *cname, char *msg,
                                        size_t msglen)
{
	struct radius_client *rc;

	if (c->nradius_clients == RADIUS_CLIENTS_MAX || strlen(cname) == 0 ||
	    strlen(cname) > RADIUS_NAME_MAX ||
	    strspn(cname, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(cname)) {
		snprintf(msg, msglen,
		         "[radius.client %.40s]: a client name is [a-z0-9._-]{1,%d}, "
		         "at most %d sections",
		         cname, RADIUS_NAME_MAX, RADIUS_CLIENTS_MAX);
		return NULL;
	}
	rc = &c->radius_clients[c->nradius_clients++];
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->name, sizeof(rc->name), "%s", cname);
	snprintf(rc->service, sizeof(rc->service), "radius");
	rc->require_ma = true;
	return rc;
}

/* "10.0.0.0/8", "::1", "2001:db8::/32" */
static int parse_cidr(struct radius_client *rc, const char *text)
{
	char buf[64], *slash;
	unsigned long prefix;
	char *end;

	if (strlen(text) >= sizeof(buf))
		return -1;
	memcpy(buf, text, strlen(text) + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, rc->net) == 1)
		rc->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, rc->net) == 1)
		rc->family = AF_INET6;
	else
		return -1;
	rc->prefix = rc->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || prefix > rc->prefix)
			return -1;
		rc->prefix = (unsigned)prefix;
	}
	return 0;
}

static int set_string(char **field, const char *value, size_t max)
{
	if (*value == '\0' || strlen(value) > max)
		return -1;
	free(*field);
	return (*field = strdup(value)) == NULL ? -1 : 0;
}

static int set_fixed(char *field, size_t size, const char *value)
{
	if (*value == '\0' || strlen(value) >= size)
		return -1;
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* A Reply-Message or Class: 1 to 253 bytes, no control character (they reach a NAS's screen). */
static int reply_text(char *field, size_t size, bool *set_r, const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	if (set_fixed(field, size, value) < 0)
		return -1;
	*set_r = true;
	return 0;
}

int config_radius_reply_key(struct radius_reply *r, const char *name, const char *value, char *msg,
                            size_t msglen)
{
	unsigned long n;
	char *end;

	if (strcmp(name, "reply_message") == 0 || strcmp(name, "class") == 0) {
		bool message = name[0] == 'r';

		if ((message ? reply_text(r->message, sizeof(r->message), &r->message_set, value)
		             : reply_text(r->class_value, sizeof(r->class_value), &r->class_set,
		                          value)) == 0)
			return 0;
		snprintf(msg, msglen, "1 to %zu bytes without control characters",
		         sizeof(r->message) - 1);
		return -1;
	}
	if (strcmp(name, "session_timeout") != 0)
		return 1;
	errno = 0;
	n = strtoul(value, &end, 10);
	if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 ||
	    n > RADIUS_SESSION_TIMEOUT_MAX) {
		snprintf(msg, msglen, "expected a number of seconds from 0 (none) to %d",
		         RADIUS_SESSION_TIMEOUT_MAX);
		return -1;
	}
	r->session_timeout = (unsigned)n;
	r->timeout_set = true;
	return 0;
}

void config_radius_reply(const struct config *c, const struct radius_client *rc,
                         struct radius_reply *out_r)
{
	const struct radius_reply *own = &rc->reply;

	*out_r = config_service(c, rc->service)->radius;
	if (own->message_set)
		memcpy(out_r->message, own->message, sizeof(own->message));
	if (own->class_set)
		memcpy(out_r->class_value, own->class_value, sizeof(own->class_value));
	if (own->timeout_set)
		out_r->session_timeout = own->session_timeout;
}

int config_radius_key(struct config *c, const char *cname, const char *name, const char *value,
                      char *msg, size_t msglen)
{
	struct radius_client *rc = find_client(c, cname);
	char why[200];
	int r;

	if (rc == NULL && (rc = new_client(c, cname, msg, msglen)) == NULL)
		return -1;
	if (strcmp(name, "address") == 0) {
		if (set_string(&rc->address, value, 64) < 0 || parse_cidr(rc, value) < 0)
			goto bad;
	} else if (strcmp(name, "secret_file") == 0) {
		if (set_string(&rc->secret_file, value, 4096) < 0 || value[0] != '/')
			goto bad;
	} else if (strcmp(name, "tls_name") == 0) {
		if (set_string(&rc->tls_name, value, 253) < 0)
			goto bad;
	} else if (strcmp(name, "service") == 0) {
		if (*value == '\0' || strlen(value) > SERVICE_NAME_MAX ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(value))
			goto bad;
		snprintf(rc->service, sizeof(rc->service), "%s", value);
	} else if (strcmp(name, "otp") == 0) {
		if (strcmp(value, "challenge") == 0)
			rc->otp = RADIUS_OTP_CHALLENGE;
		else if (strcmp(value, "append") == 0)
			rc->otp = RADIUS_OTP_APPEND;
		else
			goto bad;
	} else if (strcmp(name, "require_message_authenticator") == 0) {
		if (config_parse_bool(value, &rc->require_ma) < 0)
			goto bad;
	} else if (strcmp(name, "challenge_message") == 0) {
		if (set_fixed(rc->challenge_message, sizeof(rc->challenge_message), value) < 0)
			goto bad;
	} else if ((r = config_radius_reply_key(&rc->reply, name, value, why, sizeof(why))) <= 0) {
		if (r == 0)
			return 0;
		snprintf(msg, msglen, "[radius.client %.40s] %s: %s", cname, name, why);
		return -1;
	} else {
		snprintf(msg, msglen, "unknown key '%.64s' in section [radius.client %.40s]", name,
		         cname);
		return -1;
	}
	return 0;
bad:
	snprintf(msg, msglen, "[radius.client %.40s] %.40s: invalid value (see docs/radius.md)",
	         cname, name);
	return -1;
}

/* Regular, owned by us, and no access for group or others. */
static const char *private_file(const char *path, int fd)
{
	static char msg[1024];
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(msg, sizeof(msg), "%.400s: %s", path, strerror(errno));
		return msg;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, sizeof(msg), "%.400s: not a regular file", path);
		return msg;
	}
	if (st.st_mode & 077) {
		snprintf(msg, sizeof(msg),
		         "%.400s: readable by group or others; run chmod 600 %.400s", path, path);
		return msg;
	}
	return NULL;
}

static const char *read_secret(struct radius_client *rc)
{
	static char msg[512];
	char buf[RADIUS_SECRET_MAX + 2];
	int fd = open(rc->secret_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	const char *why = private_file(rc->secret_file, fd);
	ssize_t n = 0;

	if (why == NULL && (n = read(fd, buf, sizeof(buf))) < 0)
		why = "cannot read a secret_file";
	if (fd >= 0)
		close(fd);
	if (why != NULL)
		return why;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < RADIUS_SECRET_MIN || n > RADIUS_SECRET_MAX || memchr(buf, '\0', (size_t)n)) {
		snprintf(msg, sizeof(msg), "%.400s: a secret is %d to %d bytes on one line",
		         rc->secret_file, RADIUS_SECRET_MIN, RADIUS_SECRET_MAX);
		secret_wipe(buf, sizeof(buf));
		return msg;
	}
	memcpy(rc->secret, buf, (size_t)n);
	rc->secret_len = (size_t)n;
	secret_wipe(buf, sizeof(buf));
	return NULL;
}

static const char *radsec_check(struct config *c)
{
	const char *why;
	int fd;

	if (c->radsec_listen == NULL)
		return NULL;
	if (c->radsec_certificate == NULL || c->radsec_key == NULL || c->radsec_ca_file == NULL)
		return "[radsec] listen needs certificate, key and ca_file";
	fd = open(c->radsec_key, O_RDONLY | O_CLOEXEC);
	why = private_file(c->radsec_key, fd);
	if (fd >= 0)
		close(fd);
	return why;
}

const char *config_radius_check(struct config *c)
{
	static char msg[512];
	const char *why;

	for (unsigned i = 0; i < c->nradius_clients; i++) {
		struct radius_client *rc = &c->radius_clients[i];

		if (rc->address == NULL && rc->tls_name == NULL) {
			snprintf(msg, sizeof(msg), "[radius.client %s] needs address or tls_name",
			         rc->name);
			return msg;
		}
		if (rc->address != NULL && rc->secret_file == NULL) {
			snprintf(msg, sizeof(msg), "[radius.client %s] address needs secret_file",
			         rc->name);
			return msg;
		}
		if (rc->secret_file != NULL && (why = read_secret(rc)) != NULL)
			return why;
		if (rc->challenge_message[0] == '\0')
			snprintf(rc->challenge_message, sizeof(rc->challenge_message), "%s",
			         "Code de vérification :");
	}
	if ((c->radius_listen != NULL || c->radsec_listen != NULL) && c->nradius_clients == 0)
		return "[radius] listen needs at least one [radius.client NAME] section";
	return radsec_check(c);
}

void config_radius_free(struct config *c)
{
	for (unsigned i = 0; i < c->nradius_clients; i++) {
		struct radius_client *rc = &c->radius_clients[i];

		free(rc->address);
		free(rc->secret_file);
		free(rc->tls_name);
		secret_wipe(rc->secret, sizeof(rc->secret));
	}
}
