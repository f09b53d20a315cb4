/*
 * How many recovery mails may go, per account and per rescue address: a
 * bounded in-memory table of the last send times, so that nobody can flood
 * a mailbox through the forgotten-password or forgotten-identifiant pages.
 * Pure but for its lock: the caller gives the time.
 */
#ifndef VERDON_MAIL_LIMIT_H
#define VERDON_MAIL_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define MAIL_LIMIT_DAY 86400      /* seconds of the daily limit's window */
#define MAIL_LIMIT_PER_DAY_MAX 50 /* what mails_per_day may be: the send times kept */
#define MAIL_LIMIT_KEY_MAX 80

struct mail_limit_conf {
	unsigned per_hour;    /* [recovery] mails_per_hour */
	unsigned per_day;     /* [recovery] mails_per_day, at most MAIL_LIMIT_PER_DAY_MAX */
	unsigned hour_window; /* [recovery] hour_window: the "hour", in seconds */
};

struct mail_limit;
/* capacity: keys remembered (accounts and addresses together); the least recently mailed go first.
 */
struct mail_limit *mail_limit_new(unsigned capacity);
void mail_limit_free(struct mail_limit *ml);

/*
 * May one more mail go now to both keys (an account's, a rescue address's)?
 * If so it is counted for both; if not, why_r says which limit (for the
 * audit). NULL keys count nothing and are refused: the unknown account's
 * path, scanning the same table so that it costs the same.
 */
bool mail_limit_take(struct mail_limit *ml, const struct mail_limit_conf *conf,
                     const char *account_key, const char *address_key, int64_t now,
                     const char **why_r);

/*
 * Gives back the send counted at `when` for both keys (a mail that did not
 * go): the next ask is not held back by it. A key or a time it does not
 * find changes nothing.
 */
void mail_limit_give_back(struct mail_limit *ml, const char *account_key, const char *address_key,
                          int64_t when);

#endif
