/* Model Context Protocol facts shared by client and server: see mcp.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "schema.h"

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

void
mcp_tool_name(const char *prefix, const char *name, char out[65])
{
	size_t n = 0, i;
	uint32_t h = 2166136261u;
	char c;
	const char *parts[2] = {prefix, name};
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; parts[k] != NULL && parts[k][i] != '\0'; i++) {
			c = parts[k][i];
			h = (h ^ (unsigned char)c) * 16777619u;
			if (n < 64)
				out[n] = isalnum((unsigned char)c) || c == '_' ||
				    c == '-' ? c : '_';
			n++;
		}
	if (n > 64)
		snprintf(out + 55, 10, "_%08x", (unsigned)h);
	else if (n == 0)
		out[n++] = '_';
	out[n > 64 ? 64 : n] = '\0';
}

/* The size in bytes of base64 text s. */
static size_t
base64_size(const char *s)
{
	size_t n = strlen(s), pad = 0;

	while (n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	return n * 3 / 4;
}

/* One content block as text, appended to out. */
static void
content_text(jv block, struct buf *out)
{
	const char *type = json_get_str(block, "type");
	const char *text = json_get_str(block, "text");
	const char *mime = json_get_str(block, "mimeType");
	char line[600];

	if (type == NULL)
		type = "?";
	if (strcmp(type, "text") == 0 && text != NULL) {
		buf_append_str(out, text);
		return;
	}
	if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
		const char *data = json_get_str(block, "data");
		snprintf(line, sizeof line, "[%s, %zu bytes, not shown]",
		    mime != NULL ? mime : type, data ? base64_size(data) : 0);
	} else if (strcmp(type, "resource_link") == 0) {
		const char *uri = json_get_str(block, "uri");
		snprintf(line, sizeof line, "[resource %.500s]",
		    uri != NULL ? uri : "?");
	} else if (strcmp(type, "resource") == 0) {
		jv res = json_get(block, "resource");
		const char *rtext = json_get_str(res, "text");
		const char *blob = json_get_str(res, "blob");
		const char *rmime = json_get_str(res, "mimeType");
		if (rtext != NULL) {
			buf_append_str(out, rtext);
			jv_free(res);
			return;
		}
		snprintf(line, sizeof line, "[%s, %zu bytes, not shown]",
		    rmime != NULL ? rmime : "resource",
		    blob != NULL ? base64_size(blob) : 0);
		jv_free(res);
	} else {
		snprintf(line, sizeof line, "[%.100s content, not shown]", type);
	}
	buf_append_str(out, line);
}

char *
mcp_result_text(jv result, jv output_schema, int *is_error)
{
	jv content = json_get(result, "content");
	jv structured = json_get(result, "structuredContent");
	jv err = json_get(result, "isError");
	struct buf out = {0};
	int i, n;

	*is_error = jv_get_kind(err) == JV_KIND_TRUE;
	jv_free(err);
	if (jv_is_valid(structured) && !*is_error) {
		if (jv_get_kind(output_schema) == JV_KIND_OBJECT) {
			jv problems = schema_check(output_schema, structured);
			if (jv_array_length(jv_copy(problems)) > 0) {
				jv first = jv_array_get(problems, 0);
				buf_append_str(&out, "the server's structured "
				    "result breaks its outputSchema: ");
				buf_append_str(&out, jv_string_value(first));
				jv_free(first);
				*is_error = 1;
			} else {
				jv_free(problems);
			}
		}
		if (!*is_error) {
			jv s = jv_dump_string(jv_copy(structured), 0);
			buf_append_str(&out, jv_string_value(s));
			jv_free(s);
		}
	} else if (jv_get_kind(content) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(content));
		for (i = 0; i < n; i++) {
			jv block = jv_array_get(jv_copy(content), i);
			if (i > 0)
				buf_append_str(&out, "\n");
			content_text(block, &out);
			jv_free(block);
		}
	}
	jv_free(content);
	jv_free(structured);
	buf_append(&out, "", 1);
	return out.data;
}
