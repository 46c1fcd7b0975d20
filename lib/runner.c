/* A tool call as tool-run runs it: policy, tools directory, checks,
 * outcome; the tools' schemas and limits are toolschema.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "runner.h"
#include "toolschema.h"
#include "toolsdir.h"

/* The last line-ish part of a tool's stderr, trimmed, for a message. */
static jv
stderr_summary(const struct buf *b)
{
	size_t start = 0, end = b->len;

	while (end > 0 && (b->data[end - 1] == '\n' || b->data[end - 1] == ' '))
		end--;
	if (end > 500)
		start = end - 500;
	return jv_string_sized(b->data + start, (int)(end - start));
}

jv
runner_outcome(const struct runner *r, const struct job *job, int *failed)
{
	const struct job_policy *p = job->own != NULL ? job->own : &r->policy;
	jv msg;

	*failed = 1;

	if (job->failed_to_start)
		return jv_string_fmt("tool %s could not be started: %s",
		    job->name, strerror(job->failed_to_start));
	if (job->timed_out)
		return jv_string_fmt("tool %s timed out after %g s and was "
		    "stopped", job->name, p->timeout);
	if (WIFSIGNALED(job->status))
		msg = jv_string_fmt("tool %s was killed by signal %d",
		    job->name, WTERMSIG(job->status));
	else if (WEXITSTATUS(job->status) != 0)
		msg = jv_string_fmt("tool %s failed with exit status %d",
		    job->name, WEXITSTATUS(job->status));
	else {
		size_t len = job->output.len;

		/* Like $(...) in the shell: trailing newlines are dropped. */
		while (!job->truncated && len > 0 &&
		    job->output.data[len - 1] == '\n')
			len--;
		*failed = 0;
		jv out = jv_string_sized(job->output.data ? job->output.data :
		    "", (int)len);
		if (job->truncated)
			out = jv_string_concat(out, jv_string_fmt(
			    "\n[output truncated at %zu bytes]", p->max_output));
		return out;
	}
	if (job->errtail.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->errtail));
	} else if (job->output.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->output));
	}
	return msg;
}


/* Is name in the comma-separated list? */
static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (list != NULL && (p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* Why the tool of a call must not run (someone else could have put
 * it there or changed it), or jv_invalid(). Said on stderr too: the user
 * has something to fix. */
static jv
check_trust(const struct job *job)
{
	char *why = toolsdir_unsafe(job->path);
	jv msg;

	if (why == NULL)
		return jv_invalid();
	warnx("%s", why);
	msg = jv_string_fmt("tool %s was not run: %s", job->name, why);
	free(why);
	return msg;
}

static int
is_tool_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Refuse a tools directory others could change; say why a directory
 * left there is not used. */
static void
use_tools_dir(const char *dir, int configured)
{
	struct stat st;
	char *why = toolsdir_unsafe(dir);

	if (why != NULL) {
		warnx("%s", why);
		free(why);
		exit(EXIT_INPUT);
	}
	if (configured && stat(dir, &st) != 0 && is_tool_dir("tools.d"))
		warnx("./tools.d is not used unless named: pass -d tools.d or "
		    "set LLM_TOOLS_DIR (no tools directory at %s)", dir);
}

/* Why the user's lists keep a call from running, or jv_invalid(). */
static jv
gate_lists(const struct runner *g, const struct job *job)
{
	if (listed(g->deny, job->name))
		return jv_string_fmt("declined by the user: %s is a denied "
		    "tool", job->name);
	if (g->allow != NULL && !g->confirm && !listed(g->allow, job->name))
		return jv_string_fmt("declined by the user: %s is not an "
		    "allowed tool", job->name);
	return jv_invalid();
}

/* Does job run an MCP tool (through tool-mcp)? */
int
runner_is_mcp(const struct runner *r, const struct job *job)
{
	return r->mcp_program != NULL && job->path != NULL &&
	    strcmp(job->path, r->mcp_program) == 0;
}

/* Is name an MCP tool that no executable of the directory shadows? */
static int
mcp_routed(const struct runner *r, const char *name)
{
	return jv_get_kind(r->mcp_routes) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(r->mcp_routes), jv_string(name)) &&
	    !toolsdir_is_tool(r->dir, name);
}

/* The message for a call of name, which is no tool: the tools there are
 * (of the directory, then the MCP tools it does not shadow), or none. */
static jv
unknown_tool(const struct runner *r, const char *name)
{
	char **names = toolsdir_names(r->dir, 0), **p;
	jv problem = jv_string_fmt("unknown tool \"%s\"; available tools:",
	    name);
	int it, more = 0;

	for (p = names; p != NULL && *p != NULL; p++)
		problem = jv_string_concat(problem,
		    jv_string_fmt("%s %s", p == names ? "" : ",", *p));
	if (jv_get_kind(r->mcp_routes) == JV_KIND_OBJECT)
		for (it = jv_object_iter(r->mcp_routes);
		    jv_object_iter_valid(r->mcp_routes, it);
		    it = jv_object_iter_next(r->mcp_routes, it)) {
			jv k = jv_object_iter_key(r->mcp_routes, it);
			if (!toolsdir_is_tool(r->dir, jv_string_value(k))) {
				problem = jv_string_concat(problem,
				    jv_string_fmt("%s %s", p != names || more ?
				    "," : "", jv_string_value(k)));
				more = 1;
			}
			jv_free(k);
		}
	if ((names == NULL || *names == NULL) && !more)
		problem = jv_string_append_str(problem, " none");
	toolsdir_free_names(names);
	return problem;
}

/* What the job runs: the tool of the directory, or for an MCP tool
 * tool-mcp, which calls it through the holder; the sandbox and the
 * limits are then its server's. */
static void
set_program(struct job *job, const struct runner *r, int mcp)
{
	size_t i;

	if (!mcp) {
		job->path = toolsdir_path(r->dir, job->name);
		return;
	}
	job->path = xstrdup(r->mcp_program);
	job->own = xmalloc(sizeof *job->own);
	*job->own = r->policy;
	job->own->sandbox = NULL;
	for (i = 0; i < JOBS_RLIMITS; i++)
		job->own->limits[i].name = NULL;
}

/* Why a call cannot run, as a message for the model, or jv_invalid()
 * when it can. fn is {name, arguments}, borrowed. Sets the job's name, path and input, and *parsed_args to
 * the arguments as an object (jv_null() when they are not one). */
static jv
check_call(struct job *job, jv fn, const struct runner *r, jv *parsed_args)
{
	jv args, parsed, name;
	jv problem = jv_invalid();
	const char *dir = r->dir;
	int has_nul, mcp = 0;

	*parsed_args = jv_null();
	job->name = json_get_str(fn, "name");
	args = json_get(fn, "arguments");
	name = json_get(fn, "name");
	has_nul = json_string_has_nul(name);
	jv_free(name);
	if (has_nul) {
		job->name = "?";
		problem = jv_string("invalid tool name: it holds a NUL byte");
	} else if (job->name == NULL) {
		job->name = "?";
		problem = jv_string("the call has no function name");
	} else if (!valid_tool_name(job->name)) {
		problem = jv_string_fmt("invalid tool name \"%.80s\": a name "
		    "matches ^[A-Za-z0-9_-]{1,64}$", job->name);
	} else if (!toolsdir_is_tool(dir, job->name) &&
	    !(mcp = mcp_routed(r, job->name))) {
		problem = unknown_tool(r, job->name);
	}
	if (jv_is_valid(problem)) {
		jv_free(args);
		return problem;
	}
	if (jv_get_kind(args) == JV_KIND_INVALID || jv_get_kind(args) ==
	    JV_KIND_NULL || (jv_get_kind(args) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(args)) == 0)) {
		/* No arguments at all, as tool-extract reads them: {}. */
		jv_free(args);
		args = jv_string("{}");
	}
	if (jv_get_kind(args) != JV_KIND_STRING)
		args = jv_dump_string(args, 0);
	/* The bytes checked here are the bytes the tool reads. */
	parsed = json_parse_arguments(jv_string_value(args),
	    (size_t)jv_string_length_bytes(jv_copy(args)));
	if (!jv_is_valid(parsed))
		problem = jv_invalid_get_msg(parsed);
	else
		*parsed_args = parsed;
	if (jv_is_valid(problem)) {
		jv_free(args);
		return problem;
	}
	job->input_len = (size_t)jv_string_length_bytes(jv_copy(args));
	job->input = xmalloc(job->input_len + 1);
	memcpy((char *)job->input, jv_string_value(args), job->input_len + 1);
	jv_free(args);
	set_program(job, r, mcp);
	return jv_invalid();
}

/* A variable name: [A-Za-z_][A-Za-z0-9_]*. */
static int
valid_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Split a sandbox command line on blanks (no shell, no quoting). */
static char **
split_words(const char *cmd)
{
	char *copy = xstrdup(cmd + strspn(cmd, " \t\n")), *word, *save = NULL;
	char **argv = xmalloc((strlen(cmd) / 2 + 2) * sizeof *argv);
	size_t n = 0;

	for (word = strtok_r(copy, " \t\n", &save); word != NULL;
	    word = strtok_r(NULL, " \t\n", &save))
		argv[n++] = word;
	argv[n] = NULL;
	if (n == 0) {
		free(copy);
		free(argv);
		return NULL;
	}
	return argv;
}

char **
runner_sandbox_argv(const char *cmd, const char *cwd, const char *dir)
{
	static char here[4096];
	char **argv;
	size_t n = 0;

	if (strcmp(cmd, "default") != 0)
		return split_words(cmd);
	if (cwd == NULL)
		cwd = getcwd(here, sizeof here) != NULL ? here : "/";
	argv = split_words(RUNNER_DEFAULT_SANDBOX);
	while (argv[n] != NULL)
		n++;
	argv = xrealloc(argv, (n + 10) * sizeof *argv);
	n--;    /* before the final "--" */
	argv[n++] = "--ro-bind";
	argv[n++] = (char *)cwd;
	argv[n++] = (char *)cwd;
	if (dir != NULL) {
		argv[n++] = "--ro-bind";
		argv[n++] = (char *)dir;
		argv[n++] = (char *)dir;
	}
	argv[n++] = "--chdir";
	argv[n++] = (char *)cwd;
	argv[n++] = "--";
	argv[n] = NULL;
	return argv;
}

void
runner_init(struct runner *r)
{
	memset(r, 0, sizeof *r);
	jobs_default_policy(&r->policy);
	r->sandbox = getenv("LLM_TOOL_SANDBOX");
	r->schemas = jv_object();
	r->mcp_routes = jv_null();
	r->limits = jv_object();
}

int
runner_option(struct runner *r, int c, const char *arg)
{
	long num;

	switch (c) {
	case 'd':
		r->dir_option = arg;
		return 1;
	case 'T':
		if (parse_seconds(arg, &r->policy.timeout) != 0 ||
		    r->policy.timeout <= 0)
			die(EXIT_USAGE, "-T: not a positive number of "
			    "seconds: %s", arg);
		return 1;
	case 'P':
		if (parse_long(arg, 1, 1024, &num) != 0)
			die(EXIT_USAGE, "-P: not a number of jobs from 1 "
			    "to 1024: %s", arg);
		r->policy.max_running = (int)num;
		return 1;
	case 'b':
		if (parse_long(arg, 1, 1L << 30, &num) != 0)
			die(EXIT_USAGE, "-b: not a number of bytes from 1 "
			    "to 1 GiB: %s", arg);
		r->policy.max_output = (size_t)num;
		return 1;
	case 'L':
		if (jobs_set_limit(&r->policy, arg) != 0)
			die(EXIT_USAGE, "-L: not NAME=VALUE with NAME cpu, "
			    "as, fsize or nofile: %s", arg);
		return 1;
	case 'e':
		if (!valid_env_name(arg))
			die(EXIT_USAGE, "-e: not a variable name: %s", arg);
		if (r->npass == 64)
			die(EXIT_USAGE, "-e: at most 64 variables");
		r->pass_env[r->npass++] = arg;
		return 1;
	case 'B':
		r->sandbox = arg;
		return 1;
	case 'a':
		r->allow = arg;
		return 1;
	case 'x':
		r->deny = arg;
		return 1;
	case RUNNER_OPT_UMASK:
		if (strlen(arg) > 4 || strspn(arg, "01234567") != strlen(arg) ||
		    *arg == '\0' || (num = strtol(arg, NULL, 8)) > 0777)
			die(EXIT_USAGE, "--umask: not an octal mask from 0 to "
			    "777: %s", arg);
		r->policy.umask = (int)num;
		return 1;
	}
	return 0;
}

/* $XDG_CACHE_HOME, else ~/.cache, or NULL: read before the environment
 * is cleared. */
static char *
cache_base(void)
{
	const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (base != NULL && *base == '/')
		return xstrdup(base);
	if (home != NULL && *home == '/')
		return toolsdir_path(strcmp(home, "/") == 0 ? "" : home,
		    ".cache");
	return NULL;
}

void
runner_setup(struct runner *r, const char *const *own_env)
{
	const char *sandbox = r->sandbox;

	r->pass_env[r->npass] = NULL;
	r->cache_base = cache_base();
	r->policy.pass_env = r->pass_env;
	/* No secret is ours to keep: tools get none, and a tool that
	 * reaches this process finds none. */
	jobs_drop_secrets(&r->policy, own_env);
	jobs_init();
	r->dir = r->dir_found = toolsdir_find(r->dir_option, &r->configured);
	use_tools_dir(r->dir, r->configured);
	if (sandbox != NULL && strcmp(sandbox, "none") == 0) {
		r->policy.isolate = 0;
		warnx("--sandbox none: tools are not isolated: they can read "
		    "the environment and memory of this user's processes "
		    "(/proc/PID/environ, ptrace), such as the shell that "
		    "started this run, and the secrets in them");
	} else if (sandbox != NULL && *sandbox != '\0') {
		/* The wrapper isolates: it may start elsewhere, so name the
		 * tools by full path. */
		r->policy.isolate = 0;
		if ((r->abs_dir = realpath(r->dir, NULL)) != NULL)
			r->dir = r->abs_dir;
		r->policy.sandbox = runner_sandbox_argv(sandbox, NULL, r->dir);
	}
}

void
runner_free(struct runner *r)
{
	if (r->policy.sandbox != NULL) {
		free(r->policy.sandbox[0]);
		free(r->policy.sandbox);
	}
	jv_free(r->schemas);
	jv_free(r->mcp_routes);
	jv_free(r->limits);
	if (r->job_sandbox != NULL) {
		free(r->job_sandbox[0]);
		free(r->job_sandbox);
	}
	free(r->job_sandbox_dir);
	free(r->abs_dir);
	free(r->dir_found);
	free(r->cache_base);
}

jv
runner_prepare(struct runner *r, struct job *job, jv fn, int may_exec)
{
	jv args, problem = check_call(job, fn, r, &args);

	/* tool-mcp is ours, beside this program: it is the tools
	 * directory's that could be changed by others. */
	if (!jv_is_valid(problem) && !runner_is_mcp(r, job))
		problem = check_trust(job);
	if (!jv_is_valid(problem))
		problem = gate_lists(r, job);
	if (!jv_is_valid(problem))
		problem = runner_check_schema(r, job->name, args, may_exec);
	if (!jv_is_valid(problem))
		problem = runner_apply_limits(r, job);
	jv_free(args);
	return problem;
}

int
runner_unknown(const struct runner *r, const char *name)
{
	return !toolsdir_is_tool(r->dir, name) && !mcp_routed(r, name);
}

int
runner_allowed(const struct runner *r, const char *name)
{
	return listed(r->allow, name);
}

void
runner_new_tool(struct runner *r, const char *name, const char *signature)
{
	int configured;
	char *dir = toolsdir_find(r->dir_option, &configured);

	toolsdir_new_tool(dir, name, signature != NULL ? signature : "");
	free(dir);
}
