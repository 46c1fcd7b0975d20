/* A tool call as tool-run runs it: policy, tools directory, checks,
 * outcome. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "runner.h"
#include "schema.h"
#include "toolsdir.h"

#define SCHEMA_TIMEOUT 5.0

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

/* The function object of a schema document (a function object, or a
 * whole tool), reduced to what a request may carry (with mcp, also what
 * an MCP tool may), named after the file. Invalid with a message on a bad shape. doc consumed. */
static jv
function_of(jv doc, const char *name, int mcp)
{
	static const char *fields[] = {"description", "parameters", "strict",
	    "title", "annotations", "outputSchema", NULL};
	jv fn = json_get(doc, "function"), out;
	const char *doc_name;
	int i;

	if (jv_get_kind(fn) == JV_KIND_OBJECT) {
		jv_free(doc);
		doc = fn;
	} else {
		jv_free(fn);
	}
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv e = jv_invalid_with_msg(jv_string_fmt("schema is %s, not an "
		    "object", json_kind_name(doc)));
		jv_free(doc);
		return e;
	}
	doc_name = json_get_str(doc, "name");
	if (doc_name != NULL && strcmp(doc_name, name) != 0)
		warnx("%s: schema names the function \"%s\"; using the file "
		    "name", name, doc_name);
	out = JV_OBJECT(jv_string("name"), jv_string(name));
	for (i = 0; fields[i] != NULL && (mcp || i < 3); i++) {
		jv v = json_get(doc, fields[i]);
		if (jv_is_valid(v))
			out = jv_object_set(out, jv_string(fields[i]), v);
		else
			jv_free(v);
	}
	jv_free(doc);
	return out;
}

/* DIR/name.json, where a tool's schema is kept. */
static char *
sidecar_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + sizeof "/.json";
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s.json", dir, name);
	return p;
}

/* BASE/llm-tools/schemas, where --schema answers are cached, made
 * private (0700) if it is not there; NULL, said once on stderr, when it
 * is not a directory of this user's that only they can use, below one
 * only they can write (symlinks are not followed). */
static char *
schema_cache_dir(const char *base)
{
	static int warned;
	const char *parts[] = {"llm-tools", "schemas", NULL};
	char *dir, *next;
	struct stat st;
	int i;

	if (base == NULL)
		return NULL;
	dir = xstrdup(base);
	(void)mkdir(dir, 0700);
	for (i = 0; parts[i] != NULL; i++) {
		next = toolsdir_path(dir, parts[i]);
		free(dir);
		dir = next;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			break;
		if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() ||
		    (st.st_mode & (parts[i + 1] == NULL ? 077 : 022)) != 0) {
			if (!warned++)
				warnx("%s: not a private directory of yours "
				    "(mode 0700); --schema answers are not "
				    "cached", dir);
			break;
		}
	}
	if (parts[i] != NULL) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* The cache file of a tool's --schema answer: named after the tool
 * file's device, inode, size and modification time, so that a changed
 * or replaced tool is asked again. NULL when there is no cache. */
static char *
schema_cache_path(const char *base, const struct stat *tool)
{
	char *dir = schema_cache_dir(base), *path, name[128];

	if (dir == NULL)
		return NULL;
	snprintf(name, sizeof name, "%llu-%llu-%lld-%lld.%09ld.json",
	    (unsigned long long)tool->st_dev, (unsigned long long)tool->st_ino,
	    (long long)tool->st_size, (long long)tool->st_mtim.tv_sec,
	    tool->st_mtim.tv_nsec);
	path = toolsdir_path(dir, name);
	free(dir);
	return path;
}

/* The cached answer at path, or jv_invalid(): only a regular file of
 * this user's that others cannot write, never through a symlink. */
static jv
schema_cache_read(const char *path)
{
	struct buf b = {0};
	struct stat st;
	jv doc = jv_invalid();
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return doc;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 022) == 0 &&
	    read_fd_all(fd, &b, JSON_INPUT_MAX) == 0)
		doc = json_parse(b.data ? b.data : "", b.len);
	close(fd);
	buf_free(&b);
	return doc;
}

/* Keep doc (borrowed) at path: written aside (0600), then renamed. */
static void
schema_cache_write(const char *path, jv doc)
{
	size_t n = strlen(path) + 32;
	char *tmp = xmalloc(n);
	jv text = jv_dump_string(jv_copy(doc), 0);
	const char *s = jv_string_value(text);
	size_t len = strlen(s);
	int fd;

	snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd >= 0) {
		int ok = write(fd, s, len) == (ssize_t)len;
		if (close(fd) != 0 || !ok || rename(tmp, path) != 0)
			(void)unlink(tmp);
	}
	jv_free(text);
	free(tmp);
}

/* The x-llm-tools object of a schema document (borrowed), at its top
 * or in its function object, as a new reference, or jv_invalid(). */
static jv
limits_of(jv doc)
{
	jv x = json_get(doc, "x-llm-tools"), fn;

	if (jv_is_valid(x))
		return x;
	fn = json_get(doc, "function");
	x = json_get(fn, "x-llm-tools");
	jv_free(fn);
	return x;
}

/* What is wrong with limits x (borrowed), or jv_invalid(). */
static jv
limits_problem(jv x)
{
	jv problem = jv_invalid();
	int i;

	if (jv_get_kind(x) != JV_KIND_OBJECT)
		return jv_string_fmt("x-llm-tools: not an object but %s",
		    json_kind_name(x));
	for (i = jv_object_iter(x); jv_object_iter_valid(x, i) &&
	    !jv_is_valid(problem); i = jv_object_iter_next(x, i)) {
		jv key = jv_object_iter_key(x, i);
		jv v = jv_object_iter_value(x, i);
		const char *k = jv_string_value(key);
		double d = jv_get_kind(v) == JV_KIND_NUMBER ?
		    jv_number_value(v) : -1;
		const char *str = jv_get_kind(v) == JV_KIND_STRING ?
		    jv_string_value(v) : "";

		if (strcmp(k, "timeout") == 0) {
			if (!(d > 0 && d < 1e9))
				problem = jv_string("x-llm-tools.timeout: not a "
				    "positive number of seconds");
		} else if (strcmp(k, "max_output") == 0) {
			if (!(d >= 1 && d <= (double)(1L << 30) &&
			    d == (double)(long)d))
				problem = jv_string("x-llm-tools.max_output: not "
				    "a number of bytes from 1 to 1 GiB");
		} else if (strcmp(k, "sandbox") == 0) {
			if (strcmp(str, "none") != 0 &&
			    strcmp(str, "isolated") != 0 &&
			    strcmp(str, "default") != 0)
				problem = jv_string("x-llm-tools.sandbox: not "
				    "\"none\", \"isolated\" or \"default\"");
		} else {
			problem = jv_string_fmt("x-llm-tools: unknown key "
			    "\"%s\" (known: timeout, max_output, sandbox)", k);
		}
		jv_free(key);
		jv_free(v);
	}
	return problem;
}

/* Keep the limits of tool name's schema document (borrowed) for its
 * calls: what is wrong with them, or jv_invalid(). */
static jv
learn_limits(struct runner *r, const char *name, jv doc)
{
	jv x = limits_of(doc), problem;

	if (!jv_is_valid(x)) {
		jv_free(x);
		r->limits = jv_object_delete(r->limits, jv_string(name));
		return jv_invalid();
	}
	problem = limits_problem(x);
	r->limits = jv_object_set(r->limits, jv_string(name),
	    jv_is_valid(problem) ? jv_copy(problem) : jv_copy(x));
	jv_free(x);
	return problem;
}

/* The schema of tool name: DIR/name.json, else DIR/name --schema. */
static jv
tool_schema(const struct runner *r, const char *name)
{
	char *sidecar = sidecar_path(r->dir, name);
	struct job job = {0};
	struct stat st, now;
	char *cache = NULL;
	jv doc;

	if (stat(sidecar, &st) == 0) {
		struct buf b = {0};
		int fd = open(sidecar, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_fd_all(fd, &b, JSON_INPUT_MAX) != 0)
			doc = jv_invalid_with_msg(jv_string_fmt("%s: %s",
			    sidecar, strerror(errno)));
		else
			doc = json_parse(b.data, b.len);
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		if (!jv_is_valid(doc)) {
			char *m = json_invalid_message(doc);
			doc = jv_invalid_with_msg(jv_string_fmt("%s: %s",
			    sidecar, m));
			free(m);
		}
		free(sidecar);
		return doc;
	}
	free(sidecar);
	job.path = toolsdir_path(r->dir, name);
	if (stat(job.path, &st) == 0 &&
	    (cache = schema_cache_path(r->cache_base, &st)) != NULL) {
		doc = schema_cache_read(cache);
		if (jv_is_valid(doc)) {
			free(cache);
			free(job.path);
			return doc;
		}
		jv_free(doc);
	}
	{
		struct job_policy p = r->policy;
		/* Under the same sandbox and limits as a call. */
		p.timeout = SCHEMA_TIMEOUT;
		p.on_start = p.on_done = NULL;
		job.name = name;
		job.id = "schema";
		job.arg = "--schema";
		jobs_run(&job, 1, &p);
	}
	if (job.failed_to_start || job.timed_out || !WIFEXITED(job.status) ||
	    WEXITSTATUS(job.status) != 0)
		doc = jv_invalid_with_msg(jv_string_fmt("no %s.json and "
		    "\"%s --schema\" failed", name, job.path));
	else
		doc = json_parse(job.output.data ? job.output.data : "",
		    job.output.len);
	/* Kept only when the tool is the one that was asked. */
	if (cache != NULL && jv_is_valid(doc) && stat(job.path, &now) == 0 &&
	    now.st_dev == st.st_dev && now.st_ino == st.st_ino &&
	    now.st_size == st.st_size &&
	    now.st_mtim.tv_sec == st.st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		schema_cache_write(cache, doc);
	free(cache);
	job_free(&job);
	return doc;
}

jv
runner_list(struct runner *r, int mcp)
{
	char **names = toolsdir_names(r->dir, 1), **p;
	jv tools = jv_array(), params;

	if (names == NULL && !(r->configured && errno == ENOENT))
		die(EXIT_INPUT, "%s: %s", r->dir, strerror(errno));
	for (p = names; p != NULL && *p != NULL; p++) {
		jv fn = tool_schema(r, *p), problem;
		if (jv_is_valid(fn) &&
		    jv_is_valid(problem = learn_limits(r, *p, fn))) {
			jv_free(fn);
			fn = jv_invalid_with_msg(problem);
		}
		if (jv_is_valid(fn))
			fn = function_of(fn, *p, mcp);
		if (!jv_is_valid(fn)) {
			char *m = json_invalid_message(fn);
			warnx("%s/%s: skipped: %s", r->dir, *p, m);
			free(m);
			continue;
		}
		/* Calls check against what was listed, without running
		 * the tool for its schema again. */
		params = json_get(fn, "parameters");
		r->schemas = jv_object_set(r->schemas, jv_string(*p),
		    jv_is_valid(params) ? params : jv_null());
		tools = jv_array_append(tools, fn);
	}
	toolsdir_free_names(names);
	return tools;
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

/* The violations of args (borrowed) against name's parameters schema:
 * a string for the model, or jv_invalid() when they conform or the tool
 * has no schema. With may_exec 0, a tool without a sidecar is not run
 * with --schema, and goes unchecked. */
static jv
check_schema(struct runner *r, const char *name, jv args, int may_exec)
{
	jv params, problems, msg;
	int i, n;

	if (!may_exec && !jv_object_has(jv_copy(r->schemas),
	    jv_string(name))) {
		char *sidecar = sidecar_path(r->dir, name);
		struct stat st;
		int has = stat(sidecar, &st) == 0;

		free(sidecar);
		if (!has)
			return jv_invalid();
	}
	if (!jv_object_has(jv_copy(r->schemas), jv_string(name))) {
		jv fn = tool_schema(r, name);
		if (jv_is_valid(fn))
			jv_free(learn_limits(r, name, fn));
		if (jv_is_valid(fn))
			fn = function_of(fn, name, 0);
		params = jv_is_valid(fn) ? json_get(fn, "parameters") :
		    jv_invalid();
		jv_free(fn);
		if (!jv_is_valid(params))
			params = jv_null();
		r->schemas = jv_object_set(r->schemas, jv_string(name),
		    params);
	}
	params = jv_object_get(jv_copy(r->schemas), jv_string(name));
	if (jv_get_kind(params) == JV_KIND_NULL) {
		jv_free(params);
		return jv_invalid();
	}
	problems = schema_check(params, args);
	jv_free(params);
	n = jv_array_length(jv_copy(problems));
	if (n == 0) {
		jv_free(problems);
		return jv_invalid();
	}
	msg = jv_string_fmt("invalid arguments for %s, not run:", name);
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(problems), i);
		msg = jv_string_append_str(msg, i == 0 ? " " : "; ");
		msg = jv_string_concat(msg, p);
	}
	jv_free(problems);
	return msg;
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
runner_describe(struct runner *r, const char *name)
{
	jv fn = tool_schema(r, name);

	return jv_is_valid(fn) ? function_of(fn, name, 1) : fn;
}

/* The --sandbox default profile for a job that asks for it in a run
 * that has no wrapper: made once, kept by the runner. */
static char **
job_sandbox(struct runner *r)
{
	if (r->job_sandbox == NULL) {
		r->job_sandbox_dir = realpath(r->dir, NULL);
		r->job_sandbox = runner_sandbox_argv("default", NULL,
		    r->job_sandbox_dir != NULL ? r->job_sandbox_dir : r->dir);
	}
	return r->job_sandbox;
}

/* Give the job the limits of its schema's x-llm-tools, where they are
 * tighter than the run's: a shorter time, a smaller cap, isolation.
 * Why it must not run (limits that make no sense), or jv_invalid(). */
static jv
apply_limits(struct runner *r, struct job *job)
{
	jv x = jv_object_get(jv_copy(r->limits), jv_string(job->name));
	struct job_policy *own;
	const char *sandbox;
	jv v;

	if (jv_get_kind(x) == JV_KIND_STRING) {
		char *sidecar = sidecar_path(r->dir, job->name);
		struct stat st;
		jv msg = stat(sidecar, &st) == 0 ?
		    jv_string_fmt("tool %s was not run: %s: %s", job->name,
		    sidecar, jv_string_value(x)) :
		    jv_string_fmt("tool %s was not run: %s --schema: %s",
		    job->name, job->path, jv_string_value(x));
		free(sidecar);
		jv_free(x);
		return msg;
	}
	if (jv_get_kind(x) != JV_KIND_OBJECT) {
		jv_free(x);
		return jv_invalid();
	}
	own = job->own = xmalloc(sizeof *own);
	*own = r->policy;
	v = json_get(x, "timeout");
	if (jv_get_kind(v) == JV_KIND_NUMBER &&
	    jv_number_value(v) < own->timeout)
		own->timeout = jv_number_value(v);
	jv_free(v);
	v = json_get(x, "max_output");
	if (jv_get_kind(v) == JV_KIND_NUMBER &&
	    jv_number_value(v) < (double)own->max_output)
		own->max_output = (size_t)jv_number_value(v);
	jv_free(v);
	sandbox = json_get_str(x, "sandbox");
	/* A wrapper of the user's own stays: it is the user's choice. */
	if (sandbox != NULL && own->sandbox == NULL) {
		if (strcmp(sandbox, "isolated") == 0) {
			own->isolate = 1;
		} else if (strcmp(sandbox, "default") == 0) {
			char *abs = realpath(job->path, NULL);
			own->isolate = 0;
			own->sandbox = job_sandbox(r);
			if (abs != NULL) {
				free(job->path);
				job->path = abs;
			}
		}
	}
	jv_free(x);
	return jv_invalid();
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
		problem = check_schema(r, job->name, args, may_exec);
	if (!jv_is_valid(problem))
		problem = apply_limits(r, job);
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
