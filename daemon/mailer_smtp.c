/*
 * SMTP submission to the configured relay through libcurl: the hardened
 * unit's mail path. The message comes from mailer_build (LF line ends);
 * libcurl turns them into CRLF and dot-stuffs the body.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "mailer.h"

struct upload {
	const char *data;
	size_t len, off;
};

static size_t read_part(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* "Name <a@b>" → "<a@b>", "a@b" → "<a@b>"; -1 when nothing address-like is left. */
static int envelope(const char *header, char *out, size_t cap)
{
	const char *lt = strrchr(header, '<'), *gt;
	size_t n;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		header = lt + 1, n = (size_t)(gt - header);
	else
		n = strlen(header);
	if (n == 0 || n + 3 > cap || memchr(header, '@', n) == NULL)
		return -1;
	snprintf(out, cap, "<%.*s>", (int)n, header);
	return 0;
}

int mailer_smtp(const char *relay, const struct mail *m, const char *msg, size_t len,
                unsigned timeout_s, char *why_r)
{
	char from[MAILER_HEADER_MAX + 3], to[MAILER_HEADER_MAX + 3], err[CURL_ERROR_SIZE] = "";
	struct upload u = {.data = msg, .len = len};
	struct curl_slist *rcpt = NULL;
	CURL *curl = NULL;
	CURLcode rc;
	int r = -1;

	if (envelope(m->from, from, sizeof(from)) < 0 || envelope(m->to, to, sizeof(to)) < 0) {
		snprintf(why_r, MAILER_WHY_MAX, "mail relay: no envelope address in From or To");
		return -1;
	}
	if ((curl = curl_easy_init()) == NULL || (rcpt = curl_slist_append(NULL, to)) == NULL) {
		snprintf(why_r, MAILER_WHY_MAX, "mail relay: out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, relay);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_CRLF, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_part);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	if ((rc = curl_easy_perform(curl)) != CURLE_OK) {
		long code = 0;

		/* never the URL: it may hold a password; the relay's last reply code says most */
		if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
			code = 0;
		snprintf(why_r, MAILER_WHY_MAX, "mail relay: %.200s",
		         err[0] != '\0' ? err : curl_easy_strerror(rc));
		if (code != 0)
			snprintf(why_r + strlen(why_r), MAILER_WHY_MAX - strlen(why_r),
			         " (last reply %ld)", code);
		goto out;
	}
	r = 0;
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(curl);
	return r;
}
