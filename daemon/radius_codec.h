/*
 * The RADIUS wire format (RFC 2865, 2869, 3579, 5997), pure: decoding and
 * encoding packets, User-Password hiding, the Request and Response
 * Authenticators and Message-Authenticator. No sockets, no clock, no state:
 * daemon/radius.c is the front end, tests/fuzz/fuzz_radius.c feeds it bytes.
 */
#ifndef VERDON_RADIUS_CODEC_H
#define VERDON_RADIUS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RADIUS_HEADER_LEN 20
#define RADIUS_PACKET_MAX 4096 /* RFC 2865 3 */
#define RADIUS_AUTH_LEN 16
#define RADIUS_ATTRS_MAX 128    /* attributes kept of one packet; more: malformed */
#define RADIUS_PASSWORD_MAX 128 /* RFC 2865 5.2 */
#define RADIUS_STRING_MAX 253

enum radius_code {
	RADIUS_ACCESS_REQUEST = 1,
	RADIUS_ACCESS_ACCEPT = 2,
	RADIUS_ACCESS_REJECT = 3,
	RADIUS_ACCOUNTING_REQUEST = 4,
	RADIUS_ACCESS_CHALLENGE = 11,
	RADIUS_STATUS_SERVER = 12,
};

enum radius_attr_type {
	RADIUS_USER_NAME = 1,
	RADIUS_USER_PASSWORD = 2,
	RADIUS_CHAP_PASSWORD = 3,
	RADIUS_REPLY_MESSAGE = 18,
	RADIUS_STATE = 24,
	RADIUS_CLASS = 25,
	RADIUS_SESSION_TIMEOUT = 27,
	RADIUS_CALLING_STATION_ID = 31,
	RADIUS_PROXY_STATE = 33,
	RADIUS_EAP_MESSAGE = 79,
	RADIUS_MESSAGE_AUTHENTICATOR = 80,
	RADIUS_VENDOR_SPECIFIC = 26,
};

enum radius_error {
	RADIUS_OK = 0,
	RADIUS_ERR_SHORT,    /* fewer bytes than a header or than Length says */
	RADIUS_ERR_LENGTH,   /* Length below 20 or above 4096 */
	RADIUS_ERR_ATTR,     /* an attribute shorter than 2 or running past Length */
	RADIUS_ERR_TOO_MANY, /* more than RADIUS_ATTRS_MAX attributes */
	RADIUS_ERR_MA,       /* a Message-Authenticator not 18 bytes long, or two */
};

struct radius_attr {
	uint8_t type;
	uint8_t len;          /* of the value */
	const uint8_t *value; /* points into the packet */
};

struct radius_packet {
	const uint8_t *data; /* the packet as received, Length bytes */
	size_t len;
	uint8_t code, id;
	const uint8_t *authenticator; /* data + 4 */
	unsigned nattrs;
	struct radius_attr attrs[RADIUS_ATTRS_MAX];
	int ma_index; /* the Message-Authenticator's attribute index, -1 without one */
};

/* Checks the framing of buf (a datagram may carry trailing bytes: ignored, RFC 2865 3). */
int radius_decode(const uint8_t *buf, size_t len, struct radius_packet *p_r);
const char *radius_error_str(int error);
/* The first attribute of a type, or NULL. */
const struct radius_attr *radius_find(const struct radius_packet *p, uint8_t type);

/* A request's Message-Authenticator, in constant time; false without one. */
bool radius_request_ma_ok(const struct radius_packet *p, const uint8_t *secret, size_t slen);
/* A reply's Message-Authenticator and Response Authenticator for the request's authenticator. */
bool radius_reply_ok(const struct radius_packet *p, const uint8_t req_auth[RADIUS_AUTH_LEN],
                     const uint8_t *secret, size_t slen);

/*
 * User-Password revealed (RFC 2865 5.2) into out (RADIUS_PASSWORD_MAX + 1),
 * its trailing NUL padding removed. -1 when the value is not 16 to 128 bytes
 * in steps of 16, or holds a NUL inside.
 */
int radius_password_reveal(const struct radius_attr *a, const uint8_t req_auth[RADIUS_AUTH_LEN],
                           const uint8_t *secret, size_t slen, char *out, size_t *len_r);
/* The other way, for clients (tests, bench): out gets RADIUS_PASSWORD_MAX bytes at most. */
int radius_password_hide(const char *pw, size_t len, const uint8_t req_auth[RADIUS_AUTH_LEN],
                         const uint8_t *secret, size_t slen, uint8_t *out, size_t *len_r);

/* A packet being built. */
struct radius_writer {
	uint8_t buf[RADIUS_PACKET_MAX];
	size_t len;
	bool overflow;
	bool has_ma;
};

/*
 * Starts a packet; with_ma puts a Message-Authenticator first (BlastRADIUS:
 * a reply whose first attribute is the MA cannot be forged by a prefix).
 * auth is the Request Authenticator (a reply) or the random one (a request).
 */
void radius_begin(struct radius_writer *w, uint8_t code, uint8_t id,
                  const uint8_t auth[RADIUS_AUTH_LEN], bool with_ma);
/* Appends an attribute; a value over 253 bytes or a full packet sets overflow. */
void radius_add(struct radius_writer *w, uint8_t type, const void *value, size_t len);
/* Sets Length, the MA and (reply) the Response Authenticator. -1 on overflow. */
int radius_finish_reply(struct radius_writer *w, const uint8_t *secret, size_t slen);
int radius_finish_request(struct radius_writer *w, const uint8_t *secret, size_t slen);

#endif
