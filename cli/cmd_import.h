/* user import's state, shared by cmd_import.c (the passes) and cmd_import_report.c (what is
 * printed). */
#ifndef VERDON_CMD_IMPORT_H
#define VERDON_CMD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "csv_charset.h"

struct cli_command;
struct cli_ctx;
struct csv_reader;
struct csv_row;
struct json_t;
struct proto_msg;

/* What the check found for one row of the file. */
struct import_row {
	unsigned line;
	bool bad;
	bool exists;
	bool retry;   /* answered TEMPFAIL once: checked again alone */
	bool ordered; /* shares its identifiant or email base with another row: file order */
	bool again;   /* its creation answered TEMPFAIL once: sent again alone at the end */
	char ident[65];
	char email[256];
};

struct import_numen; /* a NUMEN of the file and its line, for the duplicates */
struct out_line;     /* a row of the --out file */

/* A row sent for creation, its answer not yet in: what the --out row needs of it. */
struct import_pending {
	unsigned line;
	char last[129], first[129], etab[16];
};
/*
 * Rows in flight while creating: the daemon's admin_max_pending (128 by
 * default). It writes the rows queued one behind the other in one
 * transaction (up to 64), so many in flight means few synced commits. A
 * TEMPFAIL (a smaller admin_max_pending, a full queue) narrows the window to
 * what the daemon took, for the rest of the import: probing beyond would
 * cost a refused row, sent again alone, each time.
 */
#define IMPORT_WINDOW 128

struct import {
	struct cli_ctx *ctx;
	const struct cli_command *cmd;
	bool skip_bad, dry_run;
	const char *out_path;
	FILE *out;
	/* the file, and its UTF-8 text (text is utf8 when decoded, else data) */
	char *data, *utf8;
	const char *text;
	size_t datalen, textlen;
	char charset[CSV_CHARSET_NAME_MAX];
	struct csv_reader *csv;
	struct import_row *rows; /* in file order */
	size_t nrows, caprows;
	struct import_numen *numens;
	size_t nnumens, capnumens;
	struct json_t *report; /* the lines to print: bad ones, then outcomes */
	unsigned inflight, bad, created, existing, errors, retries;
	unsigned window; /* rows in flight at most, now */
	struct import_pending pending[IMPORT_WINDOW];
	struct out_line **outs; /* the --out rows, written in the file's order at the end */
	size_t nout, capout;
	unsigned out_lost;
};

/* cmd_import.c */
/* The check's verdict on the row at line, or NULL. */
struct import_row *import_row_at(struct import *im, unsigned line);
int import_send_row(struct import *im, const struct csv_row *row, bool dry_run);

/* cmd_import_report.c */
/* Keeps row's NUMEN for import_numen_duplicates; -1 when out of memory. */
int import_numen_note(struct import *im, const struct csv_row *row);
/* Marks every row whose NUMEN an earlier row of the file has. */
void import_numen_duplicates(struct import *im);
void import_numen_free(struct import *im);
/* Reports one answer of the creating pass (and writes the --out row): an exit code. */
int import_created(struct import *im, const struct import_pending *row,
                   const struct proto_msg *msg);
/* Marks the rows whose identifiant or email base another row of the file shares. */
int import_mark_ordered(struct import *im);
/* Reports a row the check found already there. */
void import_existing(struct import *im, const struct import_row *row);
/* The outcome of the check alone (--dry-run, or bad lines without --skip-bad): an exit code. */
int import_print_check(struct import *im);
void import_print_result(struct import *im);
/* Creates --out (0600, never over an existing file): -1 with the message printed. */
int import_out_create(struct import *im);
/* Writes the kept rows to --out in the file's order and syncs it: -1 with the message printed. */
int import_out_write(struct import *im);
void import_out_free(struct import *im); /* wipes the kept rows */
/* Records a bad line (the column as the header names it) in the report. */
void import_mark_bad(struct import *im, unsigned line, const char *column, const char *reason,
                     const char *detail);
/* A daemon refusal as a report line; counted as bad (check) or as an error (creation). */
void import_mark_refused(struct import *im, unsigned line, const char *reason, const char *detail,
                         bool creating);

#endif
