/*
 * The process of a stdio MCP server: its argv (its sandbox wrapper,
 * "command", "args"), its environment (the tools' allowlist and its
 * "env"), its limits and namespaces as tool-run gives a tool, its
 * stderr in a log file, and its end with everything it left. The
 * caller owns the descriptors and the process it gets.
 */
#ifndef LLM_MCPSPAWN_H
#define LLM_MCPSPAWN_H

#include "mcpserver.h"

/* Start s's process in a process group (or namespaces) of its own, its
 * stderr appended to log_dir/mcp-KEY.log: s->pid, s->in (its stdin) and
 * s->out (its stdout, non-blocking) are set. Dies (exit 5) when there
 * is no pipe or process to be had. */
void mcp_spawn(struct mcp_server *s, const char *log_dir);

/* Wait for process pid to end: after grace seconds SIGTERM, after
 * twice that SIGKILL, to its process group too; then kill what it left
 * in its group. */
void mcp_spawn_end(pid_t pid, double grace);

#endif
