/*
 * The configuration of MCP servers (mcp.json, -M, $LLM_MCP_CONFIG): each
 * server's entry read once, "${VAR}" and "${VAR:-default}" in its
 * "args", "url", "env" and "headers" expanded from the environment as
 * it is read, and what the entry says of the server ("disabled",
 * "tools"). The servers' array is the caller's; each entry's key and
 * conf belong to it.
 */
#ifndef LLM_MCPCONF_H
#define LLM_MCPCONF_H

#include "mcphost.h"
#include "mcpserver.h"

/* Read the configuration files of h: its -M files, else
 * $LLM_MCP_CONFIG, else DIR/mcp.json when it exists; later servers
 * replace earlier ones of the same name. The servers into servers (at
 * most max; more are an error); how many. Dies (exit 3) on a file that
 * is not a configuration. */
size_t mcp_conf_load(const struct mcp_host *h, struct mcp_server *servers,
    size_t max);

/* Is s "disabled" by its configuration? */
int mcp_conf_disabled(const struct mcp_server *s);

/* Does the server's "tools" list, when it has one, name tool? */
int mcp_conf_exposes(const struct mcp_server *s, const char *tool);

#endif
