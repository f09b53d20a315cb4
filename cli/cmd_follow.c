/*
 * verdonctl audit --follow: the latest records oldest first, then every new
 * one as the daemon commits it, by asking AUDIT after=SEQ once a second on
 * the same connection, until interrupted or the daemon goes away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "proto.h"

#define FOLLOW_INTERVAL_MS 1000
#define FOLLOW_BATCH "10000" /* records one poll takes at most: the daemon's AUDIT maximum */

/* Keys as verdond spells them, in the order a line shows them. */
static const char *const follow_keys[] = {"actor", "action", "id",     "service",
                                          "addr",  "result", "reason", "detail"};

static void print_text(json_t *rec)
{
	json_t *t = json_object_get(rec, "t");
	time_t when = json_is_integer(t) ? (time_t)json_integer_value(t) : 0;
	char stamp[32] = "-";
	struct tm tm;

	if (when != 0 && gmtime_r(&when, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs(stamp, stdout);
	for (size_t i = 0; i < sizeof(follow_keys) / sizeof(follow_keys[0]); i++) {
		const char *v = json_string_value(json_object_get(rec, follow_keys[i]));

		printf(" %s=%s", follow_keys[i], v != NULL && v[0] != '\0' ? v : "-");
	}
	putchar('\n');
}

/* One AUDIT exchange; prints its rows oldest first and moves *last past them. */
static int poll_once(struct cli_ctx *ctx, const char *login, const char *limit,
                     unsigned long long *last)
{
	struct proto_writer w;
	struct proto_msg msg;
	json_t *batch = json_array();
	int r;

	proto_begin(&w, "AUDIT", "1");
	if (login != NULL)
		proto_add(&w, "login", login);
	proto_add(&w, "limit", limit);
	if (*last > 0)
		proto_addf(&w, "after", "%llu", *last);
	r = batch != NULL ? cli_send(ctx, &w) : CLI_EXIT_REFUSED;
	while (r == CLI_EXIT_OK && (r = cli_recv(ctx, "1", &msg)) == CLI_EXIT_OK &&
	       strcmp(msg.verb, "ROW") == 0) {
		const char *seq = proto_get(&msg, "seq"), *text = proto_get(&msg, "json");
		json_t *rec = text != NULL ? json_loads(text, 0, NULL) : NULL;

		if (!json_is_object(rec)) {
			json_decref(rec);
			rec = json_object();
			json_object_set_new(rec, "raw", cli_json_string(text != NULL ? text : ""));
		}
		json_object_set_new(rec, "seq", json_integer(seq != NULL ? atoll(seq) : 0));
		if (seq != NULL && strtoull(seq, NULL, 10) > *last)
			*last = strtoull(seq, NULL, 10);
		json_array_append_new(batch, rec);
	}
	if (r == CLI_EXIT_OK)
		r = cli_answer_status(ctx, &msg, login);
	for (size_t i = json_array_size(batch); r == CLI_EXIT_OK && i-- > 0;) {
		json_t *rec = json_array_get(batch, i);

		if (ctx->json) {
			json_dumpf(rec, stdout, JSON_COMPACT);
			putchar('\n');
		} else {
			print_text(rec);
		}
	}
	fflush(stdout);
	json_decref(batch);
	proto_writer_wipe(&w);
	return r;
}

int cli_audit_follow(struct cli_ctx *ctx, const char *login, const char *limit)
{
	struct timespec nap = {FOLLOW_INTERVAL_MS / 1000, (FOLLOW_INTERVAL_MS % 1000) * 1000000L};
	unsigned long long last = 0;
	int r;

	r = poll_once(ctx, login, limit != NULL ? limit : "20", &last);
	while (r == CLI_EXIT_OK) {
		nanosleep(&nap, NULL);
		r = poll_once(ctx, login, FOLLOW_BATCH, &last);
	}
	return r;
}
