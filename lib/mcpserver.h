/*
 * One MCP server as the holder (tool-mcp --hold) keeps it: its entry in the
 * configuration (lib/mcpconf.c), its process (lib/mcpspawn.c) or its
 * Streamable HTTP connection (lib/mcphttp.c), and the session over
 * either: the probe that tells the eras apart (server/discover, else
 * initialize), the tool listing page by page, the requests in flight,
 * and a restart or two when a ready server dies. The session owns the
 * requests in flight; the one who asks for a call owns the caller it
 * names and hears back through the hooks (mcp_server_hooks). The
 * configuration owns key and conf; the session owns the rest.
 */
#ifndef LLM_MCPSERVER_H
#define LLM_MCPSERVER_H

#include <sys/types.h>
#include <jv.h>

#include "common.h"

/* Where a server is on its way to being ready. */
enum {
	MCP_S_OFF, MCP_S_PROBE, MCP_S_INIT, MCP_S_LIST, MCP_S_READY,
	MCP_S_FAILED
};

struct mcp_http;

struct mcp_server {
	char *key;                /* its name in the configuration */
	jv conf;                  /* its object in the configuration */
	const char *sandbox;      /* its "sandbox", else -s; or NULL */
	double timeout, startup;  /* seconds; 0 = none */
	int state, modern, restarts, stale;
	char *error;              /* why it failed, once MCP_S_FAILED */
	pid_t pid;
	int in, out;
	struct mcp_http *http;    /* a Streamable HTTP server, once started */
	struct buf rbuf;
	double deadline;          /* of the start-up */
	jv tools, listing;        /* tools as listed; pages so far */
	char version[16];
};

/* What a call tells the one who asked for it (see mcp_server_call). */
struct mcp_call_hooks {
	/* The call of caller ended: tool-mcp's exit code (0, 1 when the
	 * tool failed, else an EXIT_* code) and the text (consumed). */
	void (*answer)(void *caller, int code, jv text);
	/* A progress notification of caller's call (params borrowed). */
	void (*progress)(void *caller, jv params);
};

/* The hooks of every call from now on. */
void mcp_server_hooks(const struct mcp_call_hooks *hooks);

/* Start s: its process (a server's stderr goes to log_dir/mcp-KEY.log)
 * or its HTTP connection, then the probe. On failure s is
 * MCP_S_FAILED with its error set. */
void mcp_server_start(struct mcp_server *s, const char *log_dir);

/* s failed to start or died: why says how. Its calls get an error; a
 * server that was ready is started again later, at most 3 times. */
void mcp_server_lost(struct mcp_server *s, const char *why);

/* End s's process (stdin closed, then SIGTERM, then SIGKILL, grace
 * seconds apart) or its HTTP connection. */
void mcp_server_stop(struct mcp_server *s, double grace);

/* Read what s's process wrote and handle each whole message. */
void mcp_server_read(struct mcp_server *s);

/* At time now: give up a start-up past its deadline, send initialize to
 * a silent probe, and lower *wait to the next deadline of s. */
void mcp_server_tick(struct mcp_server *s, double now, double *wait);

/* List the tools of a ready s again when it said they changed. */
void mcp_server_refresh(struct mcp_server *s);

/* Send a tools/call for caller to a ready s: the tool of route
 * (borrowed: its "tool", "inputSchema" and "outputSchema") with args
 * (borrowed). Its id, which is also its progress token. */
long mcp_server_call(struct mcp_server *s, void *caller, jv route,
    jv args);

/* caller stopped waiting for its call id on s: forget it and tell s. */
void mcp_server_cancel(struct mcp_server *s, void *caller, long id);

#endif
