/* Model Context Protocol facts shared by client and server: see mcp.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "json.h"
#include "mcp.h"
#include "schema.h"

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
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '=')
		n--;
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

char *
mcp_header_value(const char *value)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(value), i, o = 0;
	const unsigned char *u = (const unsigned char *)value;
	int plain = n == 0 || (value[0] != ' ' && value[0] != '\t' &&
	    value[n - 1] != ' ' && value[n - 1] != '\t');
	char *out;

	for (i = 0; i < n && plain; i++)
		plain = u[i] >= 0x20 && u[i] <= 0x7e;
	if (plain)
		return xstrdup(value);
	out = xmalloc((n + 2) / 3 * 4 + 16);    /* "=?base64?" and "?=" */
	o = (size_t)sprintf(out, "=?base64?");
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = b64[u[i] >> 2];
		out[o++] = b64[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		out[o++] = b64[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)];
		out[o++] = b64[u[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = b64[u[i] >> 2];
		if (i + 1 < n) {
			out[o++] = b64[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
			out[o++] = b64[(u[i + 1] & 15) << 2];
		} else {
			out[o++] = b64[(u[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	strcpy(out + o, "?=");
	return out;
}

int
mcp_header_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p > 0x7e || *p == ':')
			return 0;
	return 1;
}

int
mcp_schema_headers_valid(jv input_schema, const char **why)
{
	jv props = json_get(input_schema, "properties"), seen = jv_array();
	int it, ok = 1, i, n;

	if (jv_get_kind(props) == JV_KIND_OBJECT)
		for (it = jv_object_iter(props); ok &&
		    jv_object_iter_valid(props, it);
		    it = jv_object_iter_next(props, it)) {
			jv p = jv_object_iter_value(props, it);
			jv h = json_get(p, "x-mcp-header");
			const char *type = json_get_str(p, "type");

			if (jv_is_valid(h)) {
				if (jv_get_kind(h) != JV_KIND_STRING ||
				    !mcp_header_name_valid(jv_string_value(h))) {
					*why = "an x-mcp-header name is not "
					    "valid";
					ok = 0;
				} else if (type == NULL || (strcmp(type,
				    "string") != 0 && strcmp(type, "integer") !=
				    0 && strcmp(type, "boolean") != 0)) {
					*why = "an x-mcp-header is on a property "
					    "not of type string, integer or "
					    "boolean";
					ok = 0;
				} else {
					n = jv_array_length(jv_copy(seen));
					for (i = 0; i < n && ok; i++) {
						jv o = jv_array_get(jv_copy(seen),
						    i);
						if (strcasecmp(jv_string_value(o),
						    jv_string_value(h)) == 0) {
							*why = "two properties "
							    "have the same "
							    "x-mcp-header";
							ok = 0;
						}
						jv_free(o);
					}
					seen = jv_array_append(seen, jv_copy(h));
				}
			}
			jv_free(h);
			jv_free(p);
		}
	jv_free(seen);
	jv_free(props);
	return ok;
}

jv
mcp_param_headers(jv input_schema, jv args)
{
	jv props = json_get(input_schema, "properties"), out = jv_object();
	int it;

	if (jv_get_kind(props) != JV_KIND_OBJECT ||
	    jv_get_kind(args) != JV_KIND_OBJECT) {
		jv_free(props);
		return out;
	}
	for (it = jv_object_iter(props); jv_object_iter_valid(props, it);
	    it = jv_object_iter_next(props, it)) {
		jv k = jv_object_iter_key(props, it);
		jv p = jv_object_iter_value(props, it);
		const char *h = json_get_str(p, "x-mcp-header");
		jv v = jv_object_get(jv_copy(args), jv_copy(k));
		jv text = jv_invalid();

		if (h != NULL && mcp_header_name_valid(h)) {
			if (jv_get_kind(v) == JV_KIND_STRING)
				text = jv_copy(v);
			else if (jv_get_kind(v) == JV_KIND_NUMBER ||
			    jv_get_kind(v) == JV_KIND_TRUE ||
			    jv_get_kind(v) == JV_KIND_FALSE)
				text = jv_dump_string(jv_copy(v), 0);
		}
		if (jv_is_valid(text)) {
			char *enc = mcp_header_value(jv_string_value(text));
			out = jv_object_set(out, jv_string_fmt("Mcp-Param-%s", h),
			    jv_string(enc));
			free(enc);
		}
		jv_free(text);
		jv_free(v);
		jv_free(p);
		jv_free(k);
	}
	jv_free(props);
	return out;
}
