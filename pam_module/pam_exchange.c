#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "client.h"
#include "pam_answer.h"
#include "pam_exchange.h"
#include "pam_options.h"
#include "proto.h"

#define PV_ERR_MAX 512

struct proto_writer *pv_request_new(const char *verb)
{
	struct proto_writer *w = calloc(1, sizeof(*w));

	if (w != NULL)
		proto_begin(w, verb, PV_REQUEST_ID);
	return w;
}

void pv_request_free(struct proto_writer *w)
{
	if (w == NULL)
		return;
	proto_writer_wipe(w);
	free(w);
}

/* The client's messages start with the path; the log line names it already. */
static const char *pv_client_detail(const char *err, const char *path)
{
	size_t n = strlen(path);

	if (strncmp(err, "connect ", 8) == 0)
		err += 8;
	if (strncmp(err, path, n) == 0 && strncmp(err + n, ": ", 2) == 0)
		err += n + 2;
	return err;
}

/* what: "cannot reach" before a request went out, "no usable answer from" after. */
static void pv_log_client(pam_handle_t *pamh, const struct pv_options *opt, const char *what,
                          const char *err)
{
	pam_syslog(pamh, LOG_ERR, "%s the daemon at %s: %s", what, opt->socket,
	           pv_client_detail(err, opt->socket));
}

/* The daemon answered, but not with a decision about this person. */
static void pv_log_answer(pam_handle_t *pamh, const struct pv_options *opt, const char *verb,
                          const struct pv_answer *a)
{
	if (a->outcome == OUTCOME_TEMPFAIL)
		pam_syslog(pamh, LOG_WARNING, "the daemon at %s cannot decide now (tempfail)",
		           opt->socket);
	else if (a->outcome == OUTCOME_FAIL && a->reason == REASON_UNKNOWN_VERB)
		pam_syslog(pamh, LOG_ERR, "the daemon at %s does not know %s: upgrade verdond",
		           opt->socket, verb);
	else if (a->outcome == OUTCOME_FAIL && a->reason == REASON_FORBIDDEN)
		pam_syslog(pamh, LOG_ERR,
		           "the daemon at %s refused this caller: is it the auth socket?",
		           opt->socket);
	else if (a->outcome == OUTCOME_FAIL && a->reason == REASON_BAD_REQUEST)
		pam_syslog(pamh, LOG_NOTICE, "the daemon refused the %s request: %s", verb,
		           a->detail[0] != '\0' ? a->detail : "bad_request");
}

void pv_exchange(pam_handle_t *pamh, const struct pv_options *opt, struct proto_writer *w,
                 bool need_identifiant, struct pv_answer *a_r)
{
	struct proto_client *client = NULL;
	struct proto_msg msg;
	char verb[PROTO_VERB_MAX + 1], err[PV_ERR_MAX];
	size_t vlen = strcspn(w->buf, "\t");

	snprintf(verb, sizeof(verb), "%.*s", (int)(vlen < sizeof(verb) ? vlen : 0), w->buf);
	pv_answer_tempfail(a_r);
	if (proto_end(w) < 0) {
		pam_syslog(pamh, LOG_NOTICE, "%s request refused: a field is too long", verb);
		a_r->outcome = OUTCOME_FAIL;
		a_r->reason = REASON_BAD_REQUEST;
		goto out;
	}
	/* The request goes with our VERSION line: one wait for the daemon, not two. */
	if (proto_client_open(opt->socket, opt->timeout_ms, w, &client, err, sizeof(err)) < 0) {
		pv_log_client(pamh, opt, "cannot reach", err);
		goto out;
	}
	proto_client_half_close(client);
	if (proto_client_recv(client, &msg) < 0) {
		pv_log_client(pamh, opt, "no usable answer from", proto_client_error(client));
		goto out;
	}
	if (pv_answer_read(&msg, PV_REQUEST_ID, need_identifiant, a_r, err, sizeof(err)) < 0) {
		pam_syslog(pamh, LOG_ERR, "malformed answer from the daemon at %s: %s", opt->socket,
		           err);
		goto out;
	}
	pv_log_answer(pamh, opt, verb, a_r);
out:
	/* The answer's fields we keep are copies: the client's buffer goes now. */
	proto_writer_wipe(w);
	proto_client_free(client);
}

bool pv_reachable(pam_handle_t *pamh, const struct pv_options *opt)
{
	struct proto_client *client = NULL;
	char err[PV_ERR_MAX];

	if (proto_client_connect(opt->socket, opt->timeout_ms, &client, err, sizeof(err)) < 0) {
		pv_log_client(pamh, opt, "cannot reach", err);
		return false;
	}
	proto_client_free(client);
	return true;
}
