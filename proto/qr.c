/*
 * QR codes for otpauth:// URIs. The URI carries the OTP secret, so every
 * buffer that holds the modules or the image is wiped before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <png.h>
#include <qrencode.h>

#include "qr.h"
#include "secret.h"

#define QR_QUIET 4       /* modules of light border, as ISO/IEC 18004 asks */
#define QR_SCALE_MAX 32  /* pixels per module */
#define QR_FILE_SCALE 8  /* pixels per module in qr_write_png_file */
#define QR_TEXT_MAX 2048 /* bytes; an otpauth URI is a few hundred at most */

/* A growing buffer whose old copies are wiped when it moves. */
struct qr_buf {
	unsigned char *p;
	size_t len;
	size_t cap;
};

static int qr_buf_add(struct qr_buf *b, const void *data, size_t n)
{
	unsigned char *p;
	size_t cap = b->cap != 0 ? b->cap : 4096;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / 4 - b->len)
		return -1;
	if (b->len + n > b->cap) {
		while (cap < b->len + n)
			cap *= 2;
		if ((p = malloc(cap)) == NULL)
			return -1;
		if (b->len > 0)
			memcpy(p, b->p, b->len);
		secret_wipe(b->p, b->cap);
		free(b->p);
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int __attribute__((format(printf, 2, 3)))
qr_buf_printf(struct qr_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	return qr_buf_add(b, tmp, (size_t)n);
}

static void qr_buf_free(struct qr_buf *b)
{
	secret_wipe(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static QRcode *qr_encode(const char *text)
{
	if (text == NULL || strnlen(text, QR_TEXT_MAX + 1) > QR_TEXT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* 8-bit mode, case kept: the URI's secret and label must come back byte for byte */
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static void qr_free(QRcode *qr)
{
	if (qr == NULL)
		return;
	secret_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

/* Whether the module at (x, y) of the bordered symbol is dark; the border is light. */
static int qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

/*
 * Dark modules are ink (the glyph), light ones the terminal's background, so
 * the code reads right on a dark-on-light terminal; on a light-on-dark one it
 * shows inverted, which most phone scanners read too (else the PNG serves).
 */
int qr_write_terminal(const char *text, FILE *out)
{
	static const char *const glyph[4] = {" ", "\u2580", "\u2584", "\u2588"};
	QRcode *qr = qr_encode(text);
	int side, x, y, r = -1;

	if (qr == NULL || out == NULL)
		goto out;
	side = qr->width + 2 * QR_QUIET;
	for (y = 0; y < side; y += 2) {
		for (x = 0; x < side; x++)
			if (fputs(glyph[qr_dark(qr, x, y) | qr_dark(qr, x, y + 1) << 1], out) ==
			    EOF)
				goto out;
		if (fputc('\n', out) == EOF)
			goto out;
	}
	if (fflush(out) == EOF)
		goto out;
	r = 0;
out:
	qr_free(qr);
	return r;
}

static void qr_png_write(png_structp png, png_bytep data, size_t n)
{
	if (qr_buf_add(png_get_io_ptr(png), data, n) < 0)
		png_error(png, "out of memory");
}

static void qr_png_flush(png_structp png)
{
	(void)png;
}

/* libpng reports through longjmp; stay quiet, the caller says what failed. */
static void qr_png_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void qr_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void qr_png_row(const QRcode *qr, unsigned scale, int y, unsigned char *row)
{
	int side = qr->width + 2 * QR_QUIET, x;

	for (x = 0; x < side; x++)
		memset(row + (size_t)x * scale, qr_dark(qr, x, y) ? 0x00 : 0xff, scale);
}

/* 8-bit grayscale through libpng into b; row is one image row of scratch. */
static int qr_png_encode(const QRcode *qr, unsigned scale, struct qr_buf *b, unsigned char *row)
{
	png_structp png;
	png_infop info = NULL;
	png_uint_32 px = (png_uint_32)(qr->width + 2 * QR_QUIET) * scale;
	volatile int r = -1;
	int y;
	unsigned s;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, qr_png_error, qr_png_warning);
	if (png == NULL)
		return -1;
	if ((info = png_create_info_struct(png)) == NULL)
		goto out;
	if (setjmp(png_jmpbuf(png)) != 0)
		goto out;
	png_set_write_fn(png, b, qr_png_write, qr_png_flush);
	png_set_IHDR(png, info, px, px, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < qr->width + 2 * QR_QUIET; y++) {
		qr_png_row(qr, scale, y, row);
		for (s = 0; s < scale; s++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
	r = 0;
out:
	png_destroy_write_struct(&png, &info);
	return r;
}

int qr_png(const char *text, unsigned scale, unsigned char **png_r, size_t *len_r)
{
	struct qr_buf b = {NULL, 0, 0};
	unsigned char *row = NULL;
	QRcode *qr = NULL;
	size_t px = 0;
	int r = -1;

	*png_r = NULL;
	*len_r = 0;
	if (scale == 0 || scale > QR_SCALE_MAX) {
		errno = EINVAL;
		goto out;
	}
	if ((qr = qr_encode(text)) == NULL)
		goto out;
	px = (size_t)(qr->width + 2 * QR_QUIET) * scale;
	if ((row = malloc(px)) == NULL)
		goto out;
	if (qr_png_encode(qr, scale, &b, row) < 0) {
		errno = ENOMEM;
		goto out;
	}
	*png_r = b.p;
	*len_r = b.len;
	b.p = NULL;
	r = 0;
out:
	qr_buf_free(&b);
	secret_wipe(row, px);
	free(row);
	qr_free(qr);
	return r;
}

static int qr_write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * O_NONBLOCK only so that a FIFO planted at path fails instead of hanging;
 * the mode is forced as O_TRUNC keeps an existing file's.
 */
int qr_write_png_file(const char *text, const char *path)
{
	unsigned char *png = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, r = -1, saved;

	if (qr_png(text, QR_FILE_SCALE, &png, &len) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || qr_write_all(fd, png, len) < 0 || fsync(fd) < 0)
		goto out;
	r = close(fd);
	fd = -1;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	secret_wipe(png, len);
	free(png);
	errno = saved;
	return r;
}

/* One path of horizontal runs, one per stretch of dark modules on a row. */
static int qr_svg_path(const QRcode *qr, struct qr_buf *b)
{
	int x, y, run;

	for (y = 0; y < qr->width; y++) {
		for (x = 0; x < qr->width; x += run) {
			for (run = 0; x + run < qr->width && qr->data[y * qr->width + x + run] & 1;
			     run++)
				;
			if (run == 0) {
				run = 1;
				continue;
			}
			if (qr_buf_printf(b, "M%d %dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run,
			                  run) < 0)
				return -1;
		}
	}
	return 0;
}

int qr_svg(const char *text, char **svg_r, size_t *len_r)
{
	struct qr_buf b = {NULL, 0, 0};
	QRcode *qr = NULL;
	int side, r = -1;

	*svg_r = NULL;
	*len_r = 0;
	if ((qr = qr_encode(text)) == NULL)
		goto out;
	side = qr->width + 2 * QR_QUIET;
	if (qr_buf_printf(&b,
	                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	                  "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
	                  "fill=\"#fff\"/><path fill=\"#000\" d=\"",
	                  side, side, side, side) < 0 ||
	    qr_svg_path(qr, &b) < 0 || qr_buf_printf(&b, "\"/></svg>\n") < 0 ||
	    qr_buf_add(&b, "", 1) < 0) {
		errno = ENOMEM;
		goto out;
	}
	*svg_r = (char *)b.p;
	*len_r = b.len - 1;
	b.p = NULL;
	r = 0;
out:
	qr_buf_free(&b);
	qr_free(qr);
	return r;
}
