/*
 * The HTTP front of tool-serve: MCP messages as POSTs to /mcp
 * (lib/httpd.c), one per request, answered in the response, with the
 * checks of the Streamable HTTP transport: a bearer token when one is
 * set (needed off loopback), the Origin and Host of this machine (no DNS
 * rebinding), the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers
 * matching the body. Closing a request cancels its call. The front owns
 * its socket and token; each connection is closed here or handed to
 * its call (mcp_serve_handle).
 */
#ifndef LLM_MCPFRONT_H
#define LLM_MCPFRONT_H

#include <jv.h>

/* Listen on spec (ADDRESS:PORT; port 0: a free one), with the token of
 * token_file's first line (or NULL for none); say where on stderr. A
 * bad spec or a non-loopback address without a token is a usage error
 * (exit 2), an unreadable token file exit 3, no socket exit 5. */
void mcp_front_listen(const char *spec, const char *token_file);

/* The listening socket, or -1 when not serving HTTP. */
int mcp_front_fd(void);

/* Take the connections waiting on the socket: each request answered
 * and closed, or handed to its call. */
void mcp_front_accept(void);

/* Write msg (consumed) as the JSON answer of the request on fd. */
void mcp_front_answer(int fd, jv msg, int status);

/* Close the socket and forget the token. */
void mcp_front_close(void);

#endif
