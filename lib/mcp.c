/* Model Context Protocol facts shared by client and server: see mcp.h. */
#include <string.h>

#include "mcp.h"

const char *const mcp_versions[] = {
	MCP_MODERN_VERSION, MCP_LEGACY_VERSION, "2025-06-18", "2025-03-26",
	"2024-11-05", NULL
};

int
mcp_version_known(const char *version)
{
	size_t i;

	for (i = 0; version != NULL && mcp_versions[i] != NULL; i++)
		if (strcmp(version, mcp_versions[i]) == 0)
			return 1;
	return 0;
}

int
mcp_version_is_legacy(const char *version)
{
	return mcp_version_known(version) &&
	    strcmp(version, MCP_MODERN_VERSION) != 0;
}
