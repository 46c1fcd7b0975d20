/*
 * tool-run: run the tool calls of a JSON array (FILE or stdin, as written
 * by tool-extract) as executables from a tools directory, at the same
 * time, and write a JSON array of tool messages {"role":"tool",
 * "tool_call_id","content"} in call order. The calls are untrusted input:
 * names are looked up, never joined into paths; arguments are checked
 * against the tool's schema before anything runs; tools run without a
 * shell, without secrets, each in namespaces of its own (no process of
 * the run is visible to it), bounded in time, output and resources. Every
 * call gets a result: a failure becomes content {"error":"..."} that the
 * model can read. With --list, write the "tools" array of a request for
 * every tool in the directory instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "jobs.h"
#include "json.h"
#include "mcphost.h"
#include "schema.h"
#include "term.h"
#include "toolsdir.h"

#define SCHEMA_TIMEOUT 5.0

/* The sandbox of --sandbox default: bubblewrap, read-only root, private
 * /tmp, no network, no other namespace shared, a session of its own. */
#define DEFAULT_SANDBOX "bwrap --ro-bind / / --dev /dev --proc /proc " \
	"--tmpfs /tmp --setenv TMPDIR /tmp --unshare-all --die-with-parent " \
	"--new-session --"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-cnv] [-d DIR] [-t SECONDS] [-j JOBS] "
	    "[-o BYTES] [-L LIMIT=VALUE]...\n"
	    "                [-e NAME]... [-s SANDBOX] [-a NAMES] [-x NAMES] "
	    "[-J JOURNAL] [-M FILE]... [-O FILE] [FILE]\n"
	    "       %s [-d DIR] [-M FILE]... [-O FILE] -l\n", progname, progname);
	if (f == stdout)
		fputs("Run the tool calls of a JSON array (from tool-extract) and write\n"
		    "their results as tool messages, in call order.\n"
		    "  -d, --dir DIR           the tools directory (default $LLM_TOOLS_DIR,\n"
		    "                          then ~/.config/llm-tools/tools.d)\n"
		    "  -t, --timeout SECONDS   time allowed to each call (30)\n"
		    "  -j, --jobs N            calls running at once (16)\n"
		    "  -o, --max-output BYTES  stdout kept of each tool (1 MiB)\n"
		    "  -L, --limit NAME=VALUE  cpu=60 as=8G fsize=1G nofile=1024, or unlimited\n"
		    "  -e, --env NAME          pass variable NAME to the tools (repeatable)\n"
		    "  -s, --sandbox CMD       run each tool under CMD instead of in its own\n"
		    "                          user and PID namespace; 'none': neither;\n"
		    "                          'default': " DEFAULT_SANDBOX "\n"
		    "  -c, --confirm           ask on /dev/tty before each call\n"
		    "  -a, --allow NAMES       run these tools without asking (a,b,c)\n"
		    "  -x, --deny NAMES        never run these tools\n"
		    "  -n, --dry-run           run nothing, say what would run\n"
		    "  -J, --journal FILE      record each call as it starts and ends;\n"
		    "                          calls already there are not run again\n"
		    "  -v, --verbose           show each call and its result on stderr\n"
		    "  -M, --mcp-config FILE   MCP servers whose tools are tools too (repeatable;\n"
		    "                          default $LLM_MCP_CONFIG, else DIR/mcp.json)\n"
		    "  -l, --list              write the tools array of DIR's tools\n"
		    "  -O, --output FILE       write to FILE: all of it, or leave FILE be\n", f);
}

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"output", required_argument, NULL, 'O'},
	{"timeout", required_argument, NULL, 't'},
	{"jobs", required_argument, NULL, 'j'},
	{"max-output", required_argument, NULL, 'o'},
	{"limit", required_argument, NULL, 'L'},
	{"env", required_argument, NULL, 'e'},
	{"sandbox", required_argument, NULL, 's'},
	{"confirm", no_argument, NULL, 'c'},
	{"allow", required_argument, NULL, 'a'},
	{"deny", required_argument, NULL, 'x'},
	{"dry-run", no_argument, NULL, 'n'},
	{"journal", required_argument, NULL, 'J'},
	{"verbose", no_argument, NULL, 'v'},
	{"list", no_argument, NULL, 'l'},
	{"mcp-config", required_argument, NULL, 'M'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* How calls are let through: lists and asking. */
struct gate {
	const char *allow, *deny;  /* comma-separated names, or NULL */
	int confirm, dry_run;
	FILE *tty;                 /* for --confirm; NULL when there is none */
};

static struct job_policy policy;

/* The MCP servers of the run and their tools: {"tools", "routes"} from
 * the holder, once asked; null before. */
static struct mcp_host mcp;
static jv mcp_answer;
static char *mcp_program;

static int
is_tool_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *
tool_path(const char *dir, const char *name)
{
	return toolsdir_path(dir, name);
}

static int
is_tool(const char *dir, const char *name)
{
	return toolsdir_is_tool(dir, name);
}

static char **
tool_names(const char *dir)
{
	return toolsdir_names(dir, 0);
}

static void
free_names(char **names)
{
	toolsdir_free_names(names);
}

static jv
error_content(jv message)
{
	return jv_dump_string(JV_OBJECT(jv_string("error"), message), 0);
}

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

/* What the model reads as the result of a finished job. */
static jv
job_content(const struct job *job, double timeout)
{
	jv msg;

	if (job->failed_to_start)
		return error_content(jv_string_fmt("tool %s could not be "
		    "started: %s", job->name, strerror(job->failed_to_start)));
	if (job->timed_out)
		return error_content(jv_string_fmt("tool %s timed out after "
		    "%g s and was stopped", job->name, timeout));
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
		jv out = jv_string_sized(job->output.data ? job->output.data :
		    "", (int)len);
		if (job->truncated)
			out = jv_string_concat(out, jv_string_fmt(
			    "\n[output truncated at %zu bytes]", policy.max_output));
		return out;
	}
	if (job->errtail.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->errtail));
	} else if (job->output.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->output));
	}
	return error_content(msg);
}

/* The function object of a schema document (a function object, or a
 * whole tool), reduced to what a request may carry, named after the
 * file. Invalid with a message on a bad shape. doc consumed. */
static jv
function_of(jv doc, const char *name)
{
	static const char *fields[] = {"description", "parameters", "strict",
	    NULL};
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
	for (i = 0; fields[i] != NULL; i++) {
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

/* The schema of tool name: DIR/name.json, else DIR/name --schema. */
static jv
tool_schema(const char *dir, const char *name)
{
	char *sidecar = sidecar_path(dir, name);
	struct job job = {0};
	struct stat st;
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
	{
		struct job_policy p = policy;
		/* Under the same sandbox and limits as a call. */
		p.timeout = SCHEMA_TIMEOUT;
		p.on_start = p.on_done = NULL;
		job.name = name;
		job.id = "schema";
		job.path = tool_path(dir, name);
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
	job_free(&job);
	return doc;
}

/* The schemas of the tools called so far (name -> parameters). */
static jv schema_cache;

/* The schema the arguments of MCP tool name are checked against: the
 * server's inputSchema as it came ("$schema" included), else the
 * parameters of its function object fn (borrowed). */
static jv
mcp_schema(const char *name, jv fn)
{
	jv route = jv_object_get(json_get(mcp_answer, "routes"),
	    jv_string(name));
	jv schema = json_get(route, "inputSchema");

	jv_free(route);
	if (jv_get_kind(schema) == JV_KIND_OBJECT)
		return schema;
	jv_free(schema);
	return json_get(fn, "parameters");
}

/* The function objects of the MCP servers' tools that no executable of
 * dir shadows (each shadowed one said once). Asks the holder the first
 * time; its parameters go to the schema cache. */
static jv
mcp_tools(const char *dir)
{
	jv tools, out = jv_array();
	int i, n;

	if (jv_get_kind(mcp_answer) == JV_KIND_NULL) {
		if (!mcp_host_configured(&mcp))
			return out;
		mcp_answer = mcp_host_ask(&mcp, JV_OBJECT(jv_string("op"),
		    jv_string("list")));
		tools = json_get(mcp_answer, "warnings");
		n = jv_get_kind(tools) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(tools)) : 0;
		for (i = 0; i < n; i++) {
			jv w = jv_array_get(jv_copy(tools), i);
			warnx("%s", jv_string_value(w));
			jv_free(w);
		}
		jv_free(tools);
		tools = json_get(mcp_answer, "tools");
		n = jv_get_kind(tools) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(tools)) : 0;
		for (i = 0; i < n; i++) {
			jv t = jv_array_get(jv_copy(tools), i);
			jv fn = json_get(t, "function");
			const char *name = json_get_str(fn, "name");
			if (name != NULL && is_tool(dir, name))
				warnx("MCP tool %s: the executable %s/%s of "
				    "the same name is used instead", name, dir,
				    name);
			else if (name != NULL)
				schema_cache = jv_object_set(schema_cache,
				    jv_string(name), mcp_schema(name, fn));
			jv_free(fn);
			jv_free(t);
		}
		jv_free(tools);
	}
	tools = json_get(mcp_answer, "tools");
	n = jv_get_kind(tools) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(tools)) : 0;
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tools), i);
		jv fn = json_get(t, "function");
		const char *name = json_get_str(fn, "name");
		if (name != NULL && !is_tool(dir, name))
			out = jv_array_append(out, jv_copy(t));
		jv_free(fn);
		jv_free(t);
	}
	jv_free(tools);
	return out;
}

/* The route of MCP tool name (server, tool, annotations), or
 * jv_invalid() when no MCP server has it. */
static jv
mcp_route(const char *dir, const char *name)
{
	jv_free(mcp_tools(dir));
	if (jv_get_kind(mcp_answer) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(json_get(mcp_answer, "routes"), jv_string(name));
}

/* --list: the tools array for every tool in dir. */
static void
list_tools(const char *dir, int configured)
{
	char **names = toolsdir_names(dir, 1), **p;
	jv tools = jv_array();

	if (names == NULL && !(configured && errno == ENOENT))
		die(EXIT_INPUT, "%s: %s", dir, strerror(errno));
	for (p = names; p != NULL && *p != NULL; p++) {
		jv fn = tool_schema(dir, *p);
		if (jv_is_valid(fn))
			fn = function_of(fn, *p);
		if (!jv_is_valid(fn)) {
			char *m = json_invalid_message(fn);
			warnx("%s/%s: skipped: %s", dir, *p, m);
			free(m);
			continue;
		}
		tools = jv_array_append(tools, JV_OBJECT(jv_string("type"),
		    jv_string("function"), jv_string("function"), fn));
	}
	free_names(names);
	tools = jv_array_concat(tools, mcp_tools(dir));
	json_write_stdout(tools);
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

/* For the prompt of an MCP tool: " (MCP server:tool; annotations say
 * ..., unverified)", or "" for an executable. malloc'd. */
static char *
mcp_note(const struct job *job)
{
	static const char *hints[][2] = {{"readOnlyHint", "read-only"},
	    {"destructiveHint", "destructive"}, {"idempotentHint",
	    "idempotent"}, {"openWorldHint", "open world"}};
	jv route, ann, note;
	char *out;
	size_t i;
	int said = 0;

	if (mcp_program == NULL || strcmp(job->path, mcp_program) != 0 ||
	    jv_get_kind(mcp_answer) != JV_KIND_OBJECT)
		return xstrdup("");
	route = jv_object_get(json_get(mcp_answer, "routes"),
	    jv_string(job->name));
	ann = json_get(route, "annotations");
	note = jv_string_fmt(" (MCP %s:%s", json_get_str(route, "server"),
	    json_get_str(route, "tool"));
	for (i = 0; i < sizeof hints / sizeof *hints; i++) {
		jv v = json_get(ann, hints[i][0]);
		if (jv_get_kind(v) == JV_KIND_TRUE) {
			note = jv_string_append_str(note, said++ ? ", " :
			    "; annotations say ");
			note = jv_string_append_str(note, hints[i][1]);
		}
		jv_free(v);
	}
	note = jv_string_append_str(note, said ? ", unverified)" : ")");
	{
		/* The tool's name is the server's: no escapes through. */
		struct buf b = {0};
		term_escape(&b, jv_string_value(note),
		    (size_t)jv_string_length_bytes(jv_copy(note)), 0);
		buf_append(&b, "", 1);
		out = b.data;
	}
	jv_free(note);
	jv_free(ann);
	jv_free(route);
	return out;
}

/* Ask on the terminal whether to run a call: what was typed before the
 * question is dropped, the whole answer line is read, and only "y" or
 * "yes" runs it. No terminal: no. */
static int
ask(struct gate *g, const struct job *job)
{
	char *line = NULL, *note;
	size_t cap = 0;
	ssize_t n;
	int yes;

	if (g->tty == NULL)
		return 0;
	tcflush(fileno(g->tty), TCIFLUSH);
	fprintf(g->tty, "%s: run %s ", progname, job->name);
	term_write(g->tty, job->input, job->input_len, 0);
	note = mcp_note(job);
	fprintf(g->tty, "%s? [y/N] ", note);
	free(note);
	fflush(g->tty);
	n = getline(&line, &cap, g->tty);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	yes = n > 0 && (strcasecmp(line, "y") == 0 ||
	    strcasecmp(line, "yes") == 0);
	free(line);
	return yes;
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
gate_lists(struct gate *g, const struct job *job)
{
	if (listed(g->deny, job->name))
		return jv_string_fmt("declined by the user: %s is a denied "
		    "tool", job->name);
	if (g->allow != NULL && !g->confirm && !listed(g->allow, job->name))
		return jv_string_fmt("declined by the user: %s is not an "
		    "allowed tool", job->name);
	return jv_invalid();
}

/* Why a dry run or the user's answer keeps a call from running, or
 * jv_invalid(). */
static jv
gate_ask(struct gate *g, const struct job *job)
{
	if (g->dry_run) {
		warnx("dry run: would run %s %s", job->path, job->input);
		return jv_string_fmt("not run: this was a dry run; %s was "
		    "not executed", job->name);
	}
	if (listed(g->allow, job->name))
		return jv_invalid();
	if (g->confirm)
		return ask(g, job) ? jv_invalid() : jv_string_fmt(
		    "declined by the user: the call to %s was not run",
		    job->name);
	return jv_invalid();
}

/* The schemas of the tools called so far (name -> parameters): see
 * mcp_tools, where it is declared. */

/* The violations of args (borrowed) against name's parameters schema:
 * a string for the model, or jv_invalid() when they conform or the tool
 * has no schema. With may_exec 0, a tool without a sidecar is not run
 * with --schema, and goes unchecked. */
static jv
check_schema(const char *dir, const char *name, jv args, int may_exec)
{
	jv params, problems, msg;
	int i, n;

	if (!may_exec && !jv_object_has(jv_copy(schema_cache),
	    jv_string(name))) {
		char *sidecar = sidecar_path(dir, name);
		struct stat st;
		int has = stat(sidecar, &st) == 0;

		free(sidecar);
		if (!has)
			return jv_invalid();
	}
	if (!jv_object_has(jv_copy(schema_cache), jv_string(name))) {
		jv fn = tool_schema(dir, name);
		if (jv_is_valid(fn))
			fn = function_of(fn, name);
		params = jv_is_valid(fn) ? json_get(fn, "parameters") :
		    jv_invalid();
		jv_free(fn);
		if (!jv_is_valid(params))
			params = jv_null();
		schema_cache = jv_object_set(schema_cache, jv_string(name),
		    params);
	}
	params = jv_object_get(jv_copy(schema_cache), jv_string(name));
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

/* Why a call cannot run, as a message for the model, or jv_invalid()
 * when it can. Sets the job's name, path and input, and *parsed_args to
 * the arguments as an object (jv_null() when they are not one). */
static jv
check_call(struct job *job, jv call, const char *dir, jv *parsed_args)
{
	jv fn = json_get(call, "function"), args, parsed, name;
	jv problem = jv_invalid(), route = jv_invalid();
	int has_nul;

	*parsed_args = jv_null();
	job->name = json_get_str(fn, "name");
	args = json_get(fn, "arguments");
	name = json_get(fn, "name");
	has_nul = json_string_has_nul(name);
	jv_free(name);
	jv_free(fn);
	if (has_nul) {
		job->name = "?";
		problem = jv_string("invalid tool name: it holds a NUL byte");
	} else if (job->name == NULL) {
		job->name = "?";
		problem = jv_string("the call has no function name");
	} else if (!valid_tool_name(job->name)) {
		problem = jv_string_fmt("invalid tool name \"%.80s\": a name "
		    "matches ^[A-Za-z0-9_-]{1,64}$", job->name);
	} else if (!is_tool(dir, job->name) &&
	    !jv_is_valid(route = mcp_route(dir, job->name))) {
		char **names = tool_names(dir), **p;
		jv more = mcp_tools(dir);
		int i, n = jv_array_length(jv_copy(more));
		problem = jv_string_fmt("unknown tool \"%s\"; available tools:",
		    job->name);
		for (p = names; p != NULL && *p != NULL; p++)
			problem = jv_string_concat(problem,
			    jv_string_fmt("%s %s", p == names ? "" : ",", *p));
		for (i = 0; i < n; i++) {
			jv t = jv_array_get(jv_copy(more), i);
			jv fn = json_get(t, "function");
			problem = jv_string_concat(problem, jv_string_fmt(
			    "%s %s", (p != names || i > 0) ? "," : "",
			    json_get_str(fn, "name")));
			jv_free(fn);
			jv_free(t);
		}
		if ((names == NULL || *names == NULL) && n == 0)
			problem = jv_string_append_str(problem, " none");
		jv_free(more);
		free_names(names);
	}
	if (jv_is_valid(problem)) {
		jv_free(route);
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
	if (jv_is_valid(route)) {
		/* An MCP tool: tool-mcp calls it through the holder, and
		 * the sandbox and the limits are the server's. */
		job->path = xstrdup(mcp_program);
		job->own = 1;
	} else
		job->path = tool_path(dir, job->name);
	jv_free(route);
	return jv_invalid();
}

/* The id of call i, whole (after a NUL byte too). */
static jv
call_id(jv calls, size_t i)
{
	jv call = jv_array_get(jv_copy(calls), (int)i);
	jv id = json_get(call, "id");

	jv_free(call);
	return id;
}

static int
call_id_has_nul(jv call)
{
	jv id = json_get(call, "id");
	int has = json_string_has_nul(id);

	jv_free(id);
	return has;
}

/* The journal of a run: one JSON line per event, {"started": ID} before
 * a call runs and its tool message once it is done, each with "time"
 * (seconds since the epoch, to the millisecond), written whole and synced, so that a run killed at any moment can be resumed without
 * running any call twice. */
struct journal {
	int fd;
	int verbose;
	jv done;        /* id -> content, from an earlier run */
	jv started;     /* id -> true */
};

static void
journal_write(struct journal *j, jv line)
{
	struct timespec now;
	char *text;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	line = jv_object_set(line, jv_string("time"), jv_number((double)
	    (now.tv_sec * 1000 + now.tv_nsec / 1000000) / 1000));
	text = json_dump(line);
	n = strlen(text);

	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	if (j->fd >= 0 && (write(j->fd, text, n) != (ssize_t)n ||
	    fsync(j->fd) != 0))
		die(EXIT_TRANSIENT, "journal: %s", strerror(errno));
	free(text);
}

/* Read what an earlier run recorded; a torn last line is ignored. */
static void
journal_open(struct journal *j, const char *path)
{
	struct buf b = {0};
	struct stat st;
	char *line, *next;

	j->done = jv_object();
	j->started = jv_object();
	j->fd = -1;
	if (path == NULL)
		return;
	/* Never through a planted link, never a file others may touch. */
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (j->fd < 0 && errno == ELOOP)
		die(EXIT_INPUT, "journal %s: a symbolic link; refused (the "
		    "journal is written only as a file of its own)", path);
	if (j->fd < 0)
		die(EXIT_INPUT, "journal %s: %s", path, strerror(errno));
	if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode))
		die(EXIT_INPUT, "journal %s: not a regular file; refused", path);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		die(EXIT_INPUT, "journal %s: %s; refused (fix: chmod 600 %s, "
		    "or remove it)", path, st.st_uid != geteuid() ?
		    "owned by another user" : "writable by others", path);
	if (read_fd_all(j->fd, &b, JSON_INPUT_MAX) != 0)
		die(EXIT_INPUT, "journal %s: %s", path, strerror(errno));
	for (line = b.data; line != NULL && *line != '\0'; line = next) {
		jv v;
		const char *id;

		next = strchr(line, '\n');
		if (next == NULL)
			break;  /* torn: it never got its newline */
		*next++ = '\0';
		v = json_parse(line, strlen(line));
		if ((id = json_get_str(v, "started")) != NULL)
			j->started = jv_object_set(j->started, jv_string(id),
			    jv_true());
		else if ((id = json_get_str(v, "tool_call_id")) != NULL)
			j->done = jv_object_set(j->done, jv_string(id),
			    json_get(v, "content"));
		jv_free(v);
	}
	buf_free(&b);
}

/* A short one-line rendering of text for --verbose, made safe for a
 * terminal, cut on a character boundary. */
static void
show(const char *arrow, const char *name, const char *text, size_t len)
{
	size_t n = len;

	if (n > 200) {
		n = 200;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	fprintf(stderr, "%s ", arrow);
	term_write(stderr, name, strlen(name), 0);
	fputc(' ', stderr);
	term_write(stderr, text, n, 0);
	fprintf(stderr, "%s\n", n < len ? "..." : "");
}

static void
on_job_start(struct job *job, void *ctx)
{
	struct journal *j = ctx;

	if (j->verbose)
		show("->", job->name, job->input, job->input_len);
	journal_write(j, JV_OBJECT(jv_string("started"), jv_string(job->id)));
}

static void
on_job_done(struct job *job, void *ctx)
{
	struct journal *j = ctx;
	jv content = job_content(job, policy.timeout);

	if (j->verbose)
		show("<-", job->name, jv_string_value(content),
		    (size_t)jv_string_length_bytes(jv_copy(content)));
	journal_write(j, JV_OBJECT(jv_string("role"), jv_string("tool"),
	    jv_string("tool_call_id"), jv_string(job->id),
	    jv_string("content"), content));
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

static char **split_words(const char *cmd);

/* The argv of --sandbox default for tools in dir: the profile, with
 * the current directory and dir visible (read-only) over the private
 * /tmp, starting in the current directory. */
static char **
default_sandbox(const char *dir)
{
	static char cwd[4096];
	char **argv = split_words(DEFAULT_SANDBOX);
	size_t n = 0, i;

	if (getcwd(cwd, sizeof cwd) == NULL)
		strcpy(cwd, "/");
	while (argv[n] != NULL)
		n++;
	argv = xrealloc(argv, (n + 10) * sizeof *argv);
	n--;    /* before the final "--" */
	i = n;
	argv[i++] = "--ro-bind";
	argv[i++] = cwd;
	argv[i++] = cwd;
	argv[i++] = "--ro-bind";
	argv[i++] = (char *)dir;
	argv[i++] = (char *)dir;
	argv[i++] = "--chdir";
	argv[i++] = cwd;
	argv[i++] = "--";
	argv[i] = NULL;
	return argv;
}

/* Split a sandbox command line on blanks (no shell, no quoting). */
static char **
split_words(const char *cmd)
{
	char *copy = xstrdup(cmd), *word, *save = NULL;
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

int
main(int argc, char *argv[])
{
	static const char *const own_env[] = {"LLM_TOOLS_DIR",
	    "LLM_TOOL_SANDBOX", "XDG_CONFIG_HOME", NULL};
	const char *dir = NULL, *sandbox = getenv("LLM_TOOL_SANDBOX");
	const char *journal_path = NULL;
	char *dir_found;
	int configured;
	struct journal journal = {0};
	char *abs_dir = NULL;
	static const char *pass_env[65];
	struct gate gate = {0};
	struct job *jobs;
	jv calls, results, *early;
	size_t i, n, npass = 0;
	long num;
	const char *output = NULL;
	int c, list = 0;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	jobs_default_policy(&policy);
	while ((c = getopt_long(argc, argv, "d:t:j:o:L:e:s:ca:x:nJ:vlM:hVO:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'O':
			output = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &policy.timeout) != 0 ||
			    policy.timeout <= 0)
				die(EXIT_USAGE, "-t: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case 'j':
			if (parse_long(optarg, 1, 1024, &num) != 0)
				die(EXIT_USAGE, "-j: not a number of jobs from 1 "
				    "to 1024: %s", optarg);
			policy.max_running = (int)num;
			break;
		case 'o':
			if (parse_long(optarg, 1, 1L << 30, &num) != 0)
				die(EXIT_USAGE, "-o: not a number of bytes from 1 "
				    "to 1 GiB: %s", optarg);
			policy.max_output = (size_t)num;
			break;
		case 'L':
			if (jobs_set_limit(&policy, optarg) != 0)
				die(EXIT_USAGE, "-L: not NAME=VALUE with NAME cpu, "
				    "as, fsize or nofile: %s", optarg);
			break;
		case 'e':
			if (!valid_env_name(optarg))
				die(EXIT_USAGE, "-e: not a variable name: %s",
				    optarg);
			if (npass == 64)
				die(EXIT_USAGE, "-e: at most 64 variables");
			pass_env[npass++] = optarg;
			break;
		case 's':
			sandbox = optarg;
			break;
		case 'c':
			gate.confirm = 1;
			break;
		case 'a':
			gate.allow = optarg;
			break;
		case 'x':
			gate.deny = optarg;
			break;
		case 'n':
			gate.dry_run = 1;
			break;
		case 'J':
			journal_path = optarg;
			break;
		case 'v':
			journal.verbose = 1;
			break;
		case 'l':
			list = 1;
			break;
		case 'M':
			if (mcp.nconfigs == MCP_HOST_CONFIGS)
				die(EXIT_USAGE, "-M: at most %d files",
				    MCP_HOST_CONFIGS);
			mcp.configs[mcp.nconfigs++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-run " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (list && argc - optind > 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (output != NULL)
		output_to(output);
	dir = dir_found = toolsdir_find(dir, &configured);
	use_tools_dir(dir, configured);
	mcp_answer = jv_null();
	mcp.dir = dir;
	mcp.sandbox = sandbox;
	mcp.verbose = journal.verbose;
	if (mcp_host_configured(&mcp)) {
		/* One holder keeps the servers for every call of the run;
		 * the calls reach it through the socket. It starts before
		 * the secrets go: ${VAR} in its configuration may name one
		 * (it keeps what it expands and then drops the rest). */
		mcp_program = mcp_host_program();
		mcp_host_start(&mcp, mcp_program);
		jobs_spare(mcp.holder);
		pass_env[npass++] = "LLM_MCP_SOCKET";
	}
	pass_env[npass] = NULL;
	policy.pass_env = pass_env;
	/* No secret is ours to keep: tools get none, and a tool that
	 * reaches this process finds none. */
	jobs_drop_secrets(&policy, own_env);
	jobs_init();
	if (sandbox != NULL && strcmp(sandbox, "none") == 0) {
		policy.isolate = 0;
		warnx("--sandbox none: tools are not isolated: they can read "
		    "the environment and memory of this user's processes "
		    "(/proc/PID/environ, ptrace), such as the shell that "
		    "started this run, and the secrets in them");
	} else if (sandbox != NULL && *sandbox != '\0') {
		/* The wrapper isolates: it may start elsewhere, so name the
		 * tools by full path. */
		policy.isolate = 0;
		if ((abs_dir = realpath(dir, NULL)) != NULL)
			dir = abs_dir;
		policy.sandbox = strcmp(sandbox, "default") == 0 ?
		    default_sandbox(dir) : split_words(sandbox);
	}
	schema_cache = jv_object();
	if (list) {
		list_tools(dir, configured);
		free(abs_dir);
		free(dir_found);
		mcp_host_stop(&mcp);
		jv_free(mcp_answer);
		free(mcp_program);
		finish_stdout();
		return 0;
	}

	calls = json_read_doc(argv[optind], "tool calls");
	if (jv_get_kind(calls) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "tool calls: %s, not an array",
		    json_kind_name(calls));
	n = (size_t)jv_array_length(jv_copy(calls));
	jobs = xmalloc((n + 1) * sizeof *jobs);
	early = xmalloc((n + 1) * sizeof *early);
	memset(jobs, 0, (n + 1) * sizeof *jobs);
	journal_open(&journal, journal_path);
	policy.on_start = on_job_start;
	policy.on_done = on_job_done;
	policy.ctx = &journal;
	if (gate.confirm)
		gate.tty = fopen("/dev/tty", "r+e");
	for (i = 0; i < n; i++) {
		jv call = jv_array_get(jv_copy(calls), (int)i);
		jobs[i].id = json_get_str(call, "id");
		if (jobs[i].id == NULL || *jobs[i].id == '\0')
			die(EXIT_INPUT, "tool call %zu has no id", i);
		if (call_id_has_nul(call)) {
			/* The journal and the tool see ids as C strings. */
			early[i] = error_content(jv_string("the call id holds a "
			    "NUL byte; tool calls are answered by id, so it was "
			    "not run"));
			jobs[i].name = "?";
		} else if (jv_object_has(jv_copy(journal.done), jv_string(jobs[i].id))) {
			/* Answered by an earlier run: the answer stands. */
			early[i] = jv_object_get(jv_copy(journal.done),
			    jv_string(jobs[i].id));
			jobs[i].name = "?";
		} else if (jv_object_has(jv_copy(journal.started),
		    jv_string(jobs[i].id))) {
			early[i] = error_content(jv_string("interrupted: this "
			    "call was started but its result was lost; it was "
			    "not run again, so that no call runs twice"));
			jobs[i].name = "?";
		} else {
			/* The cheap checks and the user's lists first: a
			 * denied tool is not even asked for its schema. */
			jv args;

			early[i] = check_call(&jobs[i], call, dir, &args);
			if (!jv_is_valid(early[i]))
				early[i] = check_trust(&jobs[i]);
			if (!jv_is_valid(early[i]))
				early[i] = gate_lists(&gate, &jobs[i]);
			if (!jv_is_valid(early[i]))
				early[i] = check_schema(dir, jobs[i].name, args,
				    !gate.dry_run);
			jv_free(args);
			if (!jv_is_valid(early[i]))
				early[i] = gate_ask(&gate, &jobs[i]);
			if (jv_is_valid(early[i])) {
				if (journal.verbose)
					show("x>", valid_tool_name(jobs[i].name) ?
					    jobs[i].name : "?", jv_string_value(early[i]),
					    strlen(jv_string_value(early[i])));
				early[i] = error_content(early[i]);
			}
		}
		jobs[i].skip = jv_is_valid(early[i]);
		jv_free(call);
	}
	if (gate.tty != NULL)
		fclose(gate.tty);
	jobs_run(jobs, n, &policy);

	results = jv_array();
	for (i = 0; i < n; i++) {
		jv content = jv_is_valid(early[i]) ? early[i] :
		    job_content(&jobs[i], policy.timeout);
		results = jv_array_append(results, JV_OBJECT(
		    jv_string("role"), jv_string("tool"),
		    jv_string("tool_call_id"), call_id(calls, i),
		    jv_string("content"), content));
		free((char *)jobs[i].input);
		job_free(&jobs[i]);
	}
	json_write_stdout(results);
	free(jobs);
	free(early);
	if (policy.sandbox != NULL) {
		free(policy.sandbox[0]);
		free(policy.sandbox);
	}
	jv_free(schema_cache);
	jv_free(calls);
	jv_free(journal.done);
	jv_free(journal.started);
	if (journal.fd >= 0)
		close(journal.fd);
	free(abs_dir);
	free(dir_found);
	mcp_host_stop(&mcp);
	jv_free(mcp_answer);
	free(mcp_program);
	finish_stdout();
	return 0;
}
