/* The schemas of a runner's tools: the sidecar DIR/name.json, else the
 * tool's --schema answer (cached per executable), the x-llm-tools limits
 * they set, and the listing built from them (see toolschema.h). */
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
#include "toolschema.h"
#include "toolsdir.h"

#define SCHEMA_TIMEOUT 5.0

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

/* The violations of args (borrowed) against name's parameters schema:
 * a string for the model, or jv_invalid() when they conform or the tool
 * has no schema. With may_exec 0, a tool without a sidecar is not run
 * with --schema, and goes unchecked. */
jv
runner_check_schema(struct runner *r, const char *name, jv args, int may_exec)
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
jv
runner_apply_limits(struct runner *r, struct job *job)
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
