/*
 * One request to verdond and its answer, through the blocking client. Every
 * way of not getting a usable answer is logged once and becomes tempfail.
 */
#ifndef VERDON_PAM_EXCHANGE_H
#define VERDON_PAM_EXCHANGE_H

#include <stdbool.h>

#include <security/pam_modules.h>

/* Nothing here is the host application's business: keep it out of the .so's symbols. */
#pragma GCC visibility push(hidden)

struct proto_writer;
struct pv_answer;
struct pv_options;

/* A request begun with verb and PV_REQUEST_ID, on the heap (a line is 16 KiB); NULL when out of
 * memory. */
struct proto_writer *pv_request_new(const char *verb);
/* Wipes (the line may hold passwords) and frees; NULL is a no-op. */
void pv_request_free(struct proto_writer *w);

/*
 * Ends the request w, sends it on a fresh connection and reads the answer
 * into a_r. A request over the line limit is refused (bad_request) without
 * being sent.
 */
void pv_exchange(pam_handle_t *pamh, const struct pv_options *opt, struct proto_writer *w,
                 bool need_identifiant, struct pv_answer *a_r);

/* true when the daemon accepts a connection and the version exchange. */
bool pv_reachable(pam_handle_t *pamh, const struct pv_options *opt);

#pragma GCC visibility pop

#endif
