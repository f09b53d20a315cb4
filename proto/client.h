/*
 * A small blocking client of the line protocol, for verdonctl, the PAM
 * module and tests. Every call is bounded by the client's timeout.
 */
#ifndef VERDON_CLIENT_H
#define VERDON_CLIENT_H

#include <stddef.h>

struct proto_msg;
struct proto_writer;
struct proto_client;

/*
 * Connects to a unix socket and exchanges VERSION lines. On failure
 * returns -1 with a message in err (e.g. "connect /run/verdon/auth.sock:
 * No such file or directory").
 */
int proto_client_connect(const char *path, int timeout_ms, struct proto_client **client_r,
                         char *err, size_t errlen);
/*
 * The same, with a first finished request (proto_end called; may be NULL)
 * sent in the same write as our VERSION line: a one-request client (the PAM
 * module) waits for the daemon once, not twice. Its answer follows VERSION.
 */
int proto_client_open(const char *path, int timeout_ms, const struct proto_writer *first,
                      struct proto_client **client_r, char *err, size_t errlen);
/* Sends one finished line (proto_end called). 0 or -1. */
int proto_client_send(struct proto_client *client, const struct proto_writer *w);
/*
 * Reads one answer line and parses it; msg_r points into the client's buffer
 * until the next call. 0, or -1 on timeout, EOF, an oversized or malformed line.
 */
int proto_client_recv(struct proto_client *client, struct proto_msg *msg_r);
/* After the last request: shutdown(SHUT_WR), so the server knows no more is coming. */
void proto_client_half_close(struct proto_client *client);
const char *proto_client_error(const struct proto_client *client);
/* Wipes the buffers (answers may carry secrets) and closes. NULL is a no-op. */
void proto_client_free(struct proto_client *client);

#endif
