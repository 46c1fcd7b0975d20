/*
 * A small HTTP/1.1 server on the loopback interface, for test servers
 * and local endpoints: listens on 127.0.0.1 (port 0: a free one, which
 * httpd_listen reports), reads requests with caps on the head and the
 * body, and writes responses whole (Content-Length) or in pieces
 * (chunked, or an event stream ended by closing).  One connection at a
 * time is read; httpd_serve keeps a connection open for the next
 * request as HTTP/1.1 says, unless the handler keeps the connection for
 * itself (to answer it from another process) or either side asks to
 * close.
 *
 *	httpd_init(&h);
 *	if ((port = httpd_listen(&h, 0, why)) < 0) ...
 *	while (!stop)
 *		if ((fd = httpd_accept(&h)) >= 0)
 *			httpd_serve(&h, fd, handler, ctx);
 *	httpd_close(&h);
 *
 * Nothing here prints or exits, but for running out of memory (xmalloc).
 */
#ifndef LLM_HTTPD_H
#define LLM_HTTPD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include <jv.h>

#include "common.h"

struct httpd {
	int listen_fd;
	size_t head_max;  /* largest request line + headers (1 MiB) */
	size_t body_max;  /* largest request body (64 MiB) */
	int idle_ms;      /* a client silent this long is dropped (10 s) */
	int linger_ms;    /* how long a close waits for the client's (1 s) */
	/* Optional: a descriptor that turns readable when the server should
	 * look up (a signal's self-pipe), the function then run, and a flag
	 * that, once set, ends every wait. */
	int wake_fd;
	void (*on_wake)(void *ctx);
	void *wake_ctx;
	volatile sig_atomic_t *stop;
};

struct http_request {
	char *method, *target, *path; /* path: target without the query */
	int minor;                    /* HTTP/1.minor */
	jv headers;                   /* lower-case name -> value */
	struct buf body;
};

struct http_response {
	int status;
	const char *ctype;  /* Content-Type, or NULL */
	int sized;          /* send Content-Length (else the end is the close) */
	struct buf headers; /* more header lines, each "Name: value\r\n" */
	struct buf body;
};

/* What a handler did with the connection. */
enum {
	HTTPD_KEEP = 0,  /* answered: read the next request if both sides may */
	HTTPD_CLOSE = 1, /* answered: close the connection */
	HTTPD_TAKEN = 2  /* the handler owns fd now (httpd_serve only closes
	                    its own copy) */
};

/* Handle one request on fd: status is 0 for a complete request, else the
 * status it is refused with (400, 411, 413, 431; req holds what was
 * parsed). Returns HTTPD_KEEP, HTTPD_CLOSE or HTTPD_TAKEN. */
typedef int httpd_handler(void *ctx, int fd, struct http_request *req,
    int status);

void httpd_init(struct httpd *h);
/* Listen on 127.0.0.1:port (0: any free port): the port bound, or -1
 * with why (READ_WHY_MAX bytes) saying what failed. */
int httpd_listen(struct httpd *h, long port, char *why);
/* Wait for a connection: its descriptor; -1 when there is none yet
 * (woken, stopped, or accept failed: errno EMFILE or ENFILE when out of
 * descriptors); -2 when waiting itself failed (errno). */
int httpd_accept(struct httpd *h);
/* Serve requests on fd until the handler or the client closes it, the
 * client falls silent, or the server stops; closes fd. */
void httpd_serve(struct httpd *h, int fd, httpd_handler *handler, void *ctx);
void httpd_close(struct httpd *h);

/* Listen on spec, "ADDRESS:PORT" ("127.0.0.1:8080", "[::1]:0",
 * "localhost:0"; port 0: a free one), for a server others may reach:
 * the port bound, with *loopback set to whether the address is a
 * loopback one; -1 with why when it cannot be bound. Called with
 * *loopback set, only a loopback address is taken: another one is -2,
 * never bound. A spec that is not an address is -3. */
int httpd_listen_at(struct httpd *h, const char *spec, int *loopback,
    char *why);

/* Has the client of fd closed its end (given up on its request)? */
int http_peer_closed(int fd);

/* Read one request from fd into req (zeroed first): 0 when complete, an
 * HTTP status when refused, -1 when the client is to be dropped without
 * an answer (silence, EOF, a stop). Sends "100 Continue" when asked. */
int httpd_read_request(struct httpd *h, int fd, struct http_request *req);
void http_request_free(struct http_request *req);
/* Does req let the connection stay open (HTTP/1.1 unless "close")? */
int http_request_keep_alive(const struct http_request *req);

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);
/* Make n bytes at p the body of r. */
void http_set_body(struct http_response *r, int status, const char *ctype,
    const char *p, size_t n);
/* Make v (consumed) the JSON body of r. */
void http_set_json(struct http_response *r, int status, jv v);
/* The status line and headers of r into out: Content-Length when sized,
 * "Transfer-Encoding: chunked" when chunked, and "Connection: close"
 * unless keep_alive. */
void http_format_head(struct buf *out, const struct http_response *r,
    int chunked, int keep_alive);
/* Write the head of r alone (chunked: the body follows in chunks); 0,
 * or -1 with errno. */
int http_send_head(int fd, const struct http_response *r, int chunked,
    int keep_alive);
/* Write r whole; 0, or -1 with errno. */
int http_send(int fd, const struct http_response *r, int keep_alive);
/* Write one chunk of a chunked body (n == 0: the last); 0 or -1. */
int http_send_chunk(int fd, const char *p, size_t n);

const char *http_reason(int status);
/* Is s an HTTP token (a header name, a method)? */
int http_is_token(const char *s);
/* Close after the client has read the answer: half-close, then wait up
 * to linger_ms for its end, so unread bytes do not reset the line. */
void httpd_linger_close(const struct httpd *h, int fd);

#endif
