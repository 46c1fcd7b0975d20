/*
 * The tools directory: which one is used, what in it is a tool, and
 * whether it is safe to run. Only a directory the user named (-d,
 * $LLM_TOOLS_DIR) or set up (${XDG_CONFIG_HOME:-~/.config}/llm-tools/
 * tools.d) is used; never ./tools.d because it happens to be there. A
 * directory or tool that someone else could change (writable by group
 * or others, or owned by another user than the user or root) is refused,
 * as ssh refuses such key files.
 */
#ifndef LLM_TOOLSDIR_H
#define LLM_TOOLSDIR_H

/* The tools directory: opt (-d), else $LLM_TOOLS_DIR, else the user's
 * configuration directory, where *configured is set to 1. Allocated. */
char *toolsdir_find(const char *opt, int *configured);

/* Why path (a tools directory or a tool) must not be trusted, with how
 * to fix it, or NULL when it may be. Allocated. */
char *toolsdir_unsafe(const char *path);

/* DIR/name. Allocated. */
char *toolsdir_path(const char *dir, const char *name);

/* Is DIR/name a tool: a valid name for a regular executable file?
 * Symbolic links are followed: what the directory holds is the user's
 * choice; the model only picks among its names. */
int toolsdir_is_tool(const char *dir, const char *name);

/* The sorted names of the tools in dir that are safe to run,
 * NULL-terminated; with warn, say on stderr why each other one is
 * skipped. NULL when the directory cannot be read. */
char **toolsdir_names(const char *dir, int warn);

void toolsdir_free_names(char **names);

/* Write DIR/name, an sh tool that reads the parameters of signature
 * ("name:type[?] [description], ...", types string, integer, number,
 * boolean; ? for optional) with jq, and its sidecar DIR/name.json,
 * making DIR if it is not there. Never over a file that is there: that,
 * a bad name or a bad signature exit 2; a file that cannot be written
 * exits 3. */
void toolsdir_new_tool(const char *dir, const char *name,
    const char *signature);

#endif
