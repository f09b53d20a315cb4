/*
 * FAILPOINT (test builds only, make failpoint): arms the store's failpoint
 * so that the nth store operation from now fails, or disarms it and says
 * whether it fired. The fault tests drive a scenario once for every n.
 */
#ifdef VERDON_FAILPOINTS
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "daemon.h"
#include "fields.h"
#include "proto.h"
#include "reason.h"
#include "store.h"

void admin_failpoint(struct worker *w, struct request *req)
{
	const char *n = proto_get(&req->msg, "n"), *kind = proto_get(&req->msg, "kind");
	struct proto_writer ok;
	char *end;
	long count;

	(void)w;
	if (n == NULL) {
		proto_begin(&ok, "OK", req->msg.id);
		proto_addf(&ok, "fired", "%d", store_failpoint_disarm());
		reply_line(req, &ok);
		return;
	}
	count = strtol(n, &end, 10);
	if (*end != '\0' || count < 1 || count > 1000000 ||
	    (kind != NULL && strcmp(kind, "io") != 0 && strcmp(kind, "full") != 0)) {
		reply_fail(req, REASON_BAD_REQUEST, "n=1..1000000 kind=io|full");
		return;
	}
	store_failpoint_arm(count, kind != NULL && strcmp(kind, "full") == 0 ? STORE_FULL : STORE_ERROR);
	reply_ok_ident(req, "-");
}
#else
/* ISO C wants something in a translation unit. */
typedef int admin_failpoint_unused;
#endif
