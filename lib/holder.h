/*
 * The connection holder: one process (llm-holder) keeps libcurl's
 * connections open on a Unix socket, and every llm-request that names
 * the socket ($LLM_HOLDER) has its HTTP transfers made there, so that a
 * whole run uses one TCP and TLS connection. Only the transport moves:
 * the client keeps its retries, its checks and its output, and sees the
 * headers and the body arrive as libcurl would hand them to it.
 *
 * On the socket, each side writes records: a type byte, a 4-byte
 * big-endian length, that many bytes. The client sends V (protocol
 * version), U (URL), H (a header, repeated), B (body), T ("timeout
 * connect idle" in ms), C (CA file), P (CA directory), E ("NAME=VALUE"
 * of each transport variable set), Z (end). The holder answers R (will
 * not serve: the client goes directly), or h (a header line), i
 * ("status content-type", before the first body byte), b (body bytes)
 * and last e ("curlcode status stalled", a newline, the error text).
 */
#ifndef LLM_HOLDER_H
#define LLM_HOLDER_H

#include <curl/curl.h>
#include <stddef.h>

#include "common.h"
#include "http.h"

#define HOLDER_VERSION "1"
/* The largest record: a request body as large as llm-request reads. */
#define HOLDER_RECORD_MAX ((size_t)256 << 20)

/* holder_perform's answer when there is no holder to use. */
#define HOLDER_BYPASS (-1)

/* What the holder said about the response, for the client's callbacks. */
struct holder_reply {
	long status;
	char content_type[256];
	int stalled;          /* the body stalled longer than the idle time */
};

/*
 * Make call's transfer through the holder at socket_path, handing the
 * header lines to on_header and the body to on_body (userp for both)
 * as curl_easy_perform would. held is filled before the first body
 * byte is handed over. Returns the transfer's CURLcode (errbuf, of
 * CURL_ERROR_SIZE bytes, says why), or HOLDER_BYPASS when no holder of
 * this user answers there, or it will not serve this request, or it
 * goes away before it has the whole request. A holder that goes away
 * later is a failed transfer (CURLE_RECV_ERROR).
 */
int holder_perform(const char *socket_path, const struct http_call *call,
    curl_write_callback on_header, curl_write_callback on_body, void *userp,
    struct holder_reply *held, char *errbuf);

/* One record out: 0, or -1 with errno. */
int holder_send(int fd, char type, const void *data, size_t len);

/* One record in, NUL-terminated in data: 1, 0 at end of file, -1 on an
 * error or a record longer than max. */
int holder_recv(int fd, char *type, struct buf *data, size_t max);

#endif
