/* The server side of MCP over a tools directory: see mcpserve.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "httpd.h"
#include "jobs.h"
#include "json.h"
#include "mcp.h"
#include "mcpfront.h"
#include "mcpserve.h"
#include "runner.h"
#include "schema.h"

#define LINE_MAX_BYTES MCP_SERVE_MESSAGE_MAX

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

static struct runner *runner; /* the caller's */
static jv tools;            /* name -> MCP tool object, as listed */
static jv tool_order;       /* the MCP tool objects in name order */
static struct call *calls;  /* in arrival order */
static int initialized;     /* an initialize was answered */
static int http;            /* serving HTTP: each request stands alone */
static int conn_now = -1;   /* the HTTP connection of the request read */

/* Write one message (consumed) as one line; a host that is gone ends
 * the server, with every call's tool. */
static void
send_message(jv msg)
{
	char *text = json_dump(msg);
	size_t n = strlen(text);
	struct call *c;

	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	if (write_all(STDOUT_FILENO, text, n) < 0) {
		warnx("stdout: %s", strerror(errno));
		for (c = calls; c != NULL; c = c->next)
			job_cancel(&c->job);
		jobs_kill_leftovers();
		exit(EXIT_TRANSIENT);
	}
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

void
mcp_serve_init(struct runner *r)
{
	jv fns;

	runner = r;
	fns = runner_list(runner, 1);

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
	jv text = runner_outcome(runner, &c->job, &failed);
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
	problem = runner_prepare(runner, &c->job, fn, 1);
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

/* A request (id and params borrowed) of a known kind of id: its answer
 * now, or jv_invalid() for a call that answers later. */
static jv
handle_request(jv id, const char *method, jv params)
{
	jv meta = mcp_meta(params, MCP_META_VERSION), error;
	int era, has_meta = jv_is_valid(meta);

	jv_free(meta);
	/* The handshake of the legacy era; the modern one has none. */
	if (!has_meta && strcmp(method, "initialize") == 0)
		return initialize(jv_copy(id), params);
	if (!has_meta && strcmp(method, "ping") == 0)
		return mcp_result(jv_copy(id), jv_object());
	if (!has_meta && strcmp(method, "server/discover") == 0)
		return discover(jv_copy(id), 1);
	if ((era = request_era(id, params, &error)) < 0)
		return error;
	if (strcmp(method, "server/discover") == 0)
		return discover(jv_copy(id), era);
	if (!era && strcmp(method, "ping") == 0)
		return mcp_result(jv_copy(id), jv_object());
	if (strcmp(method, "tools/list") == 0)
		return tools_list(jv_copy(id), params, era);
	if (strcmp(method, "tools/call") == 0)
		return tools_call(jv_copy(id), params, era);
	return mcp_error(jv_copy(id), MCP_METHOD_NOT_FOUND,
	    jv_string_fmt("method not found: %.80s", method), jv_invalid());
}

jv
mcp_serve_handle(jv msg, int conn)
{
	const char *method = json_get_str(msg, "method");
	jv id = json_get(msg, "id"), params = json_get(msg, "params"), out;

	conn_now = conn;
	if (jv_get_kind(msg) != JV_KIND_OBJECT || (method == NULL &&
	    !jv_is_valid(id))) {
		out = mcp_error(jv_null(), MCP_INVALID_REQUEST, jv_string(
		    "not a JSON-RPC request"), jv_invalid());
	} else if (method == NULL) {
		/* A response: this server asks nothing. */
		out = jv_invalid();
	} else if (!jv_is_valid(id)) {
		if (strcmp(method, "notifications/cancelled") == 0)
			cancel(params);
		out = jv_invalid();
	} else if (jv_get_kind(id) != JV_KIND_STRING &&
	    jv_get_kind(id) != JV_KIND_NUMBER) {
		out = mcp_error(jv_null(), MCP_INVALID_REQUEST, jv_string(
		    "the id is neither a string nor a number"), jv_invalid());
	} else {
		out = handle_request(id, method, params);
	}
	conn_now = -1;
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
			out = jv_is_valid(msg) ? mcp_serve_handle(msg, -1) : mcp_error(
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
	for (c = calls; c != NULL && running < runner->policy.max_running;
	    c = c->next) {
		if (c->running)
			continue;
		if (job_start(&c->job, &runner->policy) < 0) {
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
			mcp_front_answer(c->conn, answer(jv_copy(c->id),
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

/* The descriptors of one turn of the loop, and the call owning each. */
struct pollset {
	struct pollfd *fds;
	struct call **owner;
	struct job **running;
	size_t cap, n, first_job;
	int stdin_at, listen_at;
};

/* Reap the jobs that ended, answer the calls done, start the queued
 * ones: now, with *next lowered to when to look again (-1: no need). */
static double
move_calls(struct pollset *ps, double *next)
{
	struct call *c;
	size_t ncalls = 0, i = 0;
	double t;

	for (c = calls; c != NULL; c = c->next)
		ncalls++;
	if (4 * ncalls + 3 > ps->cap) {
		ps->cap = 4 * ncalls + 16;
		ps->fds = xrealloc(ps->fds, ps->cap * sizeof *ps->fds);
		ps->owner = xrealloc(ps->owner, ps->cap * sizeof *ps->owner);
		ps->running = xrealloc(ps->running, ps->cap *
		    sizeof *ps->running);
	}
	for (c = calls; c != NULL; c = c->next)
		ps->running[i++] = c->running ? &c->job : NULL;
	jobs_reap(ps->running, ncalls);
	t = now_seconds();
	finish_calls(t, next);
	if (start_calls() > 0)
		*next = t;  /* look at the new ones at once */
	return t;
}

/* What to wait for: the jobs' wake-up, stdin until its end, the HTTP
 * socket, the connections of calls, the jobs' pipes. */
static void
fill_pollset(struct pollset *ps, int eof)
{
	struct call *c;
	int lfd = mcp_front_fd();

	ps->n = 0;
	ps->stdin_at = ps->listen_at = -1;
	ps->fds[ps->n++] = (struct pollfd){jobs_wakeup_fd(), POLLIN, 0};
	if (!eof) {
		ps->stdin_at = (int)ps->n;
		ps->fds[ps->n++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
	}
	if (lfd >= 0) {
		ps->listen_at = (int)ps->n;
		ps->fds[ps->n++] = (struct pollfd){lfd, POLLIN, 0};
	}
	/* A host that closes the connection of a call cancels it. */
	for (c = calls; c != NULL; c = c->next)
		if (c->conn >= 0 && !c->cancelled) {
			ps->owner[ps->n] = c;
			ps->fds[ps->n++] = (struct pollfd){c->conn, POLLRDHUP, 0};
		}
	ps->first_job = ps->n;
	for (c = calls; c != NULL; c = c->next) {
		size_t k, n;
		if (!c->running)
			continue;
		n = job_pollfds(&c->job, ps->fds + ps->n);
		for (k = 0; k < n; k++)
			ps->owner[ps->n + k] = c;
		ps->n += n;
	}
}

/* Read what stdin has: each whole line handled; at its end every call
 * stops. */
static void
read_stdin(struct buf *in, int *eof)
{
	ssize_t n;

	buf_grow(in, 65536);
	n = read(STDIN_FILENO, in->data + in->len, 65536);
	if (n < 0 && errno != EINTR && errno != EAGAIN)
		die(EXIT_TRANSIENT, "stdin: %s", strerror(errno));
	if (n == 0) {
		/* The host is gone or done: so are its calls. */
		*eof = 1;
		stop_all_calls();
	}
	if (n > 0) {
		in->len += (size_t)n;
		take_lines(in);
	}
}

/* After poll: the jobs' pipes, the connections closed, a new
 * connection, stdin. */
static void
after_poll(struct pollset *ps, struct buf *in, int *eof)
{
	struct pollfd *fds = ps->fds;
	size_t i;

	for (i = ps->first_job; i < ps->n; i++) {
		size_t k = i;
		while (k < ps->n && ps->owner[k] == ps->owner[i])
			k++;
		job_io(&ps->owner[i]->job, fds + i, k - i, &runner->policy);
		i = k - 1;
	}
	for (i = (size_t)(ps->listen_at >= 0 ? ps->listen_at + 1 :
	    ps->stdin_at >= 0 ? ps->stdin_at + 1 : 1); i < ps->first_job; i++)
		if (fds[i].revents != 0 &&
		    http_peer_closed(ps->owner[i]->conn))
			stop_call(ps->owner[i]);
	if (ps->listen_at >= 0 && fds[ps->listen_at].revents != 0)
		mcp_front_accept();
	if (ps->stdin_at >= 0 && fds[ps->stdin_at].revents != 0)
		read_stdin(in, eof);
}

void
mcp_serve_run(void)
{
	struct pollset ps = {0};
	struct buf in = {0};
	int eof;

	http = mcp_front_fd() >= 0;
	eof = http;
	for (;;) {
		double next = -1, t = move_calls(&ps, &next);

		if (eof && !http && calls == NULL)
			break;
		fill_pollset(&ps, eof);
		if (poll(ps.fds, ps.n, next < 0 ? -1 :
		    (int)((next - t) * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		after_poll(&ps, &in, &eof);
	}
	free(ps.fds);
	free(ps.owner);
	free(ps.running);
	buf_free(&in);
}

void
mcp_serve_free(void)
{
	jv_free(tools);
	jv_free(tool_order);
}
