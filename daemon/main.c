/*
 * verdond: start-up. Reads the config, loads the keys, opens the store,
 * then hands over to the event loop until SIGTERM.
 */
#include <errno.h>
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
#include "daemon.h"
#include "log.h"
#include "penalty.h"
#include "server.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/verdon/verdon.conf"
#define KEY_FILE "verdon.key"

static void usage(void)
{
	fprintf(stderr, "usage: verdond [-n] [-d] [-s] [-c CONFIG]\n"
	                "  -c CONFIG  configuration file (default " DEFAULT_CONFIG ")\n"
	                "  -n         check the configuration and exit\n"
	                "  -d         debug logging\n"
	                "  -s         log to syslog instead of standard error\n");
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

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	bool check = false, debug = false, use_syslog = false;
	struct daemon d = {0};
	char err[1024], keyfile[PATH_MAX];
	int opt, r = 1;

	while ((opt = getopt(argc, argv, "c:ndsh")) != -1) {
		switch (opt) {
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
	if (optind != argc)
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
	if (store_open("lmdb", d.config->state_dir, (size_t)d.config->map_size_mb << 20, &d.store,
	               err, sizeof(err)) != STORE_OK) {
		log_err("%s", err);
		goto out;
	}
	if ((d.auditq = auditq_new()) == NULL || (d.penalty = penalty_new()) == NULL) {
		log_err("out of memory");
		goto out;
	}
	r = server_run(&d);
	/* The workers are joined: what they queued is written before the store closes. */
	auditq_flush(d.auditq, d.store);
	log_info("stopped");
out:
	auditq_free(d.auditq);
	penalty_free(d.penalty);
	store_close(d.store);
	crypto_keys_wipe(&d.keys);
	config_free(d.config);
	return r;
}
