/*
 * The HTTP under the Streamable HTTP transport of an MCP server: listen
 * on an address, read one request (head and Content-Length body, bounded
 * in size and time) and write one whole response on a connection that
 * then closes. Nothing here prints or exits, but for running out of
 * memory (xmalloc).
 */
#ifndef LLM_MCPHTTP_H
#define LLM_MCPHTTP_H

#include <stddef.h>

#include <jv.h>

#include "common.h"

struct mcphttp_request {
	char *method, *path;  /* path: the target without its query */
	jv headers;           /* lower-case name -> value */
	struct buf body;
};

/* Listen on spec, "ADDRESS:PORT" ("127.0.0.1:8080", "[::1]:0",
 * "localhost:0"; port 0: a free one): the listening descriptor
 * (non-blocking, close-on-exec), with the port bound in *port and
 * whether the address is a loopback one in *loopback; -1 with why
 * (whylen bytes) saying what failed. Called with *loopback set, only a
 * loopback address is taken: another one is -2, never bound. A spec
 * that is not an address is -3. */
int mcphttp_listen(const char *spec, int *port, int *loopback, char *why,
    size_t whylen);

/* Read one request from fd within timeout_ms: 0 when complete, an HTTP
 * status when it is refused (400, 411, 413, 431, 501), -1 when the
 * client went away or fell silent. req is set in every case. */
int mcphttp_read(int fd, struct mcphttp_request *req, int timeout_ms,
    size_t body_max);

void mcphttp_request_free(struct mcphttp_request *req);

/* A header of req (name in lower case), or NULL. */
const char *mcphttp_header(const struct mcphttp_request *req,
    const char *name);

/* Write a whole response and "Connection: close": the status, the extra
 * header lines (each ending in CRLF, or NULL), a body of type ctype (or
 * none when ctype is NULL). 0, or -1 with errno. */
int mcphttp_respond(int fd, int status, const char *headers,
    const char *ctype, const char *body, size_t len);

/* Has the client of fd closed its end (a request it gave up on)? */
int mcphttp_peer_closed(int fd);

#endif
