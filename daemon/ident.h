/*
 * Identifiants, emails and login names (SPEC "Accounts"). Pure string rules:
 * the caller checks collisions in the store and picks the numbered form.
 */
#ifndef VERDON_IDENT_H
#define VERDON_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#define IDENT_MAX 64 /* identifiant, NUL excluded */
#define EMAIL_MAX 254
#define NAME_MAX_BYTES 128
#define NUMEN_LEN 13
#define UAI_MAX 15

/*
 * Folds a UTF-8 name to lowercase ASCII letters: accents removed (é→e, ç→c),
 * ligatures spelt out (œ→oe, æ→ae, ß→ss), apostrophes (' and ’) dropped.
 * Spaces and hyphens are dropped, or with keep_hyphens each run of them
 * becomes one '-' (never leading or trailing). -1 when nothing is left,
 * on invalid UTF-8, or on a character that has no Latin folding.
 */
int ident_fold(const char *name, bool keep_hyphens, char *out, size_t cap);

/* "Jean-Pierre", "N'Guyen-Élie" → "jnguyenelie". */
int ident_base(const char *first, const char *last, char *out, size_t cap);
/* "Élodie", "N'Guyen-Lefèvre" → "elodie.nguyen-lefevre". */
int ident_email_local(const char *first, const char *last, char *out, size_t cap);
/* n == 1: base itself; n >= 2: base followed by n ("jdupont2"). */
int ident_numbered(const char *base, unsigned n, char *out, size_t cap);

/*
 * A login name as typed: surrounding white space trimmed, ASCII lowercased.
 * *is_email_r tells whether it names an email. -1 if empty, too long or not
 * printable ASCII.
 */
int ident_login(const char *login, char *out, size_t cap, bool *is_email_r);

bool ident_valid(const char *identifiant); /* [a-z][a-z0-9]{0,63} */
bool ident_email_valid(const char *email);
bool ident_numen_valid(const char *numen);   /* 13 ASCII letters or digits */
bool ident_date_valid(const char *date);     /* a real YYYY-MM-DD date */
bool ident_name_valid(const char *name);     /* UTF-8, 1..128 bytes, foldable */
bool ident_mobile_valid(const char *mobile); /* +, digits, spaces; 6..20 */
bool ident_uai_valid(const char *uai);       /* an établissement: [A-Z0-9]{1,15} */
/* Canonical NUMEN: uppercase, for the keyed index. */
int ident_numen_canonical(const char *numen, char out[NUMEN_LEN + 1]);

#endif
