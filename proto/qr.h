/* QR codes for otpauth:// URIs: UTF-8 blocks for a terminal, PNG, SVG. */
#ifndef VERDON_QR_H
#define VERDON_QR_H

#include <stdio.h>
#include <stddef.h>

/* Writes the QR as UTF-8 half blocks (two modules a character) with a quiet zone. */
int qr_write_terminal(const char *text, FILE *out);
/* PNG in memory, scale pixels per module, 4-module quiet zone; free() the buffer. */
int qr_png(const char *text, unsigned scale, unsigned char **png_r, size_t *len_r);
/* Writes the PNG to path, created 0600 with O_EXCL|O_NOFOLLOW semantics replaced by O_TRUNC when
 * overwrite. */
int qr_write_png_file(const char *text, const char *path);
/* SVG document in memory; free() the buffer. */
int qr_svg(const char *text, char **svg_r, size_t *len_r);

#endif
