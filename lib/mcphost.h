/*
 * The host side of MCP servers as tools: the configuration a run names
 * and the holder process (tool-mcp --hold, lib/mcphold.c) that keeps its
 * servers, as seen by the programs that ask it. A program that has no
 * $LLM_MCP_SOCKET starts a holder for its own lifetime in a private
 * directory and exports the socket to what it runs; requests go to the
 * holder as one JSON line per connection.
 */
#ifndef LLM_MCPHOST_H
#define LLM_MCPHOST_H

#include <sys/types.h>
#include <jv.h>

#define MCP_HOST_CONFIGS 32

struct mcp_host {
	const char *configs[MCP_HOST_CONFIGS + 1]; /* -M FILE..., NULL-ended */
	size_t nconfigs;
	const char *dir;           /* the tools directory, or NULL */
	const char *sandbox;       /* -B for the servers, or NULL */
	int verbose;               /* -v: progress shown on stderr */
	int remove_dir;            /* --remove-dir: the holder's DIR goes with it */
	int set_umask;             /* the servers' umask is umask, */
	mode_t umask;              /* not this process's */
	pid_t holder;              /* the holder started here, or 0 */
	char holder_dir[256];
};

/* Is there anything to hold: -M files, $LLM_MCP_SOCKET, $LLM_MCP_CONFIG
 * or mcp.json in the tools directory (dir, or as toolsdir_find finds
 * it)? */
int mcp_host_configured(const struct mcp_host *h);

/* Unless $LLM_MCP_SOCKET is set, start program --hold (tool-mcp) in a new
 * private directory with h's configuration, and set $LLM_MCP_SOCKET to
 * its socket. Dies (exit 5) when it cannot. */
void mcp_host_start(struct mcp_host *h, const char *program);

/* Stop the holder started by mcp_host_start, with its servers, and
 * remove its directory. Nothing when none was started. */
void mcp_host_stop(struct mcp_host *h);

/* Remove a holder's private directory dir: its socket and the servers'
 * logs (the files named mcp*), then dir if nothing else is left. */
void mcp_host_remove_dir(const char *dir);

/* Send req (consumed) to the holder at $LLM_MCP_SOCKET, waiting a while
 * for one that is starting, and return its answer, an object. Dies
 * when there is none: with the holder's own exit status when it was
 * started here and ended (a bad configuration: 3), else 5. */
jv mcp_host_ask(struct mcp_host *h, jv req);

/* The tools of a listing answer (borrowed), each function object with
 * "mcp": its server, its name there, its inputSchema and its
 * annotations, as tool-mcp -l -R writes them for tool-run. */
jv mcp_host_routed_tools(jv answer);

/* tool-mcp beside the running program (/proc/self/exe), else the first
 * in $PATH, as a full path; malloc'd. */
char *mcp_host_program(void);

#endif
