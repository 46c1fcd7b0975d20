/* Model Context Protocol facts shared by client and server: see mcp.h. */
#include <string.h>

#include "json.h"

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

jv
mcp_versions_array(void)
{
	jv a = jv_array();
	size_t i;

	for (i = 0; mcp_versions[i] != NULL; i++)
		a = jv_array_append(a, jv_string(mcp_versions[i]));
	return a;
}

jv
mcp_result(jv id, jv result)
{
	return JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), id, jv_string("result"), result);
}

jv
mcp_error(jv id, int code, jv message, jv data)
{
	jv err = JV_OBJECT(jv_string("code"), jv_number(code),
	    jv_string("message"), message);

	if (jv_is_valid(data))
		err = jv_object_set(err, jv_string("data"), data);
	else
		jv_free(data);
	if (!jv_is_valid(id))
		id = jv_null();
	return JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), id, jv_string("error"), err);
}

jv
mcp_unsupported_version(jv id, const char *requested)
{
	return mcp_error(id, MCP_UNSUPPORTED_VERSION, jv_string_fmt(
	    "unsupported protocol version \"%.40s\"", requested ? requested :
	    ""), JV_OBJECT(jv_string("supported"), mcp_versions_array(),
	    jv_string("requested"), requested ? jv_string(requested) :
	    jv_null()));
}

jv
mcp_meta(jv params, const char *key)
{
	jv meta;

	if (jv_get_kind(params) != JV_KIND_OBJECT)
		return jv_invalid();
	meta = jv_object_get(jv_copy(params), jv_string("_meta"));
	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		return jv_invalid();
	}
	if (!jv_object_has(jv_copy(meta), jv_string(key))) {
		jv_free(meta);
		return jv_invalid();
	}
	return jv_object_get(meta, jv_string(key));
}
