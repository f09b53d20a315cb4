#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"

struct tmpdir {
	char dir[64];
	char key[128];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/verdon-test-crypto-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->key, sizeof(t->key), "%s/verdon.key", t->dir);
}

static void tmpdir_remove(struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, size_t len, mode_t mode)
{
	uint8_t buf[128] = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_true(len <= sizeof(buf));
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void fixed_keys(struct crypto_keys *k)
{
	for (int i = 0; i < CRYPTO_KEY_LEN; i++) {
		k->seal[i] = (uint8_t)(0x80 + i);
		k->pepper[i] = (uint8_t)i;
	}
}

static void test_keys_create_and_reload(void **state)
{
	struct crypto_keys a, b;
	struct tmpdir t;
	struct stat st;
	uint8_t raw[64];
	char err[256] = "";
	int fd;

	(void)state;
	tmpdir_make(&t);
	assert_int_equal(crypto_keys_load(t.key, &a, err, sizeof(err)), 0);
	assert_int_equal(lstat(t.key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 64);
	fd = open(t.key, O_RDONLY);
	assert_int_equal(read(fd, raw, sizeof(raw)), 64);
	close(fd);
	assert_memory_equal(raw, a.seal, 32);
	assert_memory_equal(raw + 32, a.pepper, 32);
	assert_memory_not_equal(a.seal, a.pepper, 32);

	assert_int_equal(crypto_keys_load(t.key, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	crypto_keys_wipe(&b);
	assert_memory_equal(&b, &(struct crypto_keys){0}, sizeof(b));
	crypto_keys_wipe(NULL);
	tmpdir_remove(&t);
}

enum setup { FILE_MODE, SYMLINK, DIRECTORY, OTHER_OWNER, NO_DIR };

static void test_keys_refused(void **state)
{
	static const struct {
		enum setup setup;
		mode_t mode;
		size_t size;
		const char *why;
	} rows[] = {
	    {FILE_MODE, 0640, 64, "readable by group or others (mode 0640); run chmod 600 "},
	    {FILE_MODE, 0604, 64, "readable by group or others (mode 0604); run chmod 600 "},
	    {FILE_MODE, 0620, 64, "(mode 0620)"},
	    {FILE_MODE, 0601, 64, "(mode 0601)"},
	    {FILE_MODE, 0600, 63, "63 bytes, a key file has exactly 64"},
	    {FILE_MODE, 0600, 65, "65 bytes"},
	    {FILE_MODE, 0600, 0, "0 bytes"},
	    {FILE_MODE, 0400, 32, "32 bytes"},
	    {SYMLINK, 0600, 64, "is a symbolic link"},
	    {DIRECTORY, 0700, 0, "not a regular file"},
	    {OTHER_OWNER, 0600, 64, "owned by uid 1, not by the daemon's uid"},
	    {NO_DIR, 0, 0, "cannot create"},
	};
	struct crypto_keys k;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tmpdir t;
		char err[512] = "", target[160];

		tmpdir_make(&t);
		switch (rows[i].setup) {
		case FILE_MODE:
			write_file(t.key, rows[i].size, rows[i].mode);
			break;
		case SYMLINK:
			snprintf(target, sizeof(target), "%s/real.key", t.dir);
			write_file(target, 64, 0600);
			assert_int_equal(symlink(target, t.key), 0);
			break;
		case DIRECTORY:
			assert_int_equal(mkdir(t.key, rows[i].mode), 0);
			break;
		case OTHER_OWNER:
			if (geteuid() != 0) {
				tmpdir_remove(&t);
				continue;
			}
			write_file(t.key, 64, 0600);
			assert_int_equal(chown(t.key, 1, 1), 0);
			break;
		case NO_DIR:
			snprintf(t.key, sizeof(t.key), "%s/missing/verdon.key", t.dir);
			break;
		}
		assert_int_equal(crypto_keys_load(t.key, &k, err, sizeof(err)), -1);
		if (strncmp(err, t.key, strlen(t.key)) != 0 || strstr(err, rows[i].why) == NULL)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, err, rows[i].why);
		tmpdir_remove(&t);
	}
}

/* err is optional. */
static void test_keys_err_may_be_null(void **state)
{
	struct crypto_keys k;

	(void)state;
	assert_int_equal(crypto_keys_load("/nonexistent-dir/verdon.key", &k, NULL, 0), -1);
}

/* Vectors from Python's hmac module over key 00..1f. */
static void test_hmac_vectors(void **state)
{
	static const struct {
		const char *domain, *data, *hex;
	} rows[] = {
	    {"password", "abc", "7809c300abd27940fc87f5cb55648e5e060e41221cd8160b69713006fb97ac04"},
	    {"secret", "", "e9d50b4d409dd6373c2d8491f9b966fd6d32624d1c0b66c472d3ce3febdd5d95"},
	};
	struct crypto_keys k;
	char hex[2 * CRYPTO_HMAC_LEN + 1];

	(void)state;
	fixed_keys(&k);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		crypto_hmac_hex(&k, rows[i].domain, rows[i].data, strlen(rows[i].data), hex);
		assert_string_equal(hex, rows[i].hex);
	}
}

static void test_hmac_domains(void **state)
{
	struct crypto_keys k, other;
	uint8_t a[32], b[32];

	(void)state;
	fixed_keys(&k);
	fixed_keys(&other);
	other.pepper[31] ^= 1;
	crypto_hmac(&k, "password", "abc", 3, a);
	crypto_hmac(&k, "password", "abc", 3, b);
	assert_memory_equal(a, b, 32);
	crypto_hmac(&k, "secret", "abc", 3, b);
	assert_memory_not_equal(a, b, 32);
	/* The 0x00 separator: "ab"|"c" and "a"|"bc" differ. */
	crypto_hmac(&k, "ab", "c", 1, a);
	crypto_hmac(&k, "a", "bc", 2, b);
	assert_memory_not_equal(a, b, 32);
	crypto_hmac(&other, "ab", "c", 1, b);
	assert_memory_not_equal(a, b, 32);
	/* Data is bytes, not a string. */
	crypto_hmac(&k, "x", "a\0b", 3, a);
	crypto_hmac(&k, "x", "a\0c", 3, b);
	assert_memory_not_equal(a, b, 32);
}

static void test_hex(void **state)
{
	static const uint8_t data[] = {0x00, 0x01, 0xab, 0xff, 0x10};
	char out[11];

	(void)state;
	crypto_hex(data, sizeof(data), out);
	assert_string_equal(out, "0001abff10");
	crypto_hex(data, 0, out);
	assert_string_equal(out, "");
}

static void test_seal_round_trip(void **state)
{
	static const size_t lens[] = {0, 1, 16, 20, 64, 4096};
	struct crypto_keys k;
	uint8_t plain[4096], back[4096];
	char *s1, *s2;
	size_t n;

	(void)state;
	fixed_keys(&k);
	assert_int_equal(crypto_random(plain, sizeof(plain)), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(crypto_seal(&k, "jdupont", plain, lens[i], &s1), 0);
		assert_int_equal(crypto_seal(&k, "jdupont", plain, lens[i], &s2), 0);
		/* A fresh nonce each time. */
		assert_string_not_equal(s1, s2);
		assert_int_equal(crypto_open(&k, "jdupont", s1, back, sizeof(back), &n), 0);
		assert_int_equal(n, lens[i]);
		assert_memory_equal(back, plain, n);
		assert_int_equal(strlen(s1), 4 * ((12 + lens[i] + 16 + 2) / 3));
		free(s1);
		free(s2);
	}
	s1 = (char *)1;
	assert_int_equal(crypto_seal(&k, "jdupont", plain, 4097, &s1), -1);
	assert_null(s1);
}

static void expect_open_fails(const struct crypto_keys *k, const char *aad, const char *sealed,
                              size_t cap)
{
	uint8_t back[64];
	size_t n = 99;

	memset(back, 0xaa, sizeof(back));
	assert_int_equal(crypto_open(k, aad, sealed, back, cap, &n), -1);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(back[i], 0);
}

static void test_open_refuses(void **state)
{
	static const char *const bad[] = {"", "AAAA", "not base64!", "QUJD", "QUJDRA=="};
	struct crypto_keys k, other;
	uint8_t raw[64];
	char *s, *t;
	size_t n;

	(void)state;
	fixed_keys(&k);
	fixed_keys(&other);
	other.seal[0] ^= 1;
	assert_int_equal(crypto_seal(&k, "jdupont", (const uint8_t *)"JBSWY3DPEHPK3PXP", 16, &s),
	                 0);
	expect_open_fails(&k, "jdupont2", s, 64);
	expect_open_fails(&k, "", s, 64);
	expect_open_fails(&other, "jdupont", s, 64);
	expect_open_fails(&k, "jdupont", s, 15);
	/* One bit flipped in the nonce, the ciphertext and the tag. */
	assert_int_equal(crypto_b64_decode(s, raw, sizeof(raw), &n), 0);
	assert_int_equal(n, 12 + 16 + 16);
	for (size_t pos = 0; pos < n; pos += 7) {
		raw[pos] ^= 0x01;
		t = crypto_b64_encode(raw, n);
		expect_open_fails(&k, "jdupont", t, 64);
		free(t);
		raw[pos] ^= 0x01;
	}
	t = crypto_b64_encode(raw, n - 1);
	expect_open_fails(&k, "jdupont", t, 64);
	free(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_open_fails(&k, "jdupont", bad[i], 64);
	free(s);
}

/* RFC 4648 section 10. */
static void test_b64_vectors(void **state)
{
	static const struct {
		const char *plain, *text;
	} rows[] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	uint8_t out[16];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text =
		    crypto_b64_encode((const uint8_t *)rows[i].plain, strlen(rows[i].plain));
		assert_string_equal(text, rows[i].text);
		free(text);
		assert_int_equal(crypto_b64_decode(rows[i].text, out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(rows[i].plain));
		assert_memory_equal(out, rows[i].plain, n);
	}
}

static void test_b64_refuses(void **state)
{
	static const struct {
		const char *text;
		size_t cap;
	} rows[] = {
	    {"Zg=", 16},    {"Zg", 16},      {"Z===", 16},  {"Zg=a", 16},     {"====", 16},
	    {"Zm9v\n", 16}, {" Zm9v", 16},   {"Zm 9v", 16}, {"Zm9v====", 16}, {"Zm-_", 16},
	    {"Zm9v", 2},    {"Zm9vYg==", 3}, {"=Zm9", 16},
	};
	uint8_t out[16];
	size_t n = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (crypto_b64_decode(rows[i].text, out, rows[i].cap, &n) != -1)
			fail_msg("row %zu: \"%s\" accepted", i, rows[i].text);
		assert_int_equal(n, 0);
	}
	/* Exactly enough room is enough. */
	assert_int_equal(crypto_b64_decode("Zm9vYg==", out, 4, &n), 0);
	assert_int_equal(n, 4);
}

static void test_b64_round_trip(void **state)
{
	uint8_t data[64], back[64];
	size_t n;

	(void)state;
	assert_int_equal(crypto_random(data, sizeof(data)), 0);
	for (size_t len = 0; len <= 64; len++) {
		char *text = crypto_b64_encode(data, len);
		assert_non_null(text);
		assert_int_equal(strlen(text), 4 * ((len + 2) / 3));
		assert_int_equal(crypto_b64_decode(text, back, len, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, data, len);
		free(text);
	}
}

static void test_random(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_create_and_reload),
	    cmocka_unit_test(test_keys_refused),
	    cmocka_unit_test(test_keys_err_may_be_null),
	    cmocka_unit_test(test_hmac_vectors),
	    cmocka_unit_test(test_hmac_domains),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_seal_round_trip),
	    cmocka_unit_test(test_open_refuses),
	    cmocka_unit_test(test_b64_vectors),
	    cmocka_unit_test(test_b64_refuses),
	    cmocka_unit_test(test_b64_round_trip),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
