/*
 * The server side of MCP over a tools directory (tool-serve): the
 * listing of tool-run read once as MCP tool objects; both protocol eras
 * answered (the initialize handshake of 2025-11-25 and older, the
 * per-request _meta of 2026-07-28 and server/discover); tools/call run
 * as tool-run runs a call (lib/runner.c), several at once, each
 * answered when it ends; notifications/cancelled stops a call on
 * stdio. Messages come one per line on stdin, answers leave one per line
 * on stdout, or both over HTTP (lib/mcpfront.c). The listing and the
 * calls in flight are owned here; the runner is the caller's.
 */
#ifndef LLM_MCPSERVE_H
#define LLM_MCPSERVE_H

#include <jv.h>

#include "runner.h"

/* The longest message taken, on a line or in a request body. */
#define MCP_SERVE_MESSAGE_MAX ((size_t)64 << 20)

/* Read the listing of r, set up, once: what a host sees is fixed for
 * the run. */
void mcp_serve_init(struct runner *r);

/* One message from the host (consumed): the answer to send now, or
 * jv_invalid() (a notification, a response, or a call that answers
 * later). conn is the HTTP connection of the message, which a call then
 * owns and answers on, or -1 on stdio. */
jv mcp_serve_handle(jv msg, int conn);

/* Read, run and answer: until the end of stdin, when every running call
 * is stopped; for good over HTTP (once mcp_front_listen listens). A host
 * gone from stdout ends the process (exit 5). */
void mcp_serve_run(void);

void mcp_serve_free(void);

#endif
