/* The tools directory: see toolsdir.h. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
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
