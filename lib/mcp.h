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

/* The name under which a server's tool is offered to a model: prefix +
 * name with every character outside [A-Za-z0-9_-] made "_"; longer than
 * 64 bytes, its first 55 bytes, "_" and 8 hex digits of a hash of the
 * whole, so that the name is stable and matches ^[A-Za-z0-9_-]{1,64}$.
 * out holds at least 65 bytes. */
void mcp_tool_name(const char *prefix, const char *name, char out[65]);

/* A value as an HTTP header of the modern era (Mcp-Name, Mcp-Param-*):
 * as it is when it is printable ASCII without a blank at either end,
 * else "=?base64?...?=" of its bytes. malloc'd. */
char *mcp_header_value(const char *value);

/* Is name a valid x-mcp-header name: printable ASCII, at least one
 * character, no space and no colon? */
int mcp_header_name_valid(const char *name);

/* Are the x-mcp-header annotations of a tool's inputSchema (borrowed)
 * valid: each a valid name, on a property of type string, integer or
 * boolean, no name twice (ignoring case)? 1, or 0 with *why set. */
int mcp_schema_headers_valid(jv input_schema, const char **why);

/* The Mcp-Param-NAME headers of a call: {"Mcp-Param-Region": "..."} for
 * every x-mcp-header property of input_schema that args has, not null;
 * values encoded by mcp_header_value. Both borrowed. */
jv mcp_param_headers(jv input_schema, jv args);

/* The text a model reads for a tools/call result (borrowed): text blocks
 * joined by newlines; structuredContent alone as compact JSON, checked
 * against output_schema (borrowed; null for none); images, audio and
 * blobs as "[TYPE, N bytes, not shown]"; resource links as
 * "[resource URI]". Sets *is_error when the server said isError or the
 * structured content breaks the schema. A malloc'd string. */
char *mcp_result_text(jv result, jv output_schema, int *is_error);

#endif
