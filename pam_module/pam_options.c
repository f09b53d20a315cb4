#include <stdio.h>
#include <string.h>

#include "pam_options.h"

/* An option given twice is an error: which one wins would be a guess. */
enum pv_seen {
	SEEN_SOCKET = 1 << 0,
	SEEN_SERVICE = 1 << 1,
	SEEN_OTP = 1 << 2,
	SEEN_TIMEOUT = 1 << 3,
	SEEN_DEBUG = 1 << 4,
	SEEN_REUSE = 1 << 5,
};

struct pv_option {
	const char *name;
	bool takes_value; /* name=value, or a bare flag */
	enum pv_seen seen;
	int (*set)(struct pv_options *opt, const char *value, char *err, size_t errlen);
};

bool pv_service_valid(const char *name)
{
	size_t len = strlen(name);

	return len >= 1 && len <= PV_SERVICE_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

const char *pv_otp_mode_name(enum pv_otp_mode mode)
{
	switch (mode) {
	case PV_OTP_APPEND:
		return "append";
	case PV_OTP_PROMPT:
		return "prompt";
	case PV_OTP_NONE:
		return "none";
	}
	return "?";
}

static int set_socket(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);

	if (value[0] != '/' || len > PV_SOCKET_MAX) {
		snprintf(err, errlen, "socket=%.64s: expected an absolute path of at most %d bytes",
		         value, PV_SOCKET_MAX);
		return -1;
	}
	memcpy(opt->socket, value, len + 1);
	return 0;
}

static int set_service(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	if (!pv_service_valid(value)) {
		snprintf(err, errlen, "service=%.64s: expected [a-z0-9._-], 1 to %d characters",
		         value, PV_SERVICE_MAX);
		return -1;
	}
	memcpy(opt->service, value, strlen(value) + 1);
	return 0;
}

static int set_otp(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	static const enum pv_otp_mode modes[] = {PV_OTP_APPEND, PV_OTP_PROMPT, PV_OTP_NONE};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(value, pv_otp_mode_name(modes[i])) == 0) {
			opt->otp = modes[i];
			return 0;
		}
	}
	snprintf(err, errlen, "otp=%.64s: expected append, prompt or none", value);
	return -1;
}

/* Digits only, at most five: strtol would take signs, spaces and hex. -1 when not in min..max. */
static long parse_number(const char *value, long min, long max)
{
	size_t len = strlen(value);
	long n = 0;

	if (len == 0 || len > 5 || strspn(value, "0123456789") != len)
		return -1;
	for (size_t i = 0; i < len; i++)
		n = n * 10 + (value[i] - '0');
	return n >= min && n <= max ? n : -1;
}

static int set_timeout(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	long ms = parse_number(value, PV_TIMEOUT_MIN, PV_TIMEOUT_MAX);

	if (ms < 0) {
		snprintf(err, errlen, "timeout=%.64s: expected milliseconds from %d to %d", value,
		         PV_TIMEOUT_MIN, PV_TIMEOUT_MAX);
		return -1;
	}
	opt->timeout_ms = (int)ms;
	return 0;
}

static int set_reuse(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	long s = parse_number(value, 0, PV_REUSE_MAX);

	if (s < 0) {
		snprintf(err, errlen, "reuse_auth=%.64s: expected seconds from 0 to %d", value,
		         PV_REUSE_MAX);
		return -1;
	}
	opt->reuse_auth_s = (unsigned)s;
	return 0;
}

static int set_debug(struct pv_options *opt, const char *value, char *err, size_t errlen)
{
	(void)value;
	(void)err;
	(void)errlen;
	opt->debug = true;
	return 0;
}

static const struct pv_option pv_option_table[] = {
    {"socket", true, SEEN_SOCKET, set_socket}, {"service", true, SEEN_SERVICE, set_service},
    {"otp", true, SEEN_OTP, set_otp},          {"timeout", true, SEEN_TIMEOUT, set_timeout},
    {"debug", false, SEEN_DEBUG, set_debug},   {"reuse_auth", true, SEEN_REUSE, set_reuse},
};

/* The table entry for arg ("name=value" or "flag"); *value_r is what follows '='. */
static const struct pv_option *pv_option_find(const char *arg, const char **value_r)
{
	for (size_t i = 0; i < sizeof(pv_option_table) / sizeof(pv_option_table[0]); i++) {
		const struct pv_option *o = &pv_option_table[i];
		size_t n = strlen(o->name);

		if (strncmp(arg, o->name, n) != 0)
			continue;
		if (o->takes_value ? arg[n] == '=' : arg[n] == '\0') {
			*value_r = o->takes_value ? arg + n + 1 : NULL;
			return o;
		}
	}
	return NULL;
}

static void pv_options_default(struct pv_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	memcpy(opt->socket, PV_SOCKET_DEFAULT, sizeof(PV_SOCKET_DEFAULT));
	opt->otp = PV_OTP_APPEND;
	opt->timeout_ms = PV_TIMEOUT_DEFAULT;
	opt->reuse_auth_s = PV_REUSE_DEFAULT;
}

int pv_options_parse(int argc, const char *const *argv, struct pv_options *opt_r, char *err,
                     size_t errlen)
{
	const struct pv_option *o;
	const char *value = NULL;
	unsigned seen = 0;

	pv_options_default(opt_r);
	for (int i = 0; i < argc; i++) {
		if (argv[i] == NULL || (o = pv_option_find(argv[i], &value)) == NULL) {
			snprintf(err, errlen, "unknown option '%.64s'",
			         argv[i] != NULL ? argv[i] : "(null)");
			return -1;
		}
		if (seen & o->seen) {
			snprintf(err, errlen, "option '%.64s' given twice", o->name);
			return -1;
		}
		seen |= o->seen;
		if (o->set(opt_r, value, err, errlen) < 0)
			return -1;
	}
	return 0;
}
