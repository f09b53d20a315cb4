/*
 * What user import tells: NUMENs given twice in the file, the table (columns
 * as wide as their content, so they never run together) or the JSON, and
 * the mail-merge file of --out in the input's encoding and separator.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "cmd_import.h"
#include "csv.h"
#include "proto.h"
#include "secret.h"

#define OUT_FIELD_MAX 1024
#define OUT_LINE_MAX 4096

struct import_numen {
	char numen[14];
	unsigned line;
};

int import_numen_note(struct import *im, const struct csv_row *row)
{
	struct import_numen *bigger;

	if (im->nnumens == im->capnumens) {
		size_t cap = im->capnumens == 0 ? 1024 : im->capnumens * 2;

		/* NUMENs are wiped wherever they were: no realloc leaving a copy behind. */
		if ((bigger = calloc(cap, sizeof(*bigger))) == NULL)
			return -1;
		if (im->numens != NULL) {
			memcpy(bigger, im->numens, im->nnumens * sizeof(*bigger));
			secret_wipe(im->numens, im->capnumens * sizeof(*bigger));
			free(im->numens);
		}
		im->numens = bigger;
		im->capnumens = cap;
	}
	snprintf(im->numens[im->nnumens].numen, sizeof(im->numens[0].numen), "%s",
	         row->field[CSV_NUMEN]);
	im->numens[im->nnumens++].line = row->line;
	return 0;
}

static int numen_cmp(const void *a, const void *b)
{
	const struct import_numen *x = a, *y = b;
	int c = strcmp(x->numen, y->numen);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

void import_numen_duplicates(struct import *im)
{
	char detail[256];
	size_t i, first = 0;

	if (im->nnumens == 0)
		return;
	qsort(im->numens, im->nnumens, sizeof(im->numens[0]), numen_cmp);
	for (i = 1; i < im->nnumens; i++) {
		struct import_row *holder, *row;

		if (strcmp(im->numens[i].numen, im->numens[first].numen) != 0) {
			first = i;
			continue;
		}
		holder = import_row_at(im, im->numens[first].line);
		row = import_row_at(im, im->numens[i].line);
		if (row == NULL || row->bad)
			continue;
		if (holder != NULL && holder->ident[0] != '\0')
			snprintf(detail, sizeof(detail), "numen: already on line %u (%s %s)",
			         im->numens[first].line, holder->exists ? "held by" : "which gives",
			         holder->ident);
		else
			snprintf(detail, sizeof(detail), "numen: already on line %u",
			         im->numens[first].line);
		import_mark_bad(im, im->numens[i].line, csv_column_name(im->csv, CSV_NUMEN),
		                "exists", detail + strlen("numen: "));
	}
}

void import_numen_free(struct import *im)
{
	if (im->numens == NULL)
		return;
	secret_wipe(im->numens, im->capnumens * sizeof(im->numens[0]));
	free(im->numens);
	im->numens = NULL;
}

/* ---- the mail-merge file ---- */

int import_out_create(struct import *im)
{
	int fd = open(im->out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd == -1) {
		cli_error("cannot create %s: %s%s (nothing imported)", im->out_path,
		          strerror(errno),
		          errno == EEXIST ? ": it is never overwritten, give a new name" : "");
		return -1;
	}
	/* The umask may have taken bits away, never added any; say it anyway. */
	if (fchmod(fd, 0600) == -1 || (im->out = fdopen(fd, "w")) == NULL) {
		cli_error("cannot write %s: %s (nothing imported)", im->out_path, strerror(errno));
		close(fd);
		unlink(im->out_path);
		return -1;
	}
	return 0;
}

/* One row of the mail-merge file, built in place so that no copy of its password is left behind. */
struct out_line {
	unsigned line;
	size_t len;
	char text[OUT_LINE_MAX];
};

static void out_put(struct out_line *o, char c)
{
	if (o->len + 1 < sizeof(o->text))
		o->text[o->len++] = c;
}

/* One field in the input's encoding, quoted when it holds the separator, a quote or a break. */
static void out_field(const struct import *im, struct out_line *o, const char *s, bool last)
{
	char enc[OUT_FIELD_MAX];
	char sep = csv_separator(im->csv);
	const char *p = csv_charset_encode(s, im->charset, enc, sizeof(enc)) == 0 ? enc : s;
	bool quote = strchr(p, sep) != NULL || strpbrk(p, "\"\r\n") != NULL;

	if (quote)
		out_put(o, '"');
	for (; *p != '\0'; p++) {
		if (*p == '"')
			out_put(o, '"');
		out_put(o, *p);
	}
	if (quote)
		out_put(o, '"');
	if (last) {
		out_put(o, '\r');
		out_put(o, '\n');
	} else {
		out_put(o, sep);
	}
	secret_wipe(enc, sizeof(enc));
}

static void out_header(struct import *im)
{
	static const char *const names[] = {
	    "identifiant", "courriel", "mot de passe temporaire", "valable jusqu'au",
	    "nom",         "prénom",   "établissement",
	};
	struct out_line o = {0};

	if (csv_has_bom(im->csv))
		fputs("\xef\xbb\xbf", im->out);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		out_field(im, &o, names[i], i + 1 == sizeof(names) / sizeof(names[0]));
	fwrite(o.text, 1, o.len, im->out);
}

/* Keeps the row of a created account; import_out_write puts them in the file in the file's order. */
static void out_row(struct import *im, const struct import_pending *row,
                    const struct proto_msg *msg)
{
	const char *pass = proto_get(msg, "temporary_password");
	const char *exp = proto_get(msg, "temporary_expires");
	const char *ident = proto_get(msg, "identifiant"), *email = proto_get(msg, "email");
	char when[32] = "";
	time_t t = exp != NULL ? (time_t)strtoll(exp, NULL, 10) : 0;
	struct out_line *o, **bigger;
	struct tm tm;

	if (im->nout == im->capout) {
		size_t cap = im->capout == 0 ? 256 : im->capout * 2;

		if ((bigger = realloc(im->outs, cap * sizeof(*bigger))) == NULL)
			goto oom;
		im->outs = bigger;
		im->capout = cap;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto oom;
	o->line = row->line;
	if (t > 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%d/%m/%Y %H:%M", &tm);
	out_field(im, o, ident != NULL ? ident : "", false);
	out_field(im, o, email != NULL ? email : "", false);
	out_field(im, o, pass != NULL ? pass : "NUMEN", false);
	out_field(im, o, when, false);
	out_field(im, o, row->last, false);
	out_field(im, o, row->first, false);
	out_field(im, o, row->etab, true);
	im->outs[im->nout++] = o;
	return;
oom:
	im->out_lost++;
}

static int out_cmp(const void *a, const void *b)
{
	const struct out_line *x = *(struct out_line *const *)a, *y = *(struct out_line *const *)b;

	return x->line < y->line ? -1 : x->line > y->line;
}

int import_out_write(struct import *im)
{
	int r = 0;

	if (im->out == NULL)
		return 0;
	if (im->nout > 0) {
		qsort(im->outs, im->nout, sizeof(im->outs[0]), out_cmp);
		out_header(im);
	}
	for (size_t i = 0; i < im->nout; i++)
		fwrite(im->outs[i]->text, 1, im->outs[i]->len, im->out);
	if (fflush(im->out) == EOF || fsync(fileno(im->out)) == -1) {
		cli_error("cannot write %s: %s", im->out_path, strerror(errno));
		r = -1;
	}
	if (im->out_lost > 0) {
		cli_error("%u created accounts are missing from %s (out of memory): "
		          "verdonctl user reset-password gives them a new one",
		          im->out_lost, im->out_path);
		r = -1;
	}
	return r;
}

void import_out_free(struct import *im)
{
	for (size_t i = 0; i < im->nout; i++) {
		secret_wipe(im->outs[i], sizeof(*im->outs[i]));
		free(im->outs[i]);
	}
	free(im->outs);
	im->outs = NULL;
	im->nout = 0;
}

/* ---- the creating pass's answers ---- */

int import_created(struct import *im, const struct import_pending *row, const struct proto_msg *msg)
{
	unsigned line = (unsigned)strtoul(msg->id, NULL, 10);
	const char *reason = proto_get(msg, "reason");
	json_t *obj;

	if (strcmp(msg->verb, "OK") == 0) {
		const char *status = proto_get(msg, "status");

		obj = cli_msg_json(msg);
		json_object_set_new(obj, "line", json_integer(line));
		if (status != NULL && strcmp(status, "exists") == 0) {
			im->existing++;
		} else {
			im->created++;
			if (im->out != NULL)
				out_row(im, row, msg);
		}
		if (im->out != NULL)
			json_object_del(obj, "temporary_password");
		json_array_append_new(im->report, obj);
		return CLI_EXIT_OK;
	}
	if (strcmp(msg->verb, "FAIL") == 0 && reason != NULL && strcmp(reason, "forbidden") == 0)
		return cli_answer_status(im->ctx, msg, NULL);
	if (strcmp(msg->verb, "FAIL") == 0)
		import_mark_refused(im, line, reason != NULL ? reason : "unknown",
		                    proto_get(msg, "detail"), true);
	else
		import_mark_refused(im, line, "tempfail",
		                    "the daemon is busy: run the import again", true);
	return CLI_EXIT_OK;
}

void import_existing(struct import *im, const struct import_row *row)
{
	json_t *obj = json_object();

	im->existing++;
	json_object_set_new(obj, "line", json_integer(row->line));
	json_object_set_new(obj, "identifiant", cli_json_string(row->ident));
	json_object_set_new(obj, "email", cli_json_string(row->email));
	json_object_set_new(obj, "status", json_string("exists"));
	json_array_append_new(im->report, obj);
}

/* ---- the rows whose numbering depends on the file's order ---- */

struct base_key {
	char key[260]; /* "i:jdupont" or "e:jean.dupont" */
	size_t row;
};

static int base_cmp(const void *a, const void *b)
{
	return strcmp(((const struct base_key *)a)->key, ((const struct base_key *)b)->key);
}

/* s without its numbering suffix (jdupont2 → jdupont, jean.dupont2@d → jean.dupont). */
static void base_of(char *out, size_t len, char kind, const char *s)
{
	size_t n = strcspn(s, "@");

	while (n > 0 && s[n - 1] >= '0' && s[n - 1] <= '9')
		n--;
	snprintf(out, len, "%c:%.*s", kind, (int)n, s);
}

int import_mark_ordered(struct import *im)
{
	struct base_key *keys = calloc(2 * im->nrows + 1, sizeof(*keys));
	size_t n = 0, i, j;

	if (keys == NULL)
		return -1;
	for (i = 0; i < im->nrows; i++) {
		if (im->rows[i].bad || im->rows[i].exists)
			continue;
		base_of(keys[n].key, sizeof(keys[n].key), 'i', im->rows[i].ident);
		keys[n++].row = i;
		base_of(keys[n].key, sizeof(keys[n].key), 'e', im->rows[i].email);
		keys[n++].row = i;
	}
	qsort(keys, n, sizeof(*keys), base_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(keys[i].key, keys[j].key) == 0; j++)
			;
		for (size_t k = i; j - i > 1 && k < j; k++)
			im->rows[keys[k].row].ordered = true;
	}
	free(keys);
	return 0;
}

/* ---- printing ---- */

static int line_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "line"));

	return x < y ? -1 : x > y;
}

/* The report in line order. */
static void report_sort(struct import *im)
{
	size_t n = json_array_size(im->report), i;
	json_t **v = n > 0 ? calloc(n, sizeof(*v)) : NULL, *sorted;

	if (v == NULL || (sorted = json_array()) == NULL) {
		free(v);
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(im->report, i));
	qsort(v, n, sizeof(*v), line_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(sorted, v[i]);
	free(v);
	json_decref(im->report);
	im->report = sorted;
}

static void print_json(struct import *im, bool imported)
{
	json_t *doc = json_object();

	json_object_set(doc, "lines", im->report);
	json_object_set_new(doc, "imported", json_boolean(imported));
	json_object_set_new(doc, "created", json_integer(im->created));
	json_object_set_new(doc, "existing", json_integer(im->existing));
	json_object_set_new(doc, "errors", json_integer(im->bad + im->errors));
	json_object_set_new(doc, "encoding", json_string(im->charset));
	if (im->out_path != NULL && imported)
		json_object_set_new(doc, "out", cli_json_string(im->out_path));
	cli_json_emit(doc);
}

static const struct cli_column bad_columns[] = {
    {"line", NULL, "LINE"},
    {"column", NULL, "COLUMN"},
    {"detail", NULL, "ERROR"},
};

static const struct cli_column check_columns[] = {
    {"line", NULL, "LINE"},   {"status", NULL, "STATUS"}, {"identifiant", NULL, "IDENTIFIANT"},
    {"email", NULL, "EMAIL"}, {"column", NULL, "COLUMN"}, {"detail", NULL, "ERROR"},
};

int import_print_check(struct import *im)
{
	for (size_t i = 0; im->dry_run && i < im->nrows; i++) {
		json_t *obj;

		if (im->rows[i].bad)
			continue;
		obj = json_object();
		json_object_set_new(obj, "line", json_integer(im->rows[i].line));
		json_object_set_new(obj, "status",
		                    json_string(im->rows[i].exists ? "exists" : "would_create"));
		json_object_set_new(obj, "identifiant", cli_json_string(im->rows[i].ident));
		json_object_set_new(obj, "email", cli_json_string(im->rows[i].email));
		json_array_append_new(im->report, obj);
	}
	report_sort(im);
	if (im->ctx->json)
		print_json(im, false);
	else if (im->dry_run)
		cli_print_table(stdout, im->report, check_columns,
		                sizeof(check_columns) / sizeof(check_columns[0]));
	else
		cli_print_table(stdout, im->report, bad_columns,
		                sizeof(bad_columns) / sizeof(bad_columns[0]));
	if (im->dry_run && !im->ctx->json)
		printf("dry run: nothing created, %u bad line%s (encoding %s)\n", im->bad,
		       im->bad == 1 ? "" : "s", im->charset);
	else if (!im->dry_run && fflush(stdout) != EOF)
		cli_error("nothing imported: %u bad line%s of %zu (fix %s, or give --skip-bad to "
		          "import the others)",
		          im->bad, im->bad == 1 ? "" : "s", im->nrows,
		          im->bad == 1 ? "it" : "them");
	return im->bad > 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

void import_print_result(struct import *im)
{
	static const struct cli_column with_pw[] = {
	    {"line", NULL, "LINE"},
	    {"status", NULL, "STATUS"},
	    {"identifiant", NULL, "IDENTIFIANT"},
	    {"email", NULL, "EMAIL"},
	    {"temporary_password", NULL, "TEMPORARY PASSWORD"},
	    {"column", NULL, "COLUMN"},
	    {"detail", NULL, "ERROR"},
	};
	static const struct cli_column without_pw[] = {
	    {"line", NULL, "LINE"},
	    {"status", NULL, "STATUS"},
	    {"identifiant", NULL, "IDENTIFIANT"},
	    {"email", NULL, "EMAIL"},
	    {"column", NULL, "COLUMN"},
	    {"detail", NULL, "ERROR"},
	};

	report_sort(im);
	if (im->ctx->json) {
		print_json(im, true);
		return;
	}
	if (im->out != NULL)
		cli_print_table(stdout, im->report, without_pw,
		                sizeof(without_pw) / sizeof(without_pw[0]));
	else
		cli_print_table(stdout, im->report, with_pw, sizeof(with_pw) / sizeof(with_pw[0]));
	printf("%u created, %u existing, %u errors", im->created, im->existing,
	       im->bad + im->errors);
	if (im->out != NULL)
		printf("; temporary passwords in %s", im->out_path);
	printf(" (encoding %s)\n", im->charset);
}
