/*
 * tool-serve: serve a tools directory as a Model Context Protocol server.
 * JSON-RPC messages arrive one per line on stdin and answers leave one
 * per line on stdout (nothing else is written there; messages go to
 * stderr). Both protocol eras are spoken: the initialize handshake of
 * 2025-11-25 and older, and the per-request _meta of 2026-07-28
 * (server/discover). tools/list is the listing of tool-run --list;
 * tools/call runs the tool as tool-run runs it (lib/runner.c), several
 * at once; notifications/cancelled stops a call without an answer. At
 * the end of input every running tool is stopped and the server exits 0.
 * With --http, the same messages come as HTTP POSTs to /mcp (lib/httpd.c),
 * one per request, answered in the response; closing a request cancels
 * its call.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "jobs.h"
#include "json.h"
#include "mcp.h"
#include "httpd.h"
#include "runner.h"
#include "schema.h"

#define LINE_MAX_BYTES ((size_t)64 << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DIR] [-T SECONDS] [-P JOBS] [-b BYTES] "
	    "[-L LIMIT=VALUE]...\n"
	    "                  [-e NAME]... [-B SANDBOX] [-a NAMES] "
	    "[-x NAMES]\n"
	    "                  [--http ADDRESS:PORT [-K TOKENFILE]]\n", progname);
	if (f == stdout)
		fputs("Serve the tools of a directory to MCP hosts: JSON-RPC "
		    "lines on stdin and\nstdout; each call runs as tool-run "
		    "runs it.\n"
		    "  -d, --dir DIR           the tools directory (default "
		    "$LLM_TOOLS_DIR, then\n"
		    "                          ~/.config/llm-tools/tools.d)\n"
		    "  -T, --tool-timeout SECONDS  time allowed to each call (30)\n"
		    "  -P, --jobs N            calls running at once (16)\n"
		    "  -b, --max-output BYTES  stdout kept of each tool (1 MiB)\n"
		    "  -L, --limit NAME=VALUE  cpu=60 as=8G fsize=1G "
		    "nofile=1024, or unlimited\n"
		    "  -e, --env NAME          pass variable NAME to the tools "
		    "(repeatable)\n"
		    "  -B, --sandbox CMD       run each tool under CMD instead "
		    "of in its own\n"
		    "                          user and PID namespace; 'none': "
		    "neither;\n"
		    "                          'default': " RUNNER_DEFAULT_SANDBOX
		    "\n"
		    "  -a, --allow NAMES       serve only these tools' calls "
		    "(a,b,c)\n"
		    "  -x, --deny NAMES        never run these tools\n"
		    "      --http ADDRESS:PORT serve MCP over HTTP at "
		    "http://ADDRESS:PORT/mcp\n"
		    "                          instead of stdio (loopback; port 0: "
		    "a free one)\n"
		    "  -K, --token-file FILE   require the bearer token of FILE's "
		    "first line;\n"
		    "                          needed for an address other than "
		    "loopback\n", f);
}

/* The options that have no letter. */
enum { OPT_CONFIRM = 256, OPT_HTTP };

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"tool-timeout", required_argument, NULL, 'T'},
	{"jobs", required_argument, NULL, 'P'},
	{"max-output", required_argument, NULL, 'b'},
	{"limit", required_argument, NULL, 'L'},
	{"env", required_argument, NULL, 'e'},
	{"sandbox", required_argument, NULL, 'B'},
	{"confirm", no_argument, NULL, OPT_CONFIRM},
	{"http", required_argument, NULL, OPT_HTTP},
	{"token-file", required_argument, NULL, 'K'},
	{"allow", required_argument, NULL, 'a'},
	{"deny", required_argument, NULL, 'x'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* A tools/call: queued, then running, then answered. */
struct call {
	jv id;              /* the request's id */
	jv request;         /* kept: the job's name points into it */
	struct job job;
	int modern;         /* answer in the 2026-07-28 shape */
	int conn;           /* the HTTP connection to answer on, or -1 */
	int running, cancelled;
	struct call *next;
};

static struct runner runner;
static jv tools;            /* name -> MCP tool object, as listed */
static jv tool_order;       /* the MCP tool objects in name order */
static struct call *calls;  /* in arrival order */
static int initialized;     /* an initialize was answered */
static int http;            /* serving HTTP: each request stands alone */
static int conn_now = -1;   /* the HTTP connection of the request read */

/* Write one message as one line; a host that is gone ends the server. */
static void
send_message(jv msg)
{
	char *text = json_dump(msg);
	size_t n = strlen(text), off = 0;

	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	while (off < n) {
		ssize_t w = write(STDOUT_FILENO, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			struct call *c;
			warnx("stdout: %s", strerror(errno));
			for (c = calls; c != NULL; c = c->next)
				job_cancel(&c->job);
			jobs_kill_leftovers();
			exit(EXIT_TRANSIENT);
		}
		off += (size_t)w;
	}
	free(text);
}

/* Answer an HTTP request whole and for good (the connection closes):
 * status, the extra header lines (each ending in CRLF, or NULL) and a
 * body of type ctype (none when ctype is NULL). */
static void
respond(int fd, int status, const char *headers, const char *ctype,
    const char *body, size_t len)
{
	struct http_response r;

	http_response_init(&r);
	http_set_body(&r, status, ctype, body != NULL ? body : "", len);
	if (headers != NULL)
		buf_append_str(&r.headers, headers);
	if (http_send(fd, &r, 0) < 0)
		warnx("http: %s", strerror(errno));
	http_response_free(&r);
}

/* Write msg as the JSON answer of an HTTP request. */
static void
http_answer(int fd, jv msg, int status)
{
	char *text = json_dump(msg);

	respond(fd, status, NULL, "application/json", text, strlen(text));
	free(text);
}

static jv
server_info(void)
{
	return JV_OBJECT(jv_string("name"), jv_string("tool-serve"),
	    jv_string("version"), jv_string(LLM_TOOLS_VERSION));
}

static jv
capabilities(void)
{
	return JV_OBJECT(jv_string("tools"), JV_OBJECT(
	    jv_string("listChanged"), jv_false()));
}

/* A result in the era of the request: a modern one says it is complete
 * and who answered. */
static jv
answer(jv id, jv result, int modern)
{
	if (modern) {
		result = jv_object_set(result, jv_string("resultType"),
		    jv_string("complete"));
		result = jv_object_set(result, jv_string("_meta"), JV_OBJECT(
		    jv_string(MCP_META_SERVER_INFO), server_info()));
	}
	return mcp_result(id, result);
}

/* The MCP tool object of a function object from the listing. */
static jv
mcp_tool(jv fn)
{
	static const char *const passed[] = {"title", "description",
	    "annotations", "outputSchema", NULL};
	jv tool = JV_OBJECT(jv_string("name"), json_get(fn, "name"));
	jv params = json_get(fn, "parameters");
	int i;

	for (i = 0; passed[i] != NULL; i++) {
		jv v = json_get(fn, passed[i]);
		if (jv_is_valid(v))
			tool = jv_object_set(tool, jv_string(passed[i]), v);
		else
			jv_free(v);
	}
	if (jv_get_kind(params) != JV_KIND_OBJECT) {
		jv_free(params);
		params = JV_OBJECT(jv_string("type"), jv_string("object"));
	}
	tool = jv_object_set(tool, jv_string("inputSchema"), params);
	jv_free(fn);
	return tool;
}

/* The listing, read once: what a host sees is fixed for the run. */
static void
load_tools(void)
{
	jv fns = runner_list(&runner, 1);

	tools = jv_object();
	tool_order = jv_array();
	jv_array_foreach(fns, i, fn) {
		jv tool = mcp_tool(fn);
		tools = jv_object_set(tools, json_get(tool, "name"),
		    jv_copy(tool));
		tool_order = jv_array_append(tool_order, tool);
	}
	jv_free(fns);
}

/* TOOL_CALL_ID of a request id: mcp-ID. */
static char *
call_id_of(jv id)
{
	jv s = jv_get_kind(id) == JV_KIND_STRING && !json_string_has_nul(id) ?
	    jv_copy(id) : jv_dump_string(jv_copy(id), 0);
	char *out = xmalloc(strlen(jv_string_value(s)) + sizeof "mcp-");

	sprintf(out, "mcp-%s", jv_string_value(s));
	jv_free(s);
	return out;
}

static jv
tool_result(jv text, int is_error, jv structured)
{
	jv r = JV_OBJECT(jv_string("content"), JV_ARRAY(JV_OBJECT(
	    jv_string("type"), jv_string("text"), jv_string("text"), text)),
	    jv_string("isError"), is_error ? jv_true() : jv_false());

	if (jv_is_valid(structured))
		r = jv_object_set(r, jv_string("structuredContent"),
		    structured);
	else
		jv_free(structured);
	return r;
}

/* The answer to a finished call: tool-run's outcome, with the output as
 * structured content too when the tool declares an outputSchema. */
static jv
call_result(struct call *c)
{
	int failed;
	jv text = runner_outcome(&runner, &c->job, &failed);
	jv tool = jv_object_get(jv_copy(tools), jv_string(c->job.name));
	jv schema = json_get(tool, "outputSchema"), value, problems;
	int n;

	jv_free(tool);
	if (failed || !jv_is_valid(schema) || c->job.truncated) {
		jv_free(schema);
		return tool_result(text, failed, jv_invalid());
	}
	value = json_parse(jv_string_value(text),
	    (size_t)jv_string_length_bytes(jv_copy(text)));
	if (!jv_is_valid(value)) {
		jv_free(value);
		jv_free(schema);
		return tool_result(jv_string_fmt("tool %s: its output is not "
		    "the JSON its outputSchema describes", c->job.name), 1,
		    jv_invalid());
	}
	problems = schema_check(schema, value);
	jv_free(schema);
	n = jv_array_length(jv_copy(problems));
	if (n > 0) {
		jv msg = jv_string_fmt("tool %s: its output does not match its "
		    "outputSchema:", c->job.name);
		jv_array_foreach(problems, i, p) {
			msg = jv_string_append_str(msg, i == 0 ? " " : "; ");
			msg = jv_string_concat(msg, p);
		}
		jv_free(problems);
		jv_free(value);
		jv_free(text);
		return tool_result(msg, 1, jv_invalid());
	}
	jv_free(problems);
	return tool_result(text, 0, value);
}

static void
call_free(struct call *c)
{
	if (c->conn >= 0)
		close(c->conn);
	free((char *)c->job.input);
	free((char *)c->job.id);
	job_free(&c->job);
	jv_free(c->id);
	jv_free(c->request);
	free(c);
}

/* tools/call: an answer now (a protocol error, or a call that may not
 * run), or jv_invalid() once the call is queued. */
static jv
tools_call(jv id, jv params, int modern)
{
	const char *name = json_get_str(params, "name");
	jv args = json_get(params, "arguments"), fn, problem;
	struct call *c, **tail;

	if (name == NULL || !jv_object_has(jv_copy(tools), jv_string(name))) {
		jv_free(args);
		return mcp_error(id, MCP_INVALID_PARAMS, name == NULL ?
		    jv_string("tools/call: params.name is not a string") :
		    jv_string_fmt("unknown tool \"%.80s\"", name), jv_invalid());
	}
	if (jv_get_kind(args) == JV_KIND_INVALID)
		args = jv_object();
	if (jv_get_kind(args) != JV_KIND_OBJECT) {
		jv e = mcp_error(id, MCP_INVALID_PARAMS, jv_string_fmt(
		    "tools/call: params.arguments is %s, not an object",
		    json_kind_name(args)), jv_invalid());
		jv_free(args);
		return e;
	}
	c = xmalloc(sizeof *c);
	memset(c, 0, sizeof *c);
	c->id = id;
	c->modern = modern;
	c->conn = conn_now;
	c->request = JV_OBJECT(jv_string("name"), jv_string(name),
	    jv_string("arguments"), args);
	fn = c->request;
	c->job.id = call_id_of(id);
	problem = runner_prepare(&runner, &c->job, fn, 1);
	if (jv_is_valid(problem)) {
		jv a = answer(jv_copy(id), tool_result(problem, 1,
		    jv_invalid()), modern);
		call_free(c);
		return a;
	}
	for (tail = &calls; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = c;
	return jv_invalid();
}

/* Stop call c, which then goes unanswered: a queued one is forgotten,
 * a running one killed and forgotten once reaped. */
static void
stop_call(struct call *c)
{
	struct call **p;

	if (c->running) {
		c->cancelled = 1;
		job_cancel(&c->job);
		return;
	}
	for (p = &calls; *p != c; p = &(*p)->next)
		;
	*p = c->next;
	call_free(c);
}

/* notifications/cancelled on stdio: stop the call of that id. Over
 * HTTP a host cancels by closing the request's connection. */
static void
cancel(jv params)
{
	jv id = json_get(params, "requestId");
	struct call *c;

	for (c = calls; c != NULL && jv_is_valid(id) && !http; c = c->next)
		if (!c->cancelled && jv_equal(jv_copy(c->id), jv_copy(id))) {
			stop_call(c);
			break;
		}
	jv_free(id);
}

/* The era of a request without initialize: its _meta version. 1 modern,
 * 0 legacy; -1 with *error set when it cannot be served. */
static int
request_era(jv id, jv params, jv *error)
{
	jv version = mcp_meta(params, MCP_META_VERSION), caps;
	int era;

	*error = jv_invalid();
	if (!jv_is_valid(version)) {
		jv_free(version);
		if (initialized || http)
			return 0;
		*error = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "no protocol version: send initialize first, or "
		    "_meta[\"" MCP_META_VERSION "\"] with each request"),
		    jv_invalid());
		return -1;
	}
	if (jv_get_kind(version) != JV_KIND_STRING ||
	    !mcp_version_known(jv_string_value(version))) {
		*error = mcp_unsupported_version(jv_copy(id),
		    jv_get_kind(version) == JV_KIND_STRING ?
		    jv_string_value(version) : NULL);
		jv_free(version);
		return -1;
	}
	era = !mcp_version_is_legacy(jv_string_value(version));
	jv_free(version);
	caps = mcp_meta(params, MCP_META_CLIENT_CAPS);
	if (era && jv_get_kind(caps) != JV_KIND_OBJECT) {
		*error = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "_meta[\"" MCP_META_CLIENT_CAPS "\"] is required"),
		    jv_invalid());
		era = -1;
	}
	jv_free(caps);
	return era;
}

static jv
initialize(jv id, jv params)
{
	const char *asked = json_get_str(params, "protocolVersion");
	const char *version = asked != NULL && mcp_version_is_legacy(asked) ?
	    asked : MCP_LEGACY_VERSION;

	initialized = 1;
	return mcp_result(id, JV_OBJECT(jv_string("protocolVersion"),
	    jv_string(version), jv_string("capabilities"), capabilities(),
	    jv_string("serverInfo"), server_info()));
}

static jv
discover(jv id, int modern)
{
	jv versions = mcp_versions_array();

	return answer(id, JV_OBJECT(jv_string("supportedVersions"), versions,
	    jv_string("capabilities"), capabilities()), modern);
}

static jv
tools_list(jv id, jv params, int modern)
{
	jv cursor = json_get(params, "cursor"), result;

	if (jv_is_valid(cursor)) {
		/* One page: no cursor was ever given out. */
		jv_free(cursor);
		return mcp_error(id, MCP_INVALID_PARAMS,
		    jv_string("invalid cursor"), jv_invalid());
	}
	jv_free(cursor);
	result = JV_OBJECT(jv_string("tools"), jv_copy(tool_order));
	if (modern) {
		result = jv_object_set(result, jv_string("ttlMs"),
		    jv_number(0));
		result = jv_object_set(result, jv_string("cacheScope"),
		    jv_string("public"));
	}
	return answer(id, result, modern);
}

/* One message from the host: the answer to send now, or jv_invalid()
 * (a notification, a response, or a call that answers later). */
static jv
handle(jv msg)
{
	const char *method = json_get_str(msg, "method");
	jv id = json_get(msg, "id"), params = json_get(msg, "params"), out;
	jv error, meta;
	int era, has_meta;

	if (jv_get_kind(msg) != JV_KIND_OBJECT || (method == NULL &&
	    !jv_is_valid(id))) {
		out = mcp_error(jv_null(), MCP_INVALID_REQUEST, jv_string(
		    "not a JSON-RPC request"), jv_invalid());
		goto done;
	}
	if (method == NULL) {
		/* A response: this server asks nothing. */
		out = jv_invalid();
		goto done;
	}
	if (!jv_is_valid(id)) {
		if (strcmp(method, "notifications/cancelled") == 0)
			cancel(params);
		out = jv_invalid();
		goto done;
	}
	if (jv_get_kind(id) != JV_KIND_STRING && jv_get_kind(id) !=
	    JV_KIND_NUMBER) {
		out = mcp_error(jv_null(), MCP_INVALID_REQUEST, jv_string(
		    "the id is neither a string nor a number"), jv_invalid());
		goto done;
	}
	meta = mcp_meta(params, MCP_META_VERSION);
	has_meta = jv_is_valid(meta);
	jv_free(meta);
	/* The handshake of the legacy era; the modern one has none. */
	if (!has_meta && strcmp(method, "initialize") == 0) {
		out = initialize(jv_copy(id), params);
		goto done;
	}
	if (!has_meta && strcmp(method, "ping") == 0) {
		out = mcp_result(jv_copy(id), jv_object());
		goto done;
	}
	if (!has_meta && strcmp(method, "server/discover") == 0) {
		out = discover(jv_copy(id), 1);
		goto done;
	}
	if ((era = request_era(id, params, &error)) < 0) {
		out = error;
		goto done;
	}
	if (strcmp(method, "server/discover") == 0)
		out = discover(jv_copy(id), era);
	else if (!era && strcmp(method, "ping") == 0)
		out = mcp_result(jv_copy(id), jv_object());
	else if (strcmp(method, "tools/list") == 0)
		out = tools_list(jv_copy(id), params, era);
	else if (strcmp(method, "tools/call") == 0)
		out = tools_call(jv_copy(id), params, era);
	else
		out = mcp_error(jv_copy(id), MCP_METHOD_NOT_FOUND,
		    jv_string_fmt("method not found: %.80s", method),
		    jv_invalid());
done:
	jv_free(id);
	jv_free(params);
	jv_free(msg);
	return out;
}

/* Each whole line of in: a message handled, its answer sent. */
static void
take_lines(struct buf *in)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(in->data + start, '\n', in->len - start)) !=
	    NULL) {
		size_t len = (size_t)(nl - (in->data + start));
		jv msg, out;

		*nl = '\0';
		if (len > 0 && in->data[start + len - 1] == '\r')
			in->data[start + --len] = '\0';
		if (len > 0) {
			msg = json_parse(in->data + start, len);
			out = jv_is_valid(msg) ? handle(msg) : mcp_error(
			    jv_null(), MCP_PARSE_ERROR, jv_string("parse error"),
			    jv_invalid());
			if (!jv_is_valid(msg))
				jv_free(msg);
			if (jv_is_valid(out))
				send_message(out);
			else
				jv_free(out);
		}
		start += len + 1 + (in->data[start + len] == '\r');
	}
	memmove(in->data, in->data + start, in->len - start);
	in->len -= start;
	if (in->len > LINE_MAX_BYTES) {
		send_message(mcp_error(jv_null(), MCP_PARSE_ERROR, jv_string(
		    "message longer than 64 MiB"), jv_invalid()));
		in->len = 0;
	}
}

/* Start queued calls while there is room; how many started. */
static int
start_calls(void)
{
	struct call *c;
	int running = 0, started = 0;

	for (c = calls; c != NULL; c = c->next)
		running += c->running;
	for (c = calls; c != NULL && running < runner.policy.max_running;
	    c = c->next) {
		if (c->running)
			continue;
		if (job_start(&c->job, &runner.policy) < 0) {
			if (running > 0)
				break;  /* again when one ends */
			c->job.started = c->job.exited = 1;
			c->job.failed_to_start = errno;
		}
		c->running = 1;
		running++;
		started++;
	}
	return started;
}

/* Answer and forget the calls that are done. */
static void
finish_calls(double t, double *next)
{
	struct call **p = &calls, *c;

	while ((c = *p) != NULL) {
		if (!c->running || !job_check(&c->job, t, next)) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		if (!c->cancelled && c->conn >= 0)
			http_answer(c->conn, answer(jv_copy(c->id),
			    call_result(c), c->modern), 200);
		else if (!c->cancelled)
			send_message(answer(jv_copy(c->id), call_result(c),
			    c->modern));
		call_free(c);
	}
}

/* The end of input: every call stops, unanswered. */
static void
stop_all_calls(void)
{
	struct call *c = calls, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		stop_call(c);
	}
}

static struct httpd server;
static char *token;             /* the bearer token, or NULL */
static char bind_host[256];     /* the host of --http */
static int bind_loopback;       /* --http on a loopback address */

/* Is the host of h (host[:port], up to a slash) a loopback name, or
 * this server's when others may be? */
static int
host_allowed(const char *h, int others)
{
	char host[256];
	size_t n;

	n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	if (n == 0 || n >= sizeof host || (*h == '[' && h[n - 1] != ']'))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	return strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
	    (others && strcasecmp(host, bind_host) == 0);
}

/* Is origin (scheme://host[:port]) a loopback one or this server's? A
 * web page of another origin must not reach the server through a
 * browser (DNS rebinding). */
static int
origin_allowed(const char *origin)
{
	const char *h = strstr(origin, "://");

	return h != NULL && host_allowed(h + 3, 1);
}

/* Does the Authorization header carry the token? */
static int
authorized(const char *auth)
{
	size_t n, i;
	unsigned char diff = 0;

	if (token == NULL)
		return 1;
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	n = strlen(token);
	if (strlen(auth) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(auth[i] ^ token[i]);
	return diff == 0;
}

/* Why the headers of a request do not match its body, as the error to
 * answer with status 400, or jv_invalid(). */
static jv
header_mismatch(const struct http_request *req, jv msg)
{
	const char *hv = json_get_str(req->headers, "mcp-protocol-version");
	const char *hm = json_get_str(req->headers, "mcp-method");
	const char *hn = json_get_str(req->headers, "mcp-name");
	const char *method = json_get_str(msg, "method");
	jv params = json_get(msg, "params"), id = json_get(msg, "id");
	jv mv = mcp_meta(params, MCP_META_VERSION), out = jv_invalid();
	jv caps = jv_invalid();
	const char *name = json_get_str(params, "name");

	if (hv != NULL && !mcp_version_known(hv))
		out = mcp_unsupported_version(jv_copy(id), hv);
	else if (jv_get_kind(mv) == JV_KIND_STRING &&
	    !mcp_version_is_legacy(jv_string_value(mv)) &&
	    (hv == NULL || strcmp(hv, jv_string_value(mv)) != 0))
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the MCP-Protocol-Version header does not match "
		    "_meta[\"" MCP_META_VERSION "\"]"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    (hm == NULL || (name != NULL && strcmp(method, "tools/call") == 0 &&
	    hn == NULL)))
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string_fmt(
		    "the %s header is missing", hm == NULL ? "Mcp-Method" :
		    "Mcp-Name"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id")) &&
	    jv_get_kind(mv) != JV_KIND_STRING)
		out = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "_meta[\"" MCP_META_VERSION "\"] is required"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id")) && jv_get_kind(caps =
	    mcp_meta(params, MCP_META_CLIENT_CAPS)) != JV_KIND_OBJECT)
		out = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "_meta[\"" MCP_META_CLIENT_CAPS "\"] is required"),
		    jv_invalid());
	else if (hm != NULL && method != NULL && strcmp(hm, method) != 0)
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the Mcp-Method header does not match the method"),
		    jv_invalid());
	else if (hn != NULL && name != NULL && strncmp(hn, "=?", 2) != 0 &&
	    strcmp(hn, name) != 0)
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the Mcp-Name header does not match params.name"),
		    jv_invalid());
	jv_free(caps);
	jv_free(mv);
	jv_free(params);
	jv_free(id);
	return out;
}

/* The HTTP status of an answer: a modern request's unknown method is
 * 404, an unsupported version 400; every other answer 200. */
static int
answer_status(jv out, int modern)
{
	jv error = json_get(out, "error"), code = json_get(error, "code");
	int status = 200;

	jv_free(error);

	if (modern && jv_get_kind(code) == JV_KIND_NUMBER) {
		if (jv_number_value(code) == MCP_METHOD_NOT_FOUND)
			status = 404;
		else if (jv_number_value(code) == MCP_UNSUPPORTED_VERSION)
			status = 400;
	}
	jv_free(code);
	return status;
}

/* One HTTP request on fd: answered and closed, or left to a call. */
static void
http_request(int fd)
{
	struct http_request req;
	const char *origin, *host, *ctype, *hv;
	int rc = httpd_read_request(&server, fd, &req);
	int is_request, modern;
	jv msg, out, params;

	if (rc < 0)
		goto close;
	if (rc > 0) {
		respond(fd, rc, NULL, NULL, NULL, 0);
		goto close;
	}
	if (!authorized(json_get_str(req.headers, "authorization"))) {
		respond(fd, 401, "WWW-Authenticate: Bearer\r\n", NULL,
		    NULL, 0);
		goto close;
	}
	origin = json_get_str(req.headers, "origin");
	host = json_get_str(req.headers, "host");
	if ((origin != NULL && !origin_allowed(origin)) || (bind_loopback &&
	    host != NULL && !host_allowed(host, 0))) {
		respond(fd, 403, NULL, "text/plain",
		    "foreign origin\n", 15);
		goto close;
	}
	if (strcmp(req.path, "/mcp") != 0) {
		respond(fd, 404, NULL, NULL, NULL, 0);
		goto close;
	}
	if (strcmp(req.method, "POST") != 0) {
		respond(fd, 405, "Allow: POST\r\n", NULL, NULL, 0);
		goto close;
	}
	ctype = json_get_str(req.headers, "content-type");
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
		respond(fd, 415, NULL, NULL, NULL, 0);
		goto close;
	}
	msg = json_parse(req.body.data != NULL ? req.body.data : "",
	    req.body.len);
	if (!jv_is_valid(msg) || jv_get_kind(msg) != JV_KIND_OBJECT) {
		http_answer(fd, mcp_error(jv_null(), jv_is_valid(msg) ?
		    MCP_INVALID_REQUEST : MCP_PARSE_ERROR, jv_string(
		    jv_is_valid(msg) ? "not a JSON-RPC message" :
		    "parse error"), jv_invalid()), 400);
		jv_free(msg);
		goto close;
	}
	if (jv_is_valid(out = header_mismatch(&req, msg))) {
		http_answer(fd, out, 400);
		jv_free(msg);
		goto close;
	}
	is_request = json_get_str(msg, "method") != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id"));
	params = json_get(msg, "params");
	out = mcp_meta(params, MCP_META_VERSION);
	modern = jv_get_kind(out) == JV_KIND_STRING &&
	    !mcp_version_is_legacy(jv_string_value(out));
	hv = json_get_str(req.headers, "mcp-protocol-version");
	modern |= hv != NULL && !mcp_version_is_legacy(hv);
	jv_free(out);
	jv_free(params);
	conn_now = fd;
	out = handle(msg);
	conn_now = -1;
	if (!is_request) {
		jv_free(out);
		respond(fd, 202, NULL, NULL, NULL, 0);
		goto close;
	}
	if (!jv_is_valid(out)) {
		/* A call owns the connection now. */
		http_request_free(&req);
		return;
	}
	http_answer(fd, out, answer_status(out, modern));
close:
	http_request_free(&req);
	close(fd);
}

/* Take the connections waiting on the listening socket. */
static void
http_accept(void)
{
	int fd;

	while ((fd = accept4(server.listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		http_request(fd);
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		warnx("http: accept: %s", strerror(errno));
}

/* Read, run and answer: until the end of input on stdio; for good over
 * HTTP. */
static void
serve(void)
{
	struct buf in = {0};
	struct pollfd *fds = NULL;
	struct call **owner = NULL;
	struct job **running = NULL;
	size_t cap = 0;
	int eof = http;

	for (;;) {
		struct call *c;
		size_t nfds = 0, ncalls = 0, i, first_job;
		double next = -1, t;
		int timeout, stdin_at = -1, listen_at = -1;

		for (c = calls; c != NULL; c = c->next)
			ncalls++;
		if (4 * ncalls + 3 > cap) {
			cap = 4 * ncalls + 16;
			fds = xrealloc(fds, cap * sizeof *fds);
			owner = xrealloc(owner, cap * sizeof *owner);
			running = xrealloc(running, cap * sizeof *running);
		}
		i = 0;
		for (c = calls; c != NULL; c = c->next)
			running[i++] = c->running ? &c->job : NULL;
		jobs_reap(running, ncalls);
		t = now_seconds();
		finish_calls(t, &next);
		if (start_calls() > 0)
			next = t;  /* look at the new ones at once */
		if (eof && !http && calls == NULL)
			break;
		fds[nfds++] = (struct pollfd){jobs_wakeup_fd(), POLLIN, 0};
		if (!eof) {
			stdin_at = (int)nfds;
			fds[nfds++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
		}
		if (server.listen_fd >= 0) {
			listen_at = (int)nfds;
			fds[nfds++] = (struct pollfd){server.listen_fd, POLLIN,
			    0};
		}
		/* A host that closes the connection of a call cancels it. */
		for (c = calls; c != NULL; c = c->next)
			if (c->conn >= 0 && !c->cancelled) {
				owner[nfds] = c;
				fds[nfds++] = (struct pollfd){c->conn, POLLRDHUP,
				    0};
			}
		first_job = nfds;
		for (c = calls; c != NULL; c = c->next) {
			size_t k, n;
			if (!c->running)
				continue;
			n = job_pollfds(&c->job, fds + nfds);
			for (k = 0; k < n; k++)
				owner[nfds + k] = c;
			nfds += n;
		}
		timeout = next < 0 ? -1 : (int)((next - t) * 1000) + 1;
		if (poll(fds, nfds, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		for (i = first_job; i < nfds; i++) {
			size_t k = i;
			while (k < nfds && owner[k] == owner[i])
				k++;
			job_io(&owner[i]->job, fds + i, k - i, &runner.policy);
			i = k - 1;
		}
		for (i = (size_t)(listen_at >= 0 ? listen_at + 1 : stdin_at >= 0 ?
		    stdin_at + 1 : 1); i < first_job; i++)
			if (fds[i].revents != 0 &&
			    http_peer_closed(owner[i]->conn))
				stop_call(owner[i]);
		if (listen_at >= 0 && fds[listen_at].revents != 0)
			http_accept();
		if (stdin_at >= 0 && fds[stdin_at].revents != 0) {
			ssize_t n;
			buf_grow(&in, 65536);
			n = read(STDIN_FILENO, in.data + in.len, 65536);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				die(EXIT_TRANSIENT, "stdin: %s", strerror(errno));
			if (n == 0) {
				/* The host is gone or done: so are its calls. */
				eof = 1;
				stop_all_calls();
			}
			if (n > 0) {
				in.len += (size_t)n;
				take_lines(&in);
			}
		}
	}
	free(fds);
	free(owner);
	free(running);
	buf_free(&in);
}

/* The token of --token-file: its first line. */
static char *
read_token(const char *path)
{
	struct buf b = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n;

	if (fd < 0 || read_fd_all(fd, &b, 65536) != 0)
		die(EXIT_INPUT, "%s: %s", path, strerror(errno));
	close(fd);
	n = b.data != NULL ? strcspn(b.data, "\r\n") : 0;
	if (n == 0)
		die(EXIT_INPUT, "%s: no token in its first line", path);
	b.data[n] = '\0';
	return b.data;
}

/* Listen on spec; a non-loopback address needs a token. */
static void
start_http(const char *spec, const char *token_file)
{
	char why[READ_WHY_MAX];
	int port, loopback;
	size_t n;

	if (token_file != NULL)
		token = read_token(token_file);
	/* Without a token, only this machine may reach the server. */
	loopback = token == NULL;
	server.body_max = LINE_MAX_BYTES;
	port = httpd_listen_at(&server, spec, &loopback, why);
	if (port == -2)
		die(EXIT_USAGE, "--http: %s: --token-file is needed", why);
	if (port == -3)
		die(EXIT_USAGE, "--http: %s", why);
	if (port < 0)
		die(EXIT_TRANSIENT, "--http: %s", why);
	n = (size_t)(strrchr(spec, ':') - spec);
	if (n >= sizeof bind_host)
		n = sizeof bind_host - 1;
	memcpy(bind_host, spec, n);
	bind_host[n] = '\0';
	http = 1;
	bind_loopback = loopback;
	warnx("serving http://%s:%d/mcp", bind_host, port);
}

int
main(int argc, char *argv[])
{
	static const char *const own_env[] = {"LLM_TOOLS_DIR",
	    "LLM_TOOL_SANDBOX", "XDG_CONFIG_HOME", NULL};
	const char *http_spec = NULL, *token_file = NULL;
	int c;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	runner_init(&runner);
	httpd_init(&server);
	while ((c = getopt_long(argc, argv, RUNNER_OPTIONS "K:hV", longopts,
	    NULL)) != -1) {
		if (runner_option(&runner, c, optarg))
			continue;
		switch (c) {
		case OPT_CONFIRM:
			die(EXIT_USAGE, "--confirm: the host asks the user before a "
			    "call; tool-serve has no terminal to ask on");
			break;
		case OPT_HTTP:
			http_spec = optarg;
			break;
		case 'K':
			token_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-serve " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (token_file != NULL && http_spec == NULL)
		die(EXIT_USAGE, "--token-file: only with --http");
	runner_setup(&runner, own_env);
	load_tools();
	if (http_spec != NULL)
		start_http(http_spec, token_file);
	jobs_serve();
	serve();
	jobs_kill_leftovers();
	jv_free(tools);
	jv_free(tool_order);
	runner_free(&runner);
	if (server.listen_fd >= 0)
		httpd_close(&server);
	free(token);
	return 0;
}
