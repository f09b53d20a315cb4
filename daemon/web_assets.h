/* The self-service page's files, embedded at build time by scripts/embed.sh. */
#ifndef VERDON_WEB_ASSETS_H
#define VERDON_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/index.html" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Ends with a NULL path. */
extern const struct web_asset web_assets[];

#endif
