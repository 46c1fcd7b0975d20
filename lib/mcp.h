/*
 * The Model Context Protocol facts that both ends here share: protocol
 * revisions, JSON-RPC error codes and the _meta keys of the modern era.
 * The client (tool-mcp) and the server (tool-serve) add their own
 * functions to lib/mcp.c; what both need is declared here once.
 */
#ifndef LLM_MCP_H
#define LLM_MCP_H

#include <jv.h>

/* The newest revision, which has no handshake and no sessions. */
#define MCP_MODERN_VERSION "2026-07-28"
/* The newest revision with the initialize handshake, which every
 * server and SDK on npm speaks today. */
#define MCP_LEGACY_VERSION "2025-11-25"

/* Every revision understood, newest first; NULL-terminated. */
extern const char *const mcp_versions[];

/* Is version one of the handshake-era revisions (2025-11-25 and older)? */
int mcp_version_is_legacy(const char *version);
/* Is version one of mcp_versions? */
int mcp_version_known(const char *version);

/* JSON-RPC 2.0 error codes. */
enum {
	MCP_PARSE_ERROR = -32700,
	MCP_INVALID_REQUEST = -32600,
	MCP_METHOD_NOT_FOUND = -32601,
	MCP_INVALID_PARAMS = -32602,
	MCP_INTERNAL_ERROR = -32603,
	MCP_HEADER_MISMATCH = -32020,
	MCP_MISSING_CLIENT_CAPABILITY = -32021,
	MCP_UNSUPPORTED_VERSION = -32022
};

/* The _meta keys of a modern request and result. */
#define MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CLIENT_CAPS "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT_INFO "io.modelcontextprotocol/clientInfo"
#define MCP_META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

/* mcp_versions as a JSON array. */
jv mcp_versions_array(void);

/* A JSON-RPC response carrying result; both consumed. */
jv mcp_result(jv id, jv result);

/* A JSON-RPC error response (id null when invalid; data left out when
 * invalid); all consumed. */
jv mcp_error(jv id, int code, jv message, jv data);

/* The error for a protocol version that is not one of mcp_versions,
 * with the supported list as data (requested may be NULL). */
jv mcp_unsupported_version(jv id, const char *requested);

/* params._meta[key] (params borrowed), or jv_invalid() when absent. */
jv mcp_meta(jv params, const char *key);

#endif
