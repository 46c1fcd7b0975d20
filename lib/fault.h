/*
 * The faults llm-mock injects into a response, as a reply spec asks:
 * its status and header lines, a delay before the answer, a connection
 * dropped without one, a body cut short, a body sent in slow pieces.
 */
#ifndef LLM_FAULT_H
#define LLM_FAULT_H

#include <jv.h>

#include "common.h"
#include "httpd.h"

#define FAULT_MS_MAX 86400000L /* longest delay: a day */

struct faults {
	long delay_ms;       /* before the answer */
	long chunk_bytes;    /* send the body in pieces this large (0: whole) */
	long chunk_delay_ms; /* between those pieces */
	long truncate;       /* send only this many body bytes (-1: all) */
	int drop;            /* close without an answer */
	int own_ctype;       /* the reply's headers set Content-Type */
};

void faults_init(struct faults *f);
/* Record what is wrong in why (replacing what it held); returns -1. */
int problem(struct buf *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The status, headers and faults of the reply spec (borrowed) into r
 * and f: 0, or -1 with why. */
int faults_read(jv reply, struct http_response *r, struct faults *f,
    struct buf *why);
/* Send r on fd with the faults applied (Connection: close). */
void faults_send(int fd, struct http_response *r, const struct faults *f);

#endif
