/* The event loop: listeners, connections, signals, and the worker pool. */
#ifndef VERDON_SERVER_H
#define VERDON_SERVER_H

struct daemon;

/* Serves until SIGTERM or SIGINT; 0 after a clean stop, 1 when start-up failed. */
int server_run(struct daemon *d);

#endif
