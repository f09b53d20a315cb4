/* The admin socket's shared machinery: one account, one edit, one commit, one audit line. */
#ifndef VERDON_ADMIN_H
#define VERDON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "reason.h"

struct account;
struct config;
struct proto_writer;
struct request;
struct store_txn;
struct verb_group;
struct worker;

/*
 * Changes a (already read in the write transaction). Returns REASON_NONE to
 * commit, or a reason to refuse with; may add fields to ok (begun as
 * "OK id identifiant=…") and set *detail for the audit line.
 */
typedef enum proto_reason admin_edit_fn(struct request *req, struct account *a,
                                        struct proto_writer *ok, void *ctx, const char **detail);

/* Reads login=, runs edit in one write transaction, audits as action, answers. */
void admin_edit(struct worker *w, struct request *req, const char *action, admin_edit_fn *edit,
                void *ctx);
/* The same lookup for a read-only answer: a read transaction, nothing written or audited. */
void admin_view(struct worker *w, struct request *req, admin_edit_fn *view, void *ctx);
/* Audits an admin action inside txn. */
int admin_audit(struct store_txn *txn, struct request *req, const char *action,
                const char *identifiant, const char *result, int reason, const char *detail);
/* In a transaction of its own (refusals before any transaction). */
void admin_audit_now(struct worker *w, struct request *req, const char *action,
                     const char *identifiant, int reason, const char *detail);

/* The first free identifiant / email for these names (jdupont, jdupont2 …): 0, or -1. */
int admin_pick_identifiant(struct store_txn *txn, const char *first, const char *last, char *out,
                           size_t cap);
int admin_pick_email(struct store_txn *txn, const struct config *cfg, const char *first,
                     const char *last, char *out, size_t cap);

void admin_user_add(struct worker *w, struct request *req);
/* USER_ADD import rows queued one behind the other: one write transaction for them all. */
extern const struct verb_group admin_user_add_group;
void admin_user_show(struct worker *w, struct request *req);
void admin_user_list(struct worker *w, struct request *req);
void admin_stats(struct worker *w, struct request *req);
void admin_user_set(struct worker *w, struct request *req);
void admin_user_rename(struct worker *w, struct request *req);
void admin_user_unalias(struct worker *w, struct request *req);
void admin_user_reset(struct worker *w, struct request *req);
void admin_user_unlock(struct worker *w, struct request *req);
void admin_user_suspend(struct worker *w, struct request *req);
void admin_user_resume(struct worker *w, struct request *req);
void admin_user_delete(struct worker *w, struct request *req);
void admin_user_restore(struct worker *w, struct request *req);
void admin_otp_enroll(struct worker *w, struct request *req);
void admin_otp_confirm(struct worker *w, struct request *req);
void admin_otp_reset(struct worker *w, struct request *req);
void admin_otp_status(struct worker *w, struct request *req);
void admin_app_add(struct worker *w, struct request *req);
void admin_app_list(struct worker *w, struct request *req);
void admin_app_revoke(struct worker *w, struct request *req);
void admin_device_list(struct worker *w, struct request *req);
void admin_device_revoke(struct worker *w, struct request *req);
void admin_session_list(struct worker *w, struct request *req);
void admin_session_revoke(struct worker *w, struct request *req);
void admin_store_verify(struct worker *w, struct request *req);
#ifdef VERDON_FAILPOINTS
void admin_failpoint(struct worker *w, struct request *req);
#endif

#endif
