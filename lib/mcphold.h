/*
 * The holder of MCP servers (tool-mcp --hold DIR): the one process that
 * starts the servers of a configuration, keeps them for its lifetime
 * and serves listings and calls on the Unix socket DIR/mcp.sock, one
 * JSON request per connection: {"op": "list"} is answered with the
 * tools of every ready server ({"exit", "tools", "routes", "warnings"}),
 * {"op": "call", "name", "arguments"} with {"exit", "output"}. Between
 * servers the first name wins; each warning is given once. The holder
 * owns its servers, its connections and their requests.
 */
#ifndef LLM_MCPHOLD_H
#define LLM_MCPHOLD_H

#include "mcphost.h"

/* Be the holder of h's servers at dir until idle seconds pass unused,
 * or a signal, or the death of the parent; the servers' stderr goes to
 * dir/mcp-KEY.log. Exits 0, or 128 + the signal. */
_Noreturn void mcp_hold(const struct mcp_host *h, const char *dir,
    double idle);

#endif
