/* Device secrets (trusted browsers, device cookies) on the admin socket: list and revoke. */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "daemon.h"
#include "device.h"
#include "fields.h"

static enum proto_reason view_devices(struct request *req, struct account *a,
                                      struct proto_writer *ok, void *ctx, const char **detail)
{
	unsigned n = 0;

	(void)ctx, (void)detail;
	for (unsigned i = 0; i < a->ndevices; i++) {
		const struct account_device *d = &a->devices[i];
		struct proto_writer row;

		if (!device_alive(a, d, req->now))
			continue;
		proto_begin(&row, "ROW", req->msg.id);
		proto_add(&row, "device_id", d->id);
		proto_add(&row, "label", d->label);
		proto_addf(&row, "created", "%lld", (long long)d->created);
		proto_addf(&row, "last_used", "%lld", (long long)d->last_used);
		proto_addf(&row, "expires", "%lld", (long long)d->expires);
		proto_addf(&row, "trusted", "%d", d->trusted);
		reply_line(req, &row);
		n++;
	}
	proto_addf(ok, "count", "%u", n);
	return REASON_NONE;
}

void admin_device_list(struct worker *w, struct request *req)
{
	admin_view(w, req, view_devices, NULL);
}

static enum proto_reason edit_device_revoke(struct request *req, struct account *a,
                                            struct proto_writer *ok, void *ctx, const char **detail)
{
	const char *id = ctx;
	unsigned revoked = 0;

	device_prune(a, req->now);
	if (id == NULL) {
		revoked = a->ndevices;
		while (a->ndevices > 0)
			device_remove(a, a->devices[0].id);
	} else {
		revoked = device_remove(a, id) ? 1 : 0;
	}
	if (id != NULL && revoked == 0)
		return *detail = "no such device", REASON_NOT_FOUND;
	proto_addf(ok, "revoked", "%u", revoked);
	*detail = id == NULL ? "all" : id;
	return REASON_NONE;
}

void admin_device_revoke(struct worker *w, struct request *req)
{
	const char *id, *all;
	bool bad = false;

	id = field_get(req, "device_id", DEVICE_ID_LEN, false, &bad);
	all = field_get(req, "all", 1, false, &bad);
	if (bad)
		return;
	if ((id == NULL) == (all == NULL || strcmp(all, "1") != 0)) {
		reply_fail(req, REASON_BAD_REQUEST, "give device_id or all=1");
		return;
	}
	admin_edit(w, req, "device.revoke", edit_device_revoke, (void *)id);
}
