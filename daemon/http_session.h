/*
 * The self-service page's cookie sessions: an in-memory table, lost at
 * restart (people log in again). Ids are 32 random bytes in base64url; the
 * table keeps only their SHA-256, so a lookup's timing says nothing about a
 * live id and a memory dump gives no cookie. Bounded: when full, the session
 * idle longest makes room. Pure but for the random ids: time is a parameter.
 */
#ifndef VERDON_HTTP_SESSION_H
#define VERDON_HTTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ident.h"

#define HTTP_SESSION_ID_LEN 43 /* base64url of 32 bytes, unpadded */
#define HTTP_SESSIONS_MAX 10000

enum http_stage {
	HTTP_STAGE_ENROLL, /* right password, an authenticator to set up first */
	HTTP_STAGE_FULL,
};

struct http_session_info {
	char identifiant[IDENT_MAX + 1];
	enum http_stage stage;
	time_t since; /* the session knows the password as it was then */
};

struct http_sessions;

struct http_sessions *http_sessions_new(unsigned max, unsigned idle, unsigned lifetime);
void http_sessions_free(struct http_sessions *s); /* wipes every entry */

/* A new session; its id in id_r. -1 when no random bytes or a bad identifiant. */
int http_session_create(struct http_sessions *s, const char *identifiant, enum http_stage stage,
                        time_t now, char id_r[HTTP_SESSION_ID_LEN + 1]);
/* 0 with the session's state (and its idle clock restarted); -1 when unknown or expired. */
int http_session_get(struct http_sessions *s, const char *id, time_t now,
                     struct http_session_info *info_r);
int http_session_set_stage(struct http_sessions *s, const char *id, enum http_stage stage);
/* After the person changed the password through this session. */
int http_session_set_since(struct http_sessions *s, const char *id, time_t since);
/* The pending enrollment's otpauth URI, kept for the QR images; NULL wipes it. */
int http_session_set_uri(struct http_sessions *s, const char *id, const char *uri);
/* 0 with a copy in buf (wipe it); -1 when none or too long for buf. */
int http_session_get_uri(struct http_sessions *s, const char *id, char *buf, size_t len);
void http_session_end(struct http_sessions *s, const char *id);
/* Ends every session of a person but keep_id's (NULL: all); returns how many ended. */
unsigned http_session_end_person(struct http_sessions *s, const char *identifiant,
                                 const char *keep_id);
unsigned http_session_count(struct http_sessions *s, time_t now);

#endif
