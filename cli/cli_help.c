/*
 * Each command's help: what it does, its options and an example, printed by
 * `verdonctl help CMD` and `verdonctl CMD --help`. One entry a command of
 * cli_commands[]; the unit test checks that none is missing.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cli_help_text {
	const char *command; /* "user import", "audit" */
	const char *text;    /* what it does and its options */
	const char *example;
};

/* clang-format off */
static const struct cli_help_text help_texts[] = {
	{"user add",
	 "Creates one account. The identifiant and the email are made from the names\n"
	 "(jdupont, jean.dupont@DOMAIN; numbered on collision) unless --id is given.\n"
	 "The temporary password is printed once.\n"
	 "  --first F, --last L    the person's names (UTF-8, Latin letters)\n"
	 "  --birth YYYY-MM-DD     birth date\n"
	 "  --numen N              13 letters or digits (kept only as a keyed hash)\n"
	 "  --rescue-email E       where forgotten-password codes are sent\n"
	 "  --mobile M             optional mobile number\n"
	 "  --id IDENT             optional identifiant instead of the generated one\n",
	 "verdonctl user add --first Jean --last Dupont --birth 1980-04-12 --numen 12A3456789XYZ --rescue-email jean@example.org"},
	{"user import",
	 "Creates accounts from a CSV file (or - for standard input), as secretariats\n"
	 "export it. The whole file is checked first: if any line is bad, nobody is\n"
	 "created and every bad line is listed with its line number, column and reason.\n"
	 "Running the same file again creates nobody twice.\n"
	 "File: UTF-8 with or without BOM, or Windows-1252 (a French Excel export; any\n"
	 "file that is not valid UTF-8 is read as Windows-1252), comma or semicolon,\n"
	 "CRLF or LF, fields quoted with \"...\" (\"\" inside for a quote). The first line\n"
	 "names the columns, in any order, case, accents, spaces and hyphens ignored:\n"
	 "  nom | last                     surname (required)\n"
	 "  prénom | first                 first name (required)\n"
	 "  date de naissance | naissance | birth   JJ/MM/AAAA or AAAA-MM-JJ (required)\n"
	 "  numen                          13 letters or digits (required)\n"
	 "  courriel | adresse de secours | mail | email | email_secours | rescue_email\n"
	 "                                 the rescue address (required)\n"
	 "  mobile | portable | téléphone  mobile number (optional)\n"
	 "  identifiant | id               chosen identifiant (optional)\n"
	 "  établissement | uai | rne      the établissement's UAI (optional)\n"
	 "  password_hash                  a crypt(3) hash to migrate (optional)\n"
	 "Options:\n"
	 "  --encoding CHARSET   the file's encoding when detection is not wanted\n"
	 "                       (UTF-8, WINDOWS-1252, ISO-8859-15 ...)\n"
	 "  --skip-bad           create the good lines even when others are bad\n"
	 "  --dry-run            check and show what would happen; create nothing\n"
	 "  --out FILE.csv       write identifiant, email, temporary password, its expiry,\n"
	 "                       names and établissement of each created account to a new\n"
	 "                       file (0600, never overwritten), in the input's encoding\n"
	 "                       and separator, for a mail merge; the terminal then shows\n"
	 "                       no password\n"
	 "Exit 0 when every line is created or already there, 1 when a line is bad.\n",
	 "verdonctl user import --out mots-de-passe.csv rentree.csv"},
	{"user show",
	 "Shows an account (never its secrets): names, emails, state, activation,\n"
	 "établissement, former logins (aliases). LOGIN is an identifiant, an email or\n"
	 "an alias; --numen N finds the account holding that NUMEN instead.\n",
	 "verdonctl user show jdupont    verdonctl user show --numen 12A3456789XYZ"},
	{"user list",
	 "Lists accounts, with their state and activation (activated: temporary password\n"
	 "replaced and authenticator enrolled where the policy demands one).\n"
	 "  --state S               active, suspended or deleted only\n"
	 "  --pending               only those who have not activated yet\n"
	 "  --expired               only those whose temporary password has expired\n"
	 "  --etablissement UAI     only this établissement\n"
	 "  --limit N               one page of at most N accounts\n",
	 "verdonctl user list --pending --etablissement 0750001A"},
	{"user set",
	 "Corrects a person's data. Names change what is displayed, never the identifiant\n"
	 "(user rename does that, on purpose).\n"
	 "  --first F, --last L     names\n"
	 "  --rescue-email E        rescue address\n"
	 "  --mobile M              mobile number\n"
	 "  --etablissement UAI     établissement\n",
	 "verdonctl user set mmartin --last Durand --rescue-email marie.durand@example.org"},
	{"user rename",
	 "Gives the account a new identifiant and email made from its current names (after\n"
	 "user set). The former identifiant and email keep logging in as aliases: user\n"
	 "show lists them, user unalias removes one. Audited.\n",
	 "verdonctl user set mmartin --last Durand && verdonctl user rename mmartin"},
	{"user unalias",
	 "Removes a former identifiant or email (left by user rename) from an account:\n"
	 "it no longer logs in. Audited.\n",
	 "verdonctl user unalias mdurand mmartin"},
	{"user reset-password",
	 "Sets a new temporary password (random, printed once; or the NUMEN when the\n"
	 "config hands out NUMENs). The person must replace it at the next login.\n"
	 "  --numen N    checked against the account's NUMEN (required in NUMEN mode)\n",
	 "verdonctl user reset-password jdupont --numen 12A3456789XYZ"},
	{"user unlock", "Clears the failure count of a locked account.\n",
	 "verdonctl user unlock jdupont"},
	{"user suspend",
	 "Suspends an account at once on every front end; its sessions end.\n"
	 "  --reason TEXT    kept with the account and in the audit trail\n",
	 "verdonctl user suspend jdupont --reason \"départ\""},
	{"user resume", "Lifts a suspension.\n", "verdonctl user resume jdupont"},
	{"user delete",
	 "Deletes an account (restorable during delete_grace_days, then purged).\n",
	 "verdonctl user delete jdupont"},
	{"user restore", "Restores a deleted account within its grace period.\n",
	 "verdonctl user restore jdupont"},
	{"otp enroll",
	 "Starts an authenticator enrollment: prints the otpauth URI and a QR code.\n"
	 "  --png FILE          also write the QR code as a PNG\n"
	 "  --algorithm A       SHA1 (default), SHA256 or SHA512\n"
	 "  --digits 6|8        code length\n",
	 "verdonctl otp enroll jdupont --png /tmp/jdupont.png"},
	{"otp confirm",
	 "Confirms a pending enrollment with a code from the authenticator (read from\n"
	 "standard input when not given); prints the recovery codes once.\n",
	 "verdonctl otp confirm jdupont 123456"},
	{"otp reset", "Removes the authenticator (a lost phone); the person enrolls again.\n",
	 "verdonctl otp reset jdupont"},
	{"otp status", "Tells whether an authenticator is active or pending.\n",
	 "verdonctl otp status jdupont"},
	{"auth check",
	 "Tries a login as a front end would: the password, then the code, are read\n"
	 "from standard input.\n"
	 "  --service S     the service whose policy applies (default helpdesk)\n"
	 "  --address IP    the client address to report\n",
	 "printf '%s\\n%s\\n' \"$PASSWORD\" 123456 | verdonctl auth check jdupont --service webmail"},
	{"auth passwd",
	 "Changes a password: the current one, the new one, then the code (when asked)\n"
	 "are read from standard input.\n"
	 "  --service S     the service whose policy applies\n",
	 "printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | verdonctl auth passwd jdupont"},
	{"app-password add",
	 "Creates an app password for a mail client (shown once), limited to services.\n"
	 "  --label TEXT          what the person calls the device\n"
	 "  --services LIST       comma-separated services (imap,smtp)\n",
	 "verdonctl app-password add jdupont --label \"téléphone\" --services imap,smtp"},
	{"app-password list", "Lists an account's app passwords (never the passwords).\n",
	 "verdonctl app-password list jdupont"},
	{"app-password revoke", "Revokes one app password by its ID, or all with --all.\n",
	 "verdonctl app-password revoke jdupont --all"},
	{"session list", "Lists an account's webmail session tokens.\n",
	 "verdonctl session list jdupont"},
	{"session revoke", "Ends one session by its ID, or all with --all.\n",
	 "verdonctl session revoke jdupont --all"},
	{"device list",
	 "Lists an account's devices: trusted browsers (which may skip the code) and device\n"
	 "cookies, with their expiry.\n",
	 "verdonctl device list jdupont"},
	{"device revoke",
	 "Revokes one device by its ID, or all with --all: a trusted browser asks for the\n"
	 "code again.\n",
	 "verdonctl device revoke jdupont --all"},
	{"audit",
	 "Prints the audit trail, newest last: every decision and admin action.\n"
	 "  --limit N    at most N records (default 100)\n",
	 "verdonctl audit jdupont --limit 20"},
	{"backup",
	 "Writes a consistent copy of the store to PATH (a new file) while the daemon\n"
	 "runs. The key file state_dir/verdon.key is not in it: keep a copy of that\n"
	 "file too, apart (README, \"Backup and restore\").\n",
	 "verdonctl backup /var/backups/verdon/data.mdb"},
	{"store copy",
	 "Copies every table of the store (accounts, indexes, sessions, audit) to another\n"
	 "backend, then counts the rows on both sides. The node's verdond must be stopped;\n"
	 "the target must hold no data. A copy to LMDB writes the key file beside it.\n"
	 "  --to lmdb|postgresql   the target's backend; TARGET is a new state directory\n"
	 "                         or a PostgreSQL connection string (docs/cluster.md)\n",
	 "verdonctl store copy --to postgresql \"host=db1 dbname=verdon user=verdon\""},
	{"store verify",
	 "Checks the store: every record decodes, every index entry (emails, former logins,\n"
	 "NUMENs) and session points at its account, the audit has no gap. Exit 1 on a\n"
	 "problem, each one listed.\n",
	 "verdonctl store verify"},
	{"stats",
	 "Counts accounts by activation (activated, pending, expired, suspended or\n"
	 "deleted) in all and by établissement; --json for scripts.\n",
	 "verdonctl stats --json"},
	{"status", "Shows the daemon's version, accounts, workers, queue and store use.\n",
	 "verdonctl status"},
	{"help",
	 "Lists the commands, or explains one: verdonctl help COMMAND is the same as\n"
	 "verdonctl COMMAND --help.\n",
	 "verdonctl help user import"},
};
/* clang-format on */

static void command_name(const struct cli_command *c, char *buf, size_t len)
{
	if (c->group != NULL)
		snprintf(buf, len, "%s %s", c->group, c->name);
	else
		snprintf(buf, len, "%s", c->name);
}

static const struct cli_help_text *help_find(const struct cli_command *c)
{
	char name[64];

	command_name(c, name, sizeof(name));
	for (size_t i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++)
		if (strcmp(help_texts[i].command, name) == 0)
			return &help_texts[i];
	return NULL;
}

bool cli_help_has_text(const struct cli_command *cmd)
{
	return help_find(cmd) != NULL;
}

void cli_help_command(FILE *out, const struct cli_command *cmd)
{
	const struct cli_help_text *h = help_find(cmd);

	fprintf(out, "usage: verdonctl %s\n", cmd->usage);
	if (h == NULL)
		return;
	fprintf(out, "\n%s\nexample:\n  %s\n", h->text, h->example);
	if (cmd->socket != CLI_SOCKET_NONE)
		fprintf(out,
		        "\nGlobal options (before the command): -c CONF, --json, --socket PATH, "
		        "--timeout MS.\n--json may also follow the command.\n");
}
