/* STORE_VERIFY: a ROW per problem the verifier finds (at most ROWS_MAX), then the counts. */
#include <stdio.h>

#include "admin.h"
#include "daemon.h"
#include "log.h"
#include "proto.h"
#include "store.h"
#include "verify.h"

#define ROWS_MAX 1000

struct rows {
	struct request *req;
	unsigned n;
};

static void problem_row(void *ctx, const char *table, const char *key, const char *what)
{
	struct rows *rows = ctx;
	struct proto_writer row;

	log_err("store verify: %s %s: %s", table, key, what);
	if (rows->n++ >= ROWS_MAX)
		return;
	proto_begin(&row, "ROW", rows->req->msg.id);
	proto_add(&row, "table", table);
	proto_add(&row, "key", key);
	proto_add(&row, "problem", what);
	reply_line(rows->req, &row);
}

void admin_store_verify(struct worker *w, struct request *req)
{
	struct rows rows = {.req = req};
	struct verify_report rep = {.cb = problem_row, .ctx = &rows};
	struct proto_writer ok;

	if (store_verify(w->daemon->store, &rep) != STORE_OK) {
		reply_wipe(&req->reply);
		reply_tempfail(req);
		return;
	}
	proto_begin(&ok, "OK", req->msg.id);
	proto_addf(&ok, "accounts", "%llu", (unsigned long long)rep.accounts);
	proto_addf(&ok, "index_entries", "%llu", (unsigned long long)rep.index_entries);
	proto_addf(&ok, "sessions", "%llu", (unsigned long long)rep.sessions);
	proto_addf(&ok, "audit", "%llu", (unsigned long long)rep.audit);
	proto_addf(&ok, "problems", "%llu", (unsigned long long)rep.problems);
	reply_line(req, &ok);
}
