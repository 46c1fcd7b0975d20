/*
 * The Streamable HTTP transport of MCP, client side: each JSON-RPC
 * message is a POST to the server's URL; the answer is a JSON body or a
 * stream of server-sent events carrying responses and notifications,
 * handed to a callback as they arrive. Transfers of every server share
 * one libcurl multi handle, driven from the caller's poll loop
 * (mcp_http_pollfds, mcp_http_perform). Legacy servers (2025-11-25 and
 * older) get their Mcp-Session-Id back on every message, and a DELETE
 * when the connection is closed; modern ones get the revision, method
 * and name headers of each request. No redirects are followed; plain
 * http only to a loopback host.
 */
#ifndef LLM_MCPHTTP_H
#define LLM_MCPHTTP_H

#include <poll.h>
#include <jv.h>

struct mcp_http;

/* A message from the server (consumed by the callee). */
typedef void mcp_http_message_fn(void *ctx, jv msg);
/* The request of id (borrowed; null for a notification) got no answer:
 * why, and whether trying again later may help (5xx, network) or not
 * (4xx). status is the HTTP status, 0 when there was none. */
typedef void mcp_http_failure_fn(void *ctx, jv id, long status,
    const char *why);

/* A connection to url with the extra headers (an object of strings,
 * consumed). NULL with *why set (static text) when url is not usable. */
struct mcp_http *mcp_http_new(const char *url, jv headers,
    mcp_http_message_fn *on_message, mcp_http_failure_fn *on_failure,
    void *ctx, const char **why);

/* The revision agreed on: sent as MCP-Protocol-Version from now on. */
void mcp_http_set_version(struct mcp_http *h, const char *version);

/* POST msg (consumed) with the extra headers (an object of strings
 * already encoded, or null; consumed). */
void mcp_http_send(struct mcp_http *h, jv msg, jv extra);

/* Stop waiting for the answer of request id (borrowed): its stream is
 * closed, which cancels it on a modern server. */
void mcp_http_abort(struct mcp_http *h, jv id);

/* End the session (DELETE, at most 2 s, when the server gave one) and
 * every transfer; free h. */
void mcp_http_close(struct mcp_http *h);

/* Fill at most max pollfds with what the transfers wait for; *timeout_ms
 * is lowered to libcurl's next deadline. The number filled. */
int mcp_http_pollfds(struct pollfd *pfd, int max, int *timeout_ms);

/* Move the transfers on after a poll; the callbacks run from here. */
void mcp_http_perform(void);

#endif
