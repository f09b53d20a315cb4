/*
 * verdond: start-up. Reads the config, loads the keys, opens the store,
 * then hands over to the event loop until SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auditq.h"
#include "config.h"
#include "crypto.h"
#include "due.h"
#include "daemon.h"
#include "log.h"
#include "mailer.h"
#include "migrate.h"
#include "mail_limit.h"
#include "observe.h"
#include "penalty.h"
#include "throttle.h"
#include "server.h"
#include "store.h"
#include "store_copy.h"

#define DEFAULT_CONFIG "/etc/verdon/verdon.conf"
#define KEY_FILE "verdon.key"
#define MAIL_LIMIT_CAPACITY 8192 /* accounts and rescue addresses remembered */

static void usage(void)
{
	fprintf(stderr, "usage: verdond [-n] [-d] [-s] [-c CONFIG]\n"
	                "       verdond [-c CONFIG] --copy-to lmdb|postgresql TARGET\n"
	                "  -c CONFIG  configuration file (default " DEFAULT_CONFIG ")\n"
	                "  -n         check the configuration and exit\n"
	                "  -d         debug logging\n"
	                "  -s         log to syslog instead of standard error\n"
	                "  --copy-to  copy this (stopped) node's store to an empty one: a state\n"
	                "             directory for lmdb, a connection string for postgresql\n");
	exit(2);
}

static int state_dir_ready(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_err("%s: not a directory", dir);
		return -1;
	}
	if (st.st_mode & 022) {
		log_err("%s: writable by group or others; run chmod 700 %s", dir, dir);
		return -1;
	}
	return 0;
}

/* The key file goes with an LMDB copy: that is where a node looks for it. */
static int copy_key_file(const char *from_dir, const char *to_dir)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct crypto_keys keys;
	char err[512];
	int fd = -1, r;

	snprintf(from, sizeof(from), "%s/%s", from_dir, KEY_FILE);
	snprintf(to, sizeof(to), "%s/%s", to_dir, KEY_FILE);
	if (access(to, F_OK) == 0)
		return 0;
	if (crypto_keys_load(from, &keys, err, sizeof(err)) < 0) {
		fprintf(stderr, "verdond: %s\n", err);
		return -1;
	}
	r = -1;
	if ((fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0 &&
	    write(fd, keys.seal, sizeof(keys.seal)) == (ssize_t)sizeof(keys.seal) &&
	    write(fd, keys.pepper, sizeof(keys.pepper)) == (ssize_t)sizeof(keys.pepper) &&
	    fsync(fd) == 0)
		r = 0;
	crypto_keys_wipe(&keys);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		fprintf(stderr, "verdond: %s: %s\n", to, strerror(errno));
	return r;
}

/* verdonctl store copy runs this: the daemon's code owns every store. */
static int copy_store(const struct config *c, const char *backend, const char *target)
{
	struct store *from = NULL, *to = NULL;
	char err[1024];
	int r = 1;

	if (strcmp(backend, "lmdb") != 0 && strcmp(backend, "postgresql") != 0) {
		fprintf(stderr, "verdond: --copy-to takes lmdb or postgresql, not \"%s\"\n",
		        backend);
		return 2;
	}
	if (store_open_configured(c, &from, err, sizeof(err)) != STORE_OK ||
	    (strcmp(backend, "lmdb") == 0 &&
	     (state_dir_ready(target) < 0 || copy_key_file(c->state_dir, target) < 0)) ||
	    store_open(backend, target,
	               strcmp(backend, "lmdb") == 0 ? (size_t)c->map_size_mb << 20 : 0, &to, err,
	               sizeof(err)) != STORE_OK) {
		fprintf(stderr, "verdond: %s\n", err);
		goto out;
	}
	if (store_copy(from, to, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "verdond: %s\n", err);
		goto out;
	}
	printf("copy verified: the target holds every row of the source\n");
	r = 0;
out:
	store_close(from);
	store_close(to);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"copy-to", required_argument, NULL, 'C'},
	                                         {NULL, 0, NULL, 0}};
	const char *copy_to = NULL;
	const char *path = DEFAULT_CONFIG;
	bool check = false, debug = false, use_syslog = false;
	struct daemon d = {0};
	char err[1024], keyfile[PATH_MAX];
	int opt, r = 1;

	while ((opt = getopt_long(argc, argv, "c:ndsh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			copy_to = optarg;
			break;
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 's':
			use_syslog = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - (copy_to != NULL ? 1 : 0))
		usage();
	if (config_load(path, &d.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "verdond: %s\n", err);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		config_free(d.config);
		return 0;
	}
	if (copy_to != NULL) {
		umask(077);
		r = copy_store(d.config, copy_to, argv[optind]);
		config_free(d.config);
		return r;
	}
	log_init(!use_syslog, debug || d.config->debug);
	umask(077);
	pthread_rwlock_init(&d.config_lock, NULL);
	d.started = time(NULL);
	snprintf(keyfile, sizeof(keyfile), "%s/%s", d.config->state_dir, KEY_FILE);
	if (state_dir_ready(d.config->state_dir) < 0)
		goto out;
	if (crypto_keys_load(keyfile, &d.keys, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	observe_init(&d.keys);
	if (store_open_configured(d.config, &d.store, err, sizeof(err)) != STORE_OK) {
		log_err("%s", err);
		goto out;
	}
	/* A store made before the binary records has them rewritten once, here. */
	if (records_ready(d.store) != STORE_OK) {
		log_err("store: cannot rewrite the records in the binary form");
		goto out;
	}
	/* A store made before the due-time index gets it once, here: the purge relies on it. */
	if (due_ready(d.store) != STORE_OK) {
		log_err("store: cannot build the due-time index");
		goto out;
	}
	if ((d.auditq = auditq_new()) == NULL || (d.penalty = penalty_new()) == NULL ||
	    (d.throttle = throttle_new()) == NULL ||
	    (d.mail_limit = mail_limit_new(MAIL_LIMIT_CAPACITY)) == NULL) {
		log_err("out of memory");
		goto out;
	}
	/* Nodes sharing a store share their password throttle too (docs/cluster.md). */
	if (store_config_shared(d.config))
		throttle_share(d.throttle, d.store);
	r = server_run(&d);
	/* A mail failing from now on undoes nothing: the store is about to close. */
	mailer_quiesce();
	/* The workers are joined: what they queued is written before the store closes. */
	auditq_flush(d.auditq, d.store);
	if (d.abandoned) {
		/* A worker still hashing uses the keys and the store: leave them to exit. */
		log_info("stopped");
		_exit(r);
	}
	log_info("stopped");
out:
	auditq_free(d.auditq);
	penalty_free(d.penalty);
	throttle_free(d.throttle);
	mail_limit_free(d.mail_limit);
	store_close(d.store);
	crypto_keys_wipe(&d.keys);
	config_free(d.config);
	return r;
}
