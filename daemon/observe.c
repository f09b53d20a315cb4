/* The fail2ban line and the decision counters: see observe.h for the format. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "credential.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "observe.h"

#define OBSERVE_FIELD_MAX 64

static const struct crypto_keys *observe_keys;

void observe_init(const struct crypto_keys *keys)
{
	observe_keys = keys;
}

const char *observe_credential(const char *password, const char *code)
{
	if (password == NULL)
		return "none";
	if (cred_is_token(password))
		return "session_token";
	if (cred_is_app_password(password))
		return "app_password";
	return code != NULL && code[0] != '\0' ? "password_otp" : "password";
}

void observe_token(const char *in, char *out, size_t cap)
{
	metrics_label(in, "-", out, cap);
}

void observe_address(const char *in, char *out, size_t cap)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (in != NULL && strlen(in) < cap && strlen(in) <= INET6_ADDRSTRLEN &&
	    (inet_pton(AF_INET, in, bin) == 1 || inet_pton(AF_INET6, in, bin) == 1))
		memcpy(out, in, strlen(in) + 1);
	else
		memcpy(out, "-", 2);
}

bool observe_station(const char *in, char *nas, size_t nas_cap, char *station, size_t st_cap)
{
	const char *at = in != NULL ? strrchr(in, '@') : NULL;
	size_t n;

	if (at == NULL || at == in)
		return false;
	n = (size_t)(at - in);
	if (n >= st_cap || strspn(in, STATION_CHARS) != n)
		return false;
	observe_address(at + 1, nas, nas_cap);
	if (strcmp(nas, "-") == 0)
		return false;
	memcpy(station, in, n);
	station[n] = '\0';
	return true;
}

/* " nas=NAS station=STATION" for a RADIUS station's address, else "". */
static void station_fields(const char *address, char *out, size_t cap)
{
	char nas[OBSERVE_FIELD_MAX], station[OBSERVE_FIELD_MAX];

	out[0] = '\0';
	if (observe_station(address, nas, sizeof(nas), station, sizeof(station)))
		snprintf(out, cap, " nas=%s station=%s", nas, station);
}

static bool is_decision(const char *action)
{
	return action != NULL && strcmp(action, "rehash") != 0;
}

void observe_decision(const struct audit_event *ev, const char *policy, const char *credential,
                      const char *login)
{
	char service[OBSERVE_FIELD_MAX], address[OBSERVE_FIELD_MAX], action[OBSERVE_FIELD_MAX];
	char tag[CRED_TAG_LEN + 1] = "-", via[2 * OBSERVE_FIELD_MAX + 16];

	if (!is_decision(ev->action))
		return;
	metrics_decision(policy, ev->action, credential, ev->result, ev->reason);
	if (ev->result == NULL || strcmp(ev->result, "refused") != 0)
		return;
	if (observe_keys != NULL && login != NULL && login[0] != '\0')
		cred_tag(observe_keys, "log", login, tag);
	tag[OBSERVE_HASH_LEN] = '\0';
	observe_token(ev->service, service, sizeof(service));
	observe_address(ev->address, address, sizeof(address));
	observe_token(ev->action, action, sizeof(action));
	station_fields(ev->address, via, sizeof(via));
	log_info("refused service=%s address=%s reason=%s action=%s login=%s%s", service, address,
	         ev->reason != NULL ? ev->reason : "none", action, tag, via);
}

void observe_penalty(const char *address, unsigned failures)
{
	char addr[OBSERVE_FIELD_MAX], via[2 * OBSERVE_FIELD_MAX + 16];

	observe_address(address, addr, sizeof(addr));
	station_fields(address, via, sizeof(via));
	log_info("penalised address=%s failures=%u%s", addr, failures, via);
}
