/*
 * libFuzzer: the PAM module's two parsers: its arguments from a PAM stack
 * file (pieces separated by spaces), and the daemon's answer to a request
 * (a line parsed by the protocol codec, then read as an answer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "../../pam_module/pam_answer.h"
#include "../../pam_module/pam_options.h"
#include "proto.h"

static void fuzz_options(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_PIECES_MAX], err[256];
	size_t n = fuzz_split(data, size, ' ', argv, FUZZ_PIECES_MAX);
	struct pv_options opt;

	if (pv_options_parse((int)n, (const char *const *)argv, &opt, err, sizeof(err)) == 0 &&
	    (opt.timeout_ms <= 0 || (opt.service[0] != '\0' && !pv_service_valid(opt.service))))
		abort();
	fuzz_free(argv, n);
}

static void fuzz_answer(const uint8_t *data, size_t size, bool need_ident)
{
	char *line = malloc(size + 1), err[256];
	struct proto_msg msg;
	struct pv_answer a;

	if (line == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (proto_parse(line, size, &msg) == 0 &&
	    pv_answer_read(&msg, "1", need_ident, &a, err, sizeof(err)) == 0 && need_ident &&
	    a.outcome == OUTCOME_OK && !pv_identifiant_valid(a.identifiant))
		abort();
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_options(data + 1, size - 1);
	else
		fuzz_answer(data + 1, size - 1, data[0] & 2);
	return 0;
}
