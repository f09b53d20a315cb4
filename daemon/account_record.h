/*
 * The account record's field tables, shared by the binary codec (account.c)
 * and the reader of the JSON records older stores hold (account_json.c).
 * A field's binary tag is its position plus one: add fields at the end only.
 */
#ifndef VERDON_ACCOUNT_RECORD_H
#define VERDON_ACCOUNT_RECORD_H

#include "account.h"
#include "record.h"

struct rec_table {
	const struct rec_field *fields;
	size_t n;
};

/* An array of records described by a field table: apps, devices. */
struct rec_list {
	const char *key; /* in the JSON form */
	struct rec_table t;
	size_t size, max;
};

extern const struct rec_table account_table, otp_table;
extern const struct rec_list apps_list, devices_list;

/* What a record leaves unsaid. */
void account_defaults(struct account *a);

/* The JSON form of schema 1 (ACCOUNT_SCHEMA), read only: 0 or -1. */
int account_decode_json(const void *json, size_t len, struct account *a);

#endif
