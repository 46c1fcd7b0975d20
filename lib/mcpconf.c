/* The configuration of MCP servers: see mcpconf.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "json.h"
#include "mcpconf.h"
#include "toolsdir.h"

/* The servers being read, for add_config. */
struct servers {
	struct mcp_server *list;
	size_t n, max;
	const char *sandbox;      /* -B, or NULL */
};

/* The value of the variable named by [s, end) ("NAME" or
 * "NAME:-default") appended to b. */
static void
expand_one(struct buf *b, const char *s, const char *end)
{
	const char *dash = strstr(s, ":-"), *val;
	char name[256];
	size_t n;

	n = (size_t)((dash != NULL && dash < end ? dash : end) - s);
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	val = getenv(name);
	if ((val == NULL || *val == '\0') && dash != NULL && dash < end)
		buf_append(b, dash + 2, (size_t)(end - dash - 2));
	else if (val != NULL)
		buf_append_str(b, val);
}

/* "${VAR}" and "${VAR:-default}" in s replaced from the environment. */
static jv
expand(const char *s)
{
	struct buf b = {0};
	const char *end;
	jv out;

	while (*s != '\0') {
		if (s[0] != '$' || s[1] != '{' ||
		    (end = strchr(s + 2, '}')) == NULL) {
			buf_append(&b, s++, 1);
			continue;
		}
		expand_one(&b, s + 2, end);
		s = end + 1;
	}
	out = jv_string_sized(b.data ? b.data : "", (int)b.len);
	buf_free(&b);
	return out;
}

/* The array v (consumed) with its strings expanded. */
static jv
expand_array(jv v)
{
	int i, n = jv_array_length(jv_copy(v));

	for (i = 0; i < n; i++) {
		jv a = jv_array_get(jv_copy(v), i);
		if (jv_get_kind(a) == JV_KIND_STRING)
			v = jv_array_set(v, i, expand(jv_string_value(a)));
		jv_free(a);
	}
	return v;
}

/* The string values of the object o (consumed), expanded; the others
 * left out. */
static jv
expand_object(jv o)
{
	jv out = jv_object();
	int it;

	for (it = jv_object_iter(o); jv_object_iter_valid(o, it);
	    it = jv_object_iter_next(o, it)) {
		jv key = jv_object_iter_key(o, it);
		jv val = jv_object_iter_value(o, it);
		if (jv_get_kind(val) == JV_KIND_STRING)
			out = jv_object_set(out, key,
			    expand(jv_string_value(val)));
		else
			jv_free(key);
		jv_free(val);
	}
	jv_free(o);
	return out;
}

/* conf (consumed) with ${VAR} expanded in "args", "url" and the values
 * of "env" and "headers", once, as the configuration is read. */
static jv
expand_conf(jv conf)
{
	static const char *const objects[] = {"env", "headers"};
	jv v = json_get(conf, "args");
	size_t k;

	if (jv_get_kind(v) == JV_KIND_ARRAY)
		conf = jv_object_set(conf, jv_string("args"), expand_array(v));
	else
		jv_free(v);
	if (json_get_str(conf, "url") != NULL)
		conf = jv_object_set(conf, jv_string("url"),
		    expand(json_get_str(conf, "url")));
	for (k = 0; k < 2; k++) {
		jv o = json_get(conf, objects[k]);
		if (jv_get_kind(o) != JV_KIND_OBJECT)
			jv_free(o);
		else
			conf = jv_object_set(conf, jv_string(objects[k]),
			    expand_object(o));
	}
	return conf;
}

/* Milliseconds of conf[key] as seconds, or def. */
static double
conf_ms(jv conf, const char *key, double def)
{
	jv v = json_get(conf, key);
	double d = def;

	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) > 0)
		d = jv_number_value(v) / 1000;
	jv_free(v);
	return d;
}

/* The entry of the server named key: the one read before, else a new
 * one. */
static struct mcp_server *
server_slot(struct servers *all, const char *key, const char *path)
{
	size_t i;

	for (i = 0; i < all->n; i++)
		if (strcmp(all->list[i].key, key) == 0) {
			jv_free(all->list[i].conf);
			return &all->list[i];
		}
	if (all->n == all->max)
		die(EXIT_INPUT, "%s: more than %zu servers", path, all->max);
	memset(&all->list[all->n], 0, sizeof all->list[all->n]);
	all->list[all->n].key = xstrdup(key);
	return &all->list[all->n++];
}

/* Set s from its configuration conf (borrowed). */
static void
server_init(struct mcp_server *s, jv conf, const char *sandbox)
{
	const char *type = json_get_str(conf, "type");
	const char *why = NULL;

	s->conf = expand_conf(jv_copy(conf));
	s->sandbox = json_get_str(s->conf, "sandbox");
	if (s->sandbox == NULL)
		s->sandbox = sandbox;
	s->pid = -1;
	s->in = s->out = -1;
	s->tools = jv_null();
	s->listing = jv_null();
	s->timeout = conf_ms(conf, "timeout", 0);
	s->startup = conf_ms(conf, "startupTimeout", 60);
	if (type != NULL && strcmp(type, "sse") == 0)
		why = "the deprecated HTTP+SSE transport is not supported; "
		    "give its Streamable HTTP URL";
	else if (json_get_str(conf, "url") == NULL &&
	    json_get_str(conf, "command") == NULL)
		why = "neither \"command\" nor \"url\"";
	free(s->error);
	s->error = why != NULL ? xstrdup(why) : NULL;
	s->state = why != NULL ? MCP_S_FAILED : MCP_S_OFF;
}

/* Add the servers of one configuration document; later ones replace
 * earlier ones of the same name. */
static void
add_config(struct servers *all, const char *path)
{
	jv doc = json_read_doc(path, "MCP configuration");
	jv list = json_get(doc, "mcpServers");
	int it;

	if (!jv_is_valid(list)) {
		jv_free(list);
		list = json_get(doc, "servers");
	}
	if (jv_get_kind(list) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "%s: no \"mcpServers\" object", path);
	for (it = jv_object_iter(list); jv_object_iter_valid(list, it);
	    it = jv_object_iter_next(list, it)) {
		jv key = jv_object_iter_key(list, it);
		jv conf = jv_object_iter_value(list, it);

		if (jv_get_kind(conf) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "%s: server %s: not an object", path,
			    jv_string_value(key));
		server_init(server_slot(all, jv_string_value(key), path), conf,
		    all->sandbox);
		jv_free(conf);
		jv_free(key);
	}
	jv_free(list);
	jv_free(doc);
}

size_t
mcp_conf_load(const struct mcp_host *h, struct mcp_server *servers,
    size_t max)
{
	struct servers all = {servers, 0, max, h->sandbox};
	const char *env = getenv("LLM_MCP_CONFIG");
	size_t i;

	if (h->nconfigs > 0) {
		for (i = 0; i < h->nconfigs; i++)
			add_config(&all, h->configs[i]);
	} else if (env != NULL && *env != '\0') {
		add_config(&all, env);
	} else {
		int configured;
		char *dir = toolsdir_find(h->dir, &configured);
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/mcp.json", dir);
		if (stat(path, &st) == 0)
			add_config(&all, path);
		free(dir);
	}
	return all.n;
}

int
mcp_conf_disabled(const struct mcp_server *s)
{
	jv v = json_get(s->conf, "disabled");
	int d = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return d;
}

int
mcp_conf_exposes(const struct mcp_server *s, const char *tool)
{
	jv list = json_get(s->conf, "tools");

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return 1;
	}
	return json_array_has_string(list, tool);
}
