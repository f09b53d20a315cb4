/*
 * Audit records of decisions that change no state (a token or app password
 * login within its coarse last-use window, an account check): queued in
 * memory and written together once a second, so that such a login costs no
 * synced write. A crash can lose at most that second of these records;
 * every decision that changes state is audited in its own transaction. An
 * AUDIT read flushes the queue first: what was answered is in the trail.
 */
#ifndef VERDON_AUDITQ_H
#define VERDON_AUDITQ_H

#include <stddef.h>

struct audit_event;
struct auditq;
struct store;

struct auditq *auditq_new(void);
void auditq_free(struct auditq *q); /* NULL is a no-op; unflushed records are lost */
void auditq_push(struct auditq *q, const struct audit_event *ev);
size_t auditq_pending(struct auditq *q);
/* Writes every queued record in one transaction; returns once every record
 * queued before the call is written (or failed), even by another thread's flush. */
void auditq_flush(struct auditq *q, struct store *store);

#endif
