/* QR rendering: the PNG decodes back (zbarimg), the terminal and SVG forms match the modules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <qrencode.h>

#include "qr.h"

#define QUIET 4

static const char *const texts[] = {
    "otpauth://totp/Verdon:jdupont?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Verdon"
    "&algorithm=SHA1&digits=6&period=30",
    "otpauth://totp/Acad%C3%A9mie%20de%20Lyon:jean.dupont%40ac-lyon.fr?secret=GEZDGNBVGY3TQOJQ"
    "GEZDGNBVGY3TQOJQ&issuer=Acad%C3%A9mie%20de%20Lyon&digits=8&algorithm=SHA256",
    "MixedCase lower UPPER 0123",
    "a",
};

struct tmpdir {
	char path[64];
};

static void tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/test_qr.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmp_file(const struct tmpdir *t, const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", t->path, name);
}

static void tmp_remove(const struct tmpdir *t, const char *const *names)
{
	char path[128];

	for (; *names != NULL; names++) {
		tmp_file(t, *names, path, sizeof(path));
		unlink(path);
	}
	assert_int_equal(rmdir(t->path), 0);
}

/* What zbarimg reads from an image file, trailing newline dropped. */
static void zbar_decode(const char *path, char *out, size_t outlen)
{
	char cmd[256];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q '%s' 2>/dev/null", path);
	assert_non_null(p = popen(cmd, "r"));
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

static QRcode *reference(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	assert_non_null(qr);
	return qr;
}

static int ref_dark(const QRcode *qr, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

static void test_png_file_decodes(void **state)
{
	const char *const names[] = {"qr.png", NULL};
	char path[128], got[1024];
	struct tmpdir t;
	struct stat st;
	size_t i;

	(void)state;
	tmp_make(&t);
	tmp_file(&t, "qr.png", path, sizeof(path));
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(qr_write_png_file(texts[i], path), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		zbar_decode(path, got, sizeof(got));
		assert_string_equal(got, texts[i]);
	}
	tmp_remove(&t, names);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_png_memory(void **state)
{
	static const unsigned scales[] = {1, 3, 32};
	const char *const names[] = {"mem.png", NULL};
	char path[128], got[1024];
	unsigned char *png;
	struct tmpdir t;
	size_t len, i;
	QRcode *qr = reference(texts[0]);
	FILE *f;

	(void)state;
	tmp_make(&t);
	tmp_file(&t, "mem.png", path, sizeof(path));
	for (i = 0; i < sizeof(scales) / sizeof(scales[0]); i++) {
		assert_int_equal(qr_png(texts[0], scales[i], &png, &len), 0);
		assert_true(len > 33);
		assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
		/* IHDR: width, height, bit depth 8, color type 0 (gray) */
		assert_memory_equal(png + 12, "IHDR", 4);
		assert_int_equal(be32(png + 16), (qr->width + 2 * QUIET) * scales[i]);
		assert_int_equal(be32(png + 20), (qr->width + 2 * QUIET) * scales[i]);
		assert_int_equal(png[24], 8);
		assert_int_equal(png[25], 0);
		if (scales[i] > 1) {
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(png, 1, len, f), len);
			assert_int_equal(fclose(f), 0);
			zbar_decode(path, got, sizeof(got));
			assert_string_equal(got, texts[0]);
		}
		free(png);
	}
	QRcode_free(qr);
	tmp_remove(&t, names);
}

static void test_png_refusals(void **state)
{
	static const unsigned bad_scales[] = {0, 33, 1000000};
	unsigned char *png = (unsigned char *)"x";
	char long_text[3000];
	size_t len = 1, i;

	(void)state;
	for (i = 0; i < sizeof(bad_scales) / sizeof(bad_scales[0]); i++) {
		assert_int_equal(qr_png(texts[0], bad_scales[i], &png, &len), -1);
		assert_null(png);
		assert_int_equal(len, 0);
	}
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(qr_png(long_text, 4, &png, &len), -1);
	assert_int_equal(qr_png(NULL, 4, &png, &len), -1);
}

static void test_png_file_safety(void **state)
{
	const char *const names[] = {"link", "target", "old", NULL};
	char link[128], target[128], old[128], buf[16];
	struct tmpdir t;
	struct stat st;
	FILE *f;

	(void)state;
	tmp_make(&t);
	tmp_file(&t, "link", link, sizeof(link));
	tmp_file(&t, "target", target, sizeof(target));
	tmp_file(&t, "old", old, sizeof(old));
	/* a symlink is refused and its target left alone */
	assert_non_null(f = fopen(target, "w"));
	fputs("keep", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(qr_write_png_file(texts[0], link), -1);
	assert_int_equal(errno, ELOOP);
	assert_non_null(f = fopen(target, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "keep");
	/* an existing readable file is replaced and made private */
	assert_non_null(f = fopen(old, "w"));
	fputs("some longer old content that must go", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(old, 0644), 0);
	assert_int_equal(qr_write_png_file(texts[0], old), 0);
	assert_int_equal(stat(old, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_non_null(f = fopen(old, "rb"));
	assert_int_equal(fread(buf, 1, 8, f), 8);
	fclose(f);
	assert_memory_equal(buf, "\x89PNG\r\n\x1a\n", 8);
	/* a directory is no place for it */
	assert_int_equal(qr_write_png_file(texts[0], t.path), -1);
	tmp_remove(&t, names);
}

/* The module pair a terminal cell shows, or -1 for a character that is not allowed. */
static int cell(const char **p)
{
	static const char *const glyph[4] = {" ", "\u2580", "\u2584", "\u2588"};
	int i;

	for (i = 0; i < 4; i++) {
		if (strncmp(*p, glyph[i], strlen(glyph[i])) == 0) {
			*p += strlen(glyph[i]);
			return i;
		}
	}
	return -1;
}

static void test_terminal(void **state)
{
	char *out = NULL, *line, *save = NULL;
	size_t len = 0, i;
	int lines, x, y, c;
	QRcode *qr;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		qr = reference(texts[i]);
		assert_non_null(f = open_memstream(&out, &len));
		assert_int_equal(qr_write_terminal(texts[i], f), 0);
		assert_int_equal(fclose(f), 0);
		lines = 0;
		for (line = strtok_r(out, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *p = line;

			y = 2 * lines++;
			for (x = 0; *p != '\0'; x++) {
				assert_in_range(c = cell(&p), 0, 3);
				assert_int_equal(c & 1, ref_dark(qr, x, y));
				assert_int_equal(c >> 1, ref_dark(qr, x, y + 1));
			}
			assert_int_equal(x, qr->width + 2 * QUIET);
		}
		assert_int_equal(lines, (qr->width + 2 * QUIET + 1) / 2);
		free(out);
		out = NULL;
		QRcode_free(qr);
	}
	assert_int_equal(qr_write_terminal(NULL, stdout), -1);
}

/* Paints the path's runs ("Mx yhNv1h-Nz") into a bordered module grid. */
static void svg_paint(const char *d, int side, unsigned char *grid)
{
	int x, y, w, w2, n, k;

	while (*d != '"') {
		assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &n), 4);
		assert_int_equal(w, w2);
		assert_true(x >= 0 && y >= 0 && w > 0 && x + w <= side && y < side);
		for (k = 0; k < w; k++)
			grid[y * side + x + k] = 1;
		d += n;
	}
}

static void test_svg(void **state)
{
	const char *xmlns = "xmlns=\"http://www.w3.org/2000/svg\"", *p, *d;
	char *svg, want[128];
	unsigned char *grid;
	size_t len, i;
	int side, x, y;
	QRcode *qr;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		qr = reference(texts[i]);
		side = qr->width + 2 * QUIET;
		assert_int_equal(qr_svg(texts[i], &svg, &len), 0);
		assert_int_equal(strlen(svg), len);
		assert_memory_equal(svg, "<svg", 4);
		assert_non_null(p = strstr(svg, xmlns));
		assert_null(strstr(p + strlen(xmlns), "http"));
		assert_true(strstr(svg, "http") == p + strlen("xmlns=\""));
		assert_null(strstr(svg, "href"));
		snprintf(want, sizeof(want), "viewBox=\"0 0 %d %d\"", side, side);
		assert_non_null(strstr(svg, want));
		snprintf(want, sizeof(want), "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>",
		         side, side);
		assert_non_null(strstr(svg, want));
		assert_string_equal(svg + len - 7, "</svg>\n");
		assert_non_null(d = strstr(svg, " d=\""));
		assert_non_null(grid = calloc((size_t)side * (size_t)side, 1));
		svg_paint(d + 4, side, grid);
		for (y = 0; y < side; y++)
			for (x = 0; x < side; x++)
				assert_int_equal(grid[y * side + x], ref_dark(qr, x, y));
		free(grid);
		free(svg);
		QRcode_free(qr);
	}
	assert_int_equal(qr_svg(NULL, &svg, &len), -1);
	assert_null(svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_png_file_decodes), cmocka_unit_test(test_png_memory),
	    cmocka_unit_test(test_png_refusals),     cmocka_unit_test(test_png_file_safety),
	    cmocka_unit_test(test_terminal),         cmocka_unit_test(test_svg),
	};

	return cmocka_run_group_tests_name("qr", tests, NULL, NULL);
}
