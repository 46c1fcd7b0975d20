/* The tools directory: see toolsdir.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "toolsdir.h"

char *
toolsdir_find(const char *opt, int *configured)
{
	const char *env = getenv("LLM_TOOLS_DIR"), *base, *home;
	size_t n;
	char *p;

	*configured = 0;
	if (opt != NULL)
		return xstrdup(opt);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	*configured = 1;
	base = getenv("XDG_CONFIG_HOME");
	if (base != NULL && *base == '/')
		return toolsdir_path(base, "llm-tools/tools.d");
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		home = "/";
	n = strlen(home) + sizeof "/.config/llm-tools/tools.d";
	p = xmalloc(n);
	snprintf(p, n, "%s/.config/llm-tools/tools.d",
	    strcmp(home, "/") == 0 ? "" : home);
	return p;
}

char *
toolsdir_unsafe(const char *path)
{
	struct stat st;
	size_t n = strlen(path) * 2 + 200;
	char *why;

	if (stat(path, &st) != 0)
		return NULL;    /* what is not there is reported elsewhere */
	why = xmalloc(n);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		snprintf(why, n, "%s is owned by user %lu, not by you or root; "
		    "refused (make it yours: chown %lu %s)", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid(), path);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, n, "%s is writable by %s; refused (fix: chmod "
		    "go-w %s)", path, st.st_mode & S_IWOTH ? "others" :
		    "its group", path);
	else {
		free(why);
		return NULL;
	}
	return why;
}

char *
toolsdir_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int
toolsdir_is_tool(const char *dir, const char *name)
{
	struct stat st;
	char *path;
	int ok;

	if (!valid_tool_name(name))
		return 0;
	path = toolsdir_path(dir, name);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
	free(path);
	return ok;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Warn about DIR/name when it looks meant as a tool but cannot be one:
 * not executable beside its sidecar, or a #! line ending in CR (the
 * kernel looks for an interpreter named "sh\r"). */
static void
warn_broken_tool(const char *dir, const char *name)
{
	char *path = toolsdir_path(dir, name), *sidecar, head[256];
	struct stat st;
	ssize_t n = -1;
	int fd;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(path);
		return;
	}
	if (access(path, X_OK) != 0) {
		size_t len = strlen(path) + sizeof ".json";
		sidecar = xmalloc(len);
		snprintf(sidecar, len, "%s.json", path);
		if (access(sidecar, F_OK) == 0)
			warnx("%s: not executable, so not a tool (fix: chmod +x "
			    "%s)", path, path);
		free(sidecar);
	} else if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) >= 0) {
		n = read(fd, head, sizeof head - 1);
		close(fd);
	}
	if (n > 2 && head[0] == '#' && head[1] == '!') {
		char *nl;
		head[n] = '\0';
		if ((nl = memchr(head, '\n', (size_t)n)) != NULL &&
		    nl[-1] == '\r')
			warnx("%s: its #! line ends in a carriage return (CRLF "
			    "line ends), so it cannot start (fix: sed -i "
			    "'s/\\r$//' %s)", path, path);
	}
	free(path);
}

char **
toolsdir_names(const char *dir, int warn)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names, *path, *why;
	size_t n = 0, cap = 16;

	if (d == NULL)
		return NULL;
	names = xmalloc(cap * sizeof *names);
	while ((e = readdir(d)) != NULL) {
		if (warn && valid_tool_name(e->d_name))
			warn_broken_tool(dir, e->d_name);
		if (!toolsdir_is_tool(dir, e->d_name))
			continue;
		path = toolsdir_path(dir, e->d_name);
		why = toolsdir_unsafe(path);
		free(path);
		if (why != NULL) {
			if (warn)
				warnx("%s", why);
			free(why);
			continue;
		}
		if (n + 1 >= cap)
			names = xrealloc(names, (cap *= 2) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	names[n] = NULL;
	qsort(names, n, sizeof *names, by_name);
	return names;
}

void
toolsdir_free_names(char **names)
{
	char **p;

	for (p = names; p != NULL && *p != NULL; p++)
		free(*p);
	free(names);
}

/* A parameter name that is also a plain sh variable and jq key, in
 * lower case so that it cannot clobber the environment: [a-z_][a-z0-9_]*. */
static int
valid_param_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The parameters schema of signature "name:type[?] [description], ...";
 * exits 2 on a bad one. */
static jv
signature_schema(const char *name, const char *signature)
{
	static const char *types[] = {"string", "integer", "number",
	    "boolean", NULL};
	jv props = jv_object(), required = jv_array();
	char *copy = xstrdup(signature), *item, *save = NULL;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *colon, *type, *end, *desc;
		size_t tlen;
		int i, optional = 0;
		jv prop;

		while (*item == ' ' || *item == '\t')
			item++;
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if ((colon = strchr(item, ':')) == NULL)
			die(EXIT_USAGE, "--new %s: \"%s\": not name:type", name,
			    item);
		if (!valid_param_name(item, (size_t)(colon - item)))
			die(EXIT_USAGE, "--new %s: \"%s\": a parameter name "
			    "matches ^[a-z_][a-z0-9_]*$", name, item);
		type = colon + 1;
		tlen = strcspn(type, "? \t");
		for (i = 0; types[i] != NULL; i++)
			if (strlen(types[i]) == tlen &&
			    strncmp(type, types[i], tlen) == 0)
				break;
		if (types[i] == NULL)
			die(EXIT_USAGE, "--new %s: \"%s\": the type is not "
			    "string, integer, number or boolean", name, item);
		desc = type + tlen;
		if (*desc == '?') {
			optional = 1;
			desc++;
		}
		if (*desc != '\0' && *desc != ' ' && *desc != '\t')
			die(EXIT_USAGE, "--new %s: \"%s\": not name:type[?] "
			    "[description]", name, item);
		while (*desc == ' ' || *desc == '\t')
			desc++;
		*colon = '\0';
		if (jv_object_has(jv_copy(props), jv_string(item))) {
			*colon = ':';
			die(EXIT_USAGE, "--new %s: \"%s\": parameter %.*s is "
			    "named twice", name, item, (int)(colon - item),
			    item);
		}
		prop = JV_OBJECT(jv_string("type"), jv_string(types[i]));
		if (*desc != '\0')
			prop = jv_object_set(prop, jv_string("description"),
			    jv_string(desc));
		props = jv_object_set(props, jv_string(item), prop);
		if (!optional)
			required = jv_array_append(required, jv_string(item));
	}
	free(copy);
	return JV_OBJECT(jv_string("type"), jv_string("object"),
	    jv_string("properties"), props, jv_string("required"), required,
	    jv_string("additionalProperties"), jv_false());
}

/* The sh tool: each parameter read with jq into a variable of its name,
 * then printed, for the user to replace with the real work. */
static jv
tool_script(const char *name, jv params)
{
	jv props = json_get(params, "properties");
	jv req = json_get(params, "required");
	jv text = jv_string_fmt("#!/bin/sh\n"
	    "# %s: a tool of llm-tools (see llm-tools(7)); %s.json beside it\n"
	    "# tells the model what it does and takes. Its arguments come as\n"
	    "# one JSON object on stdin; what it writes on stdout is the result.\n"
	    "set -eu\n", name, name);
	int i, n = jv_array_length(jv_copy(req));

	if (jv_object_length(jv_copy(props)) == 0)
		text = jv_string_concat(text, jv_string_fmt("echo '%s ran'\n",
		    name));
	else
		text = jv_string_append_str(text, "set -- \"$(cat)\"\n");
	jv_object_foreach(props, key, prop) {
		const char *k = jv_string_value(key);
		int needed = 0;
		for (i = 0; i < n; i++) {
			jv r = jv_array_get(jv_copy(req), i);
			needed |= strcmp(jv_string_value(r), k) == 0;
			jv_free(r);
		}
		text = jv_string_concat(text, jv_string_fmt("%s=$(printf '%%s' "
		    "\"$1\" | jq -r '.%s%s')\n", k, k, needed ? "" :
		    " | values"));
		jv_free(key);
		jv_free(prop);
	}
	jv_object_foreach(props, key, prop) {
		text = jv_string_concat(text, jv_string_fmt("printf '%s: %%s\\n' "
		    "\"$%s\"\n", jv_string_value(key), jv_string_value(key)));
		jv_free(key);
		jv_free(prop);
	}
	jv_free(props);
	jv_free(req);
	return text;
}

/* Create path (mode, never over a file there) holding text; the file
 * descriptor's errno on failure. */
static int
write_new_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600), e;

	if (fd < 0)
		return errno;
	e = write(fd, text, len) == (ssize_t)len && fchmod(fd, mode) == 0 ?
	    0 : errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0)
		unlink(path);
	return e;
}

/* mkdir -p path: what it makes is 0755 whatever the umask, as a tools
 * directory must not be writable by others. */
static void
make_dirs(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) == 0)
			(void)chmod(p, 0755);
		*s = '/';
	}
	if (mkdir(p, 0755) == 0)
		(void)chmod(p, 0755);
	free(p);
}

void
toolsdir_new_tool(const char *dir, const char *name, const char *signature)
{
	char *tool, *sidecar;
	jv params, doc, text;
	struct stat st;
	int e;

	if (!valid_tool_name(name))
		die(EXIT_USAGE, "--new: invalid tool name \"%.80s\": a name "
		    "matches ^[A-Za-z0-9_-]{1,64}$", name);
	params = signature_schema(name, signature);
	tool = toolsdir_path(dir, name);
	sidecar = xmalloc(strlen(tool) + sizeof ".json");
	sprintf(sidecar, "%s.json", tool);
	if (lstat(sidecar, &st) == 0)
		die(EXIT_USAGE, "%s: already exists; nothing written", sidecar);
	if (lstat(tool, &st) == 0)
		die(EXIT_USAGE, "%s: already exists; nothing written", tool);
	make_dirs(dir);
	text = tool_script(name, params);
	doc = JV_OBJECT(jv_string("name"), jv_string(name),
	    jv_string("description"), jv_string_fmt("%s: say here what it "
	    "does and when to use it.", name), jv_string("parameters"), params);
	doc = jv_string_append_str(jv_dump_string(doc,
	    JV_PRINT_INDENT_FLAGS(2)), "\n");
	if ((e = write_new_file(sidecar, jv_string_value(doc), 0644)) != 0)
		die(e == EEXIST ? EXIT_USAGE : EXIT_INPUT, "%s: %s", sidecar,
		    strerror(e));
	if ((e = write_new_file(tool, jv_string_value(text), 0755)) != 0) {
		unlink(sidecar);
		die(e == EEXIST ? EXIT_USAGE : EXIT_INPUT, "%s: %s", tool,
		    strerror(e));
	}
	warnx("wrote %s (what it does) and %s (what the model reads)", tool,
	    sidecar);
	jv_free(doc);
	jv_free(text);
	free(tool);
	free(sidecar);
}
