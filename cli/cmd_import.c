/*
 * user import: the whole file is checked first (the CSV itself, a NUMEN twice
 * in the file, and every row through the daemon with USER_ADD dry_run=1,
 * pipelined), and only a file without a bad line is imported, IMPORT_WINDOW
 * rows in flight, which the daemon writes in shared transactions; a row
 * whose identifiant or email base another row shares goes alone, so that the
 * file's order decides the numbering (jdupont, jdupont2).
 * --skip-bad imports the good rows anyway; --dry-run stops after the check;
 * --out writes the temporary passwords to a mail-merge file instead of the
 * terminal. The daemon makes it idempotent: the same file again reports the
 * existing accounts and adds the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_output.h"
#include "client.h"
#include "cmd_import.h"
#include "csv.h"
#include "csv_charset.h"
#include "proto.h"
#include "secret.h"

/*
 * Checking changes nothing, so its rows may go out in parallel: fewer than
 * the daemon's max_pending by default (16); a row it answers TEMPFAIL (a
 * smaller max_pending, a busy queue) is checked again alone afterwards.
 */
#define CHECK_WINDOW 8
#define IMPORT_FILE_MAX (64u << 20)

static int read_fd(int fd, char **data_r, size_t *len_r)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t n;

	while (buf != NULL) {
		if (len == cap) {
			bigger = cap < IMPORT_FILE_MAX ? malloc(cap * 2) : NULL;
			if (bigger != NULL)
				memcpy(bigger, buf, len);
			/* The file holds NUMENs: no copy is left behind. */
			secret_wipe(buf, cap);
			free(buf);
			buf = bigger;
			cap *= 2;
			if (buf == NULL) {
				errno = cap > IMPORT_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {
				*data_r = buf;
				*len_r = len;
				return 0;
			}
			secret_wipe(buf, cap);
			free(buf);
			buf = NULL;
		} else {
			len += (size_t)n;
		}
	}
	return -1;
}

static int read_file(const char *path, char **data_r, size_t *len_r)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int r, saved;

	if (fd == -1)
		return -1;
	r = read_fd(fd, data_r, len_r);
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	errno = saved;
	return r;
}

static const char *str_or(const char *s, const char *def)
{
	return s != NULL ? s : def;
}

struct import_row *import_row_at(struct import *im, unsigned line)
{
	size_t lo = 0, hi = im->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->rows[mid].line == line)
			return &im->rows[mid];
		if (im->rows[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct import_row *row_new(struct import *im, unsigned line)
{
	struct import_row *bigger;

	if (im->nrows == im->caprows) {
		size_t cap = im->caprows == 0 ? 1024 : im->caprows * 2;

		if ((bigger = realloc(im->rows, cap * sizeof(*bigger))) == NULL)
			return NULL;
		im->rows = bigger;
		im->caprows = cap;
	}
	memset(&im->rows[im->nrows], 0, sizeof(im->rows[0]));
	im->rows[im->nrows].line = line;
	return &im->rows[im->nrows++];
}

void import_mark_bad(struct import *im, unsigned line, const char *column, const char *reason,
                     const char *detail)
{
	json_t *obj = json_object();
	struct import_row *row = import_row_at(im, line);

	if (row != NULL)
		row->bad = true;
	im->bad++;
	json_object_set_new(obj, "line", json_integer(line));
	json_object_set_new(obj, "status", json_string("error"));
	json_object_set_new(obj, "column", cli_json_string(column));
	json_object_set_new(obj, "reason", cli_json_string(reason));
	json_object_set_new(obj, "detail", cli_json_string(detail));
	json_array_append_new(im->report, obj);
}

/* A csv.c message ("line N: \"Col\" is …") as line, column and the rest. */
static void mark_csv_error(struct import *im, const char *err)
{
	char column[64] = "";
	const char *text = err, *q;
	unsigned line = 0;

	if (sscanf(err, "line %u:", &line) == 1 && (text = strchr(err, ':')) != NULL)
		text += 2;
	else
		text = err;
	if (text[0] == '"' && (q = strchr(text + 1, '"')) != NULL &&
	    (size_t)(q - text - 1) < sizeof(column)) {
		memcpy(column, text + 1, (size_t)(q - text - 1));
		column[q - text - 1] = '\0';
	}
	if (import_row_at(im, line) == NULL)
		row_new(im, line);
	import_mark_bad(im, line, column, "csv", text);
}

/* A daemon refusal: its detail begins with the request field at fault ("numen: …"). */
void import_mark_refused(struct import *im, unsigned line, const char *reason, const char *detail,
                         bool creating)
{
	char key[32];
	const char *column = "";
	size_t n = detail != NULL ? strcspn(detail, ":") : 0;
	int col;

	if (detail != NULL && detail[n] == ':' && n < sizeof(key)) {
		memcpy(key, detail, n);
		key[n] = '\0';
		if ((col = csv_column_of_key(key)) >= 0) {
			/* The column says which field: the reason alone follows. */
			column = csv_column_name(im->csv, (enum csv_column)col);
			detail += n + 1 + (detail[n + 1] == ' ');
		}
	}
	import_mark_bad(im, line, column, reason, str_or(detail, reason));
	if (creating) {
		/* Not a bad line of the check: a refusal while creating. */
		im->bad--;
		im->errors++;
	}
}

int import_send_row(struct import *im, const struct csv_row *row, bool dry_run)
{
	static const struct {
		enum csv_column column;
		const char *key;
	} map[] = {
	    {CSV_FIRST, "first"},
	    {CSV_LAST, "last"},
	    {CSV_BIRTH, "birth"},
	    {CSV_NUMEN, "numen"},
	    {CSV_RESCUE_EMAIL, "rescue_email"},
	    {CSV_ID, "identifiant"},
	    {CSV_MOBILE, "mobile"},
	    {CSV_PASSWORD_HASH, "password_hash"},
	    {CSV_ETAB, "etablissement"},
	};
	struct proto_writer w;
	char id[16];

	snprintf(id, sizeof(id), "%u", row->line);
	proto_begin(&w, im->cmd->verb, id);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = row->field[map[i].column];
		bool optional = map[i].column >= CSV_ID;

		if (v != NULL && (!optional || v[0] != '\0'))
			proto_add(&w, map[i].key, v);
	}
	proto_add(&w, "import", "1");
	if (dry_run)
		proto_add(&w, "dry_run", "1");
	return cli_send(im->ctx, &w);
}

/* The check's answer to one row. */
static int check_answer(struct import *im, const struct proto_msg *msg)
{
	unsigned line = (unsigned)strtoul(msg->id, NULL, 10);
	const char *reason = str_or(proto_get(msg, "reason"), "unknown");
	struct import_row *row = import_row_at(im, line);

	im->inflight -= im->inflight > 0;
	if (strcmp(msg->verb, "OK") == 0) {
		if (row != NULL) {
			snprintf(row->ident, sizeof(row->ident), "%s",
			         str_or(proto_get(msg, "identifiant"), ""));
			snprintf(row->email, sizeof(row->email), "%s",
			         str_or(proto_get(msg, "email"), ""));
			row->exists = strcmp(str_or(proto_get(msg, "status"), ""), "exists") == 0;
		}
		return CLI_EXIT_OK;
	}
	if (strcmp(msg->verb, "FAIL") == 0 && strcmp(reason, "forbidden") == 0)
		return cli_answer_status(im->ctx, msg, NULL);
	if (strcmp(msg->verb, "FAIL") == 0) {
		import_mark_refused(im, line, reason, proto_get(msg, "detail"), false);
		return CLI_EXIT_OK;
	}
	if (row != NULL && !row->retry) {
		row->retry = true;
		im->retries++;
		return CLI_EXIT_OK;
	}
	cli_error("the daemon is busy (line %u): run the import again", line);
	return CLI_EXIT_UNAVAILABLE;
}

/* The file from its first row again (it was read whole, and checked, once already). */
static int reread(struct import *im)
{
	char err[512];

	csv_close(im->csv);
	im->csv = NULL;
	if (csv_open(im->text, im->textlen, &im->csv, err, sizeof(err)) == -1) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

/* The rows the daemon was too busy to check, again, one at a time. */
static int check_retries(struct import *im)
{
	struct csv_row row;
	struct proto_msg msg;
	struct import_row *checked;
	char err[512];
	int r, k;

	if (im->retries == 0)
		return CLI_EXIT_OK;
	if (reread(im) == -1)
		return CLI_EXIT_REFUSED;
	while ((k = csv_next(im->csv, &row, err, sizeof(err))) != 0) {
		if (k == -1 || (checked = import_row_at(im, row.line)) == NULL || !checked->retry)
			continue;
		if ((r = import_send_row(im, &row, true)) != CLI_EXIT_OK)
			return r;
		im->inflight = 1;
		r = cli_recv(im->ctx, NULL, &msg);
		if (r == CLI_EXIT_OK)
			r = check_answer(im, &msg);
		if (r != CLI_EXIT_OK)
			return r;
	}
	return CLI_EXIT_OK;
}

/* Pass 1: every row read and checked; nothing is created. */
static int import_check(struct import *im)
{
	struct csv_row row;
	struct proto_msg msg;
	char err[512];
	bool eof = false;
	int r, k;

	while (!eof || im->inflight > 0) {
		while (!eof && im->inflight < CHECK_WINDOW) {
			k = csv_next(im->csv, &row, err, sizeof(err));
			if (k == 0) {
				eof = true;
			} else if (k == -1) {
				mark_csv_error(im, err);
			} else if (row_new(im, row.line) == NULL || import_numen_note(im, &row) < 0) {
				cli_error("out of memory");
				return CLI_EXIT_REFUSED;
			} else if ((r = import_send_row(im, &row, true)) != CLI_EXIT_OK) {
				return r;
			} else {
				im->inflight++;
			}
		}
		if (im->inflight == 0)
			break;
		r = cli_recv(im->ctx, NULL, &msg);
		if (r == CLI_EXIT_OK)
			r = check_answer(im, &msg);
		if (r != CLI_EXIT_OK)
			return r;
	}
	if ((r = check_retries(im)) != CLI_EXIT_OK)
		return r;
	import_numen_duplicates(im);
	return CLI_EXIT_OK;
}

/* The daemon took fewer rows than were in flight: from now on, no more than it holds now. */
static void window_narrow(struct import *im)
{
	if (im->inflight - 1 < im->window)
		im->window = im->inflight > 1 ? im->inflight - 1 : 1;
}

/* The next answer of the creating pass, reported with its pending row. */
static int create_answer(struct import *im)
{
	struct import_row *row;
	struct proto_msg msg;
	unsigned line;
	int r = cli_recv(im->ctx, NULL, &msg);

	if (r != CLI_EXIT_OK)
		return r;
	line = (unsigned)strtoul(msg.id, NULL, 10);
	for (size_t i = 0; i < IMPORT_WINDOW; i++) {
		struct import_pending *p = &im->pending[i];

		if (p->line != line || line == 0)
			continue;
		if (strcmp(msg.verb, "TEMPFAIL") == 0 && (row = import_row_at(im, line)) != NULL &&
		    !row->again) {
			/* A busy daemon (max_pending, a full queue): this row goes again at the end. */
			row->again = true;
			im->retries++;
			window_narrow(im);
		} else {
			r = import_created(im, p, &msg);
		}
		secret_wipe(p, sizeof(*p));
		im->inflight--;
		return r;
	}
	cli_error("the daemon answered a request that was not sent (%s)", msg.id);
	return CLI_EXIT_UNAVAILABLE;
}

static int create_send(struct import *im, const struct csv_row *row)
{
	struct import_pending *p = NULL;
	int r;

	for (size_t i = 0; i < IMPORT_WINDOW && p == NULL; i++)
		if (im->pending[i].line == 0)
			p = &im->pending[i];
	if (p == NULL || (r = import_send_row(im, row, false)) != CLI_EXIT_OK)
		return p == NULL ? CLI_EXIT_UNAVAILABLE : r;
	p->line = row->line;
	snprintf(p->last, sizeof(p->last), "%s", row->field[CSV_LAST]);
	snprintf(p->first, sizeof(p->first), "%s", row->field[CSV_FIRST]);
	snprintf(p->etab, sizeof(p->etab), "%s",
	         row->field[CSV_ETAB] != NULL ? row->field[CSV_ETAB] : "");
	im->inflight++;
	return CLI_EXIT_OK;
}

/* The rows the daemon was too busy to create, again, one at a time. */
static int create_again(struct import *im)
{
	struct csv_row row;
	struct import_row *checked;
	char err[512];
	int r = CLI_EXIT_OK, k;

	if (reread(im) == -1)
		return CLI_EXIT_REFUSED;
	while (r == CLI_EXIT_OK && (k = csv_next(im->csv, &row, err, sizeof(err))) != 0) {
		if (k == -1 || (checked = import_row_at(im, row.line)) == NULL || !checked->again)
			continue;
		r = create_send(im, &row);
		if (r == CLI_EXIT_OK)
			r = create_answer(im);
	}
	return r;
}

/*
 * Pass 2: the good rows. Rows whose identifiant and email are theirs alone go
 * IMPORT_WINDOW at a time; a row that shares its base with another (two Jean
 * Dupont) goes alone once the others are answered, so the file's order
 * decides which is jdupont and which jdupont2. Rows the check found already
 * there are reported without a request: a file run again costs no commit.
 */
static int import_create(struct import *im)
{
	struct csv_row row;
	struct import_row *checked;
	char err[512];
	int r = CLI_EXIT_OK, k;

	im->retries = 0;
	im->window = IMPORT_WINDOW;
	if (import_mark_ordered(im) < 0) {
		cli_error("out of memory");
		return CLI_EXIT_REFUSED;
	}
	if (reread(im) == -1)
		return CLI_EXIT_REFUSED;
	while (r == CLI_EXIT_OK && (k = csv_next(im->csv, &row, err, sizeof(err))) != 0) {
		if (k == -1 || (checked = import_row_at(im, row.line)) == NULL || checked->bad)
			continue;
		if (checked->exists) {
			import_existing(im, checked);
			continue;
		}
		while (r == CLI_EXIT_OK && im->inflight > 0 &&
		       (checked->ordered || im->inflight >= im->window))
			r = create_answer(im);
		if (r == CLI_EXIT_OK)
			r = create_send(im, &row);
		if (r == CLI_EXIT_OK && checked->ordered)
			r = create_answer(im);
	}
	while (r == CLI_EXIT_OK && im->inflight > 0)
		r = create_answer(im);
	if (r == CLI_EXIT_OK && im->retries > 0)
		r = create_again(im);
	return r;
}

static int import_open(struct import *im, const struct cli_args *args)
{
	char err[512];

	if (read_file(args->pos[0], &im->data, &im->datalen) == -1) {
		cli_error("cannot read %s: %s", args->pos[0], strerror(errno));
		return -1;
	}
	if (csv_charset_decode(im->data, im->datalen, cli_args_opt(im->cmd, args, "encoding"),
	                       &im->utf8, &im->textlen, im->charset, err, sizeof(err)) == -1) {
		cli_error("%s: %s (nothing imported; give the file's encoding with --encoding)",
		          args->pos[0], err);
		return -1;
	}
	im->text = im->utf8 != NULL ? im->utf8 : im->data;
	if (csv_open(im->text, im->textlen, &im->csv, err, sizeof(err)) == -1) {
		cli_error("%s: %s (nothing imported)", args->pos[0], err);
		return -1;
	}
	return 0;
}

static void import_free(struct import *im)
{
	csv_close(im->csv);
	csv_charset_free(im->utf8, im->textlen);
	if (im->data != NULL) {
		secret_wipe(im->data, im->datalen);
		free(im->data);
	}
	if (im->rows != NULL) {
		secret_wipe(im->rows, im->caprows * sizeof(im->rows[0]));
		free(im->rows);
	}
	import_numen_free(im);
	secret_wipe(im->pending, sizeof(im->pending));
	import_out_free(im);
	json_decref(im->report);
	if (im->out != NULL) {
		/* A file without a row is no mail merge: it goes, so the name can be used again. */
		if (im->created == 0)
			unlink(im->out_path);
		fclose(im->out);
	}
}

static int import_run(struct import *im)
{
	int r = import_check(im);

	if (r != CLI_EXIT_OK)
		return r;
	if (im->dry_run || (im->bad > 0 && !im->skip_bad))
		return import_print_check(im);
	r = import_create(im);
	if (import_out_write(im) == -1 && r == CLI_EXIT_OK)
		r = CLI_EXIT_REFUSED;
	import_print_result(im);
	if (r == CLI_EXIT_UNAVAILABLE)
		cli_error(
		    "import stopped with %u line%s unanswered: it is idempotent, run it again",
		    im->inflight, im->inflight == 1 ? "" : "s");
	if (r == CLI_EXIT_OK && im->bad + im->errors > 0)
		r = CLI_EXIT_REFUSED;
	return r;
}

int cmd_user_import(struct cli_ctx *ctx, const struct cli_command *cmd, int argc, char **argv)
{
	struct import im = {.ctx = ctx, .cmd = cmd};
	struct cli_args args;
	char err[512];
	int r = CLI_EXIT_REFUSED;

	if (cli_args_parse(cmd, argc, argv, &args, err, sizeof(err)) == -1)
		return cli_usage_error(cmd, "%s", err);
	ctx->json = ctx->json || args.json;
	im.skip_bad = cli_args_opt(cmd, &args, "skip-bad") != NULL;
	im.dry_run = cli_args_opt(cmd, &args, "dry-run") != NULL;
	im.out_path = cli_args_opt(cmd, &args, "out");
	if ((im.report = json_array()) == NULL)
		goto out;
	if (im.out_path != NULL && !im.dry_run && import_out_create(&im) == -1)
		goto out;
	if (import_open(&im, &args) == -1)
		goto out;
	r = import_run(&im);
out:
	import_free(&im);
	return r;
}
