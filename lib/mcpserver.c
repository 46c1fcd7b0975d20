/* One MCP server and the session with it: see mcpserver.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "mcp.h"
#include "mcphttp.h"
#include "mcpserver.h"
#include "mcpspawn.h"

#define MAX_PENDING 512
#define MAX_LINE ((size_t)64 << 20)
#define MAX_PAGES 100
#define MAX_RESTARTS 3
#define PROBE_TIMEOUT 10.0

/* What a request in flight was for. */
enum { P_DISCOVER, P_INIT, P_LIST, P_CALL };

struct pending {
	int used, kind;
	long id;
	struct mcp_server *s;
	void *caller;             /* of a call */
	jv output_schema;         /* of a call's tool, or null */
};

static struct pending pendings[MAX_PENDING];
static long next_id = 1;
static const struct mcp_call_hooks *hooks;

void
mcp_server_hooks(const struct mcp_call_hooks *h)
{
	hooks = h;
}

static void
forget(struct pending *p)
{
	jv_free(p->output_schema);
	memset(p, 0, sizeof *p);
}

static struct pending *
add_pending(struct mcp_server *s, int kind, void *caller)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (!pendings[i].used) {
			pendings[i].used = 1;
			pendings[i].kind = kind;
			pendings[i].s = s;
			pendings[i].caller = caller;
			pendings[i].id = next_id++;
			pendings[i].output_schema = jv_null();
			return &pendings[i];
		}
	die(EXIT_TRANSIENT, "too many requests at once");
}

static struct pending *
find_pending(struct mcp_server *s, jv id)
{
	size_t i;
	long n;

	if (jv_get_kind(id) != JV_KIND_NUMBER)
		return NULL;
	n = (long)jv_number_value(id);
	for (i = 0; i < MAX_PENDING; i++)
		if (pendings[i].used && pendings[i].id == n)
			return pendings[i].s == s ? &pendings[i] : NULL;
	return NULL;
}

/* Send a JSON-RPC message (consumed) to s. */
static void
send_msg(struct mcp_server *s, jv msg)
{
	char *text;
	size_t len;

	if (s->http != NULL) {
		mcp_http_send(s->http, msg, jv_null());
		return;
	}
	text = json_dump(msg);
	len = strlen(text);
	text[len++] = '\n';
	if (s->in >= 0)
		write_all(s->in, text, len);
	free(text);
}

/* The _meta of a modern request: the revision and who asks. */
static jv
client_meta(void)
{
	return JV_OBJECT(jv_string(MCP_META_VERSION),
	    jv_string(MCP_MODERN_VERSION), jv_string(MCP_META_CLIENT_CAPS),
	    jv_object(), jv_string(MCP_META_CLIENT_INFO), JV_OBJECT(
	    jv_string("name"), jv_string("tool-mcp"), jv_string("version"),
	    jv_string(LLM_TOOLS_VERSION)));
}

static jv
request_msg(long id, const char *method, jv params)
{
	return JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), jv_number((double)id), jv_string("method"),
	    jv_string(method), jv_string("params"), params);
}

/* Send request method with params (consumed; with the modern _meta when
 * s speaks that era). */
static void
request(struct mcp_server *s, int kind, const char *method, jv params)
{
	struct pending *p = add_pending(s, kind, NULL);

	if (s->modern)
		params = jv_object_set(params, jv_string("_meta"),
		    client_meta());
	send_msg(s, request_msg(p->id, method, params));
}

static void
list_page(struct mcp_server *s, jv cursor)
{
	jv params = jv_object();

	if (jv_get_kind(cursor) == JV_KIND_STRING)
		params = jv_object_set(params, jv_string("cursor"), cursor);
	else
		jv_free(cursor);
	s->state = MCP_S_LIST;
	request(s, P_LIST, "tools/list", params);
}

/* The call of p ended: tell its caller. */
static void
answer(struct pending *p, int code, jv text)
{
	if (hooks != NULL && p->caller != NULL)
		hooks->answer(p->caller, code, text);
	else
		jv_free(text);
}

/* Forget the requests in flight to s; calls get an error. */
static void
drop_pendings(struct mcp_server *s, const char *why)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pendings[i];
		if (!p->used || p->s != s)
			continue;
		if (p->kind == P_CALL)
			answer(p, EXIT_TRANSIENT, jv_string_fmt("MCP server "
			    "%s %s", s->key, why));
		forget(p);
	}
}

void
mcp_server_stop(struct mcp_server *s, double grace)
{
	if (s->http != NULL)
		mcp_http_close(s->http);
	s->http = NULL;
	if (s->in >= 0)
		close(s->in);
	s->in = -1;
	if (s->pid > 0)
		mcp_spawn_end(s->pid, grace);
	s->pid = -1;
	if (s->out >= 0)
		close(s->out);
	s->out = -1;
	buf_free(&s->rbuf);
}

void
mcp_server_lost(struct mcp_server *s, const char *why)
{
	int was_ready = s->state == MCP_S_READY;

	mcp_server_stop(s, 0);
	drop_pendings(s, why);
	if (was_ready && s->restarts < MAX_RESTARTS) {
		s->state = MCP_S_OFF;
		s->restarts++;
		warnx("MCP server %s %s; it will be restarted", s->key, why);
		return;
	}
	s->state = MCP_S_FAILED;
	free(s->error);
	s->error = xstrdup(why);
}

static void
send_initialize(struct mcp_server *s)
{
	s->state = MCP_S_INIT;
	s->modern = 0;
	request(s, P_INIT, "initialize", JV_OBJECT(
	    jv_string("protocolVersion"), jv_string(MCP_LEGACY_VERSION),
	    jv_string("capabilities"), jv_object(),
	    jv_string("clientInfo"), JV_OBJECT(jv_string("name"),
	    jv_string("tool-mcp"), jv_string("version"),
	    jv_string(LLM_TOOLS_VERSION))));
}

/* The probe: a modern server answers server/discover; a legacy one
 * refuses it, and then gets initialize. */
static void
probe(struct mcp_server *s)
{
	s->modern = 0;
	s->state = MCP_S_PROBE;
	s->deadline = now_seconds() + s->startup;
	jv_free(s->listing);
	s->listing = jv_array();
	request(s, P_DISCOVER, "server/discover", JV_OBJECT(
	    jv_string("_meta"), client_meta()));
}

static void on_message(struct mcp_server *s, jv msg);

/* A message from an HTTP server. */
static void
http_message(void *ctx, jv msg)
{
	on_message(ctx, msg);
}

/* A request to an HTTP server that got no answer. */
static void
http_failure(void *ctx, jv id, long status, const char *why)
{
	struct mcp_server *s = ctx;
	struct pending *p = find_pending(s, id);
	struct pending done;

	if (p == NULL)
		return;
	done = *p;
	memset(p, 0, sizeof *p);
	if (done.kind == P_CALL)
		answer(&done, status >= 400 && status < 500 ? EXIT_API :
		    EXIT_TRANSIENT, jv_string_fmt("MCP server %s: %s", s->key,
		    why));
	else if (done.kind == P_DISCOVER && status >= 400 && status != 401)
		/* A legacy server refuses what it does not know. */
		send_initialize(s);
	else
		mcp_server_lost(s, why);
	jv_free(done.output_schema);
}

void
mcp_server_start(struct mcp_server *s, const char *log_dir)
{
	const char *why;

	if (json_get_str(s->conf, "command") != NULL) {
		mcp_spawn(s, log_dir);
		probe(s);
		return;
	}
	s->http = mcp_http_new(json_get_str(s->conf, "url"),
	    json_get(s->conf, "headers"), http_message, http_failure, s, &why);
	if (s->http == NULL) {
		s->state = MCP_S_FAILED;
		free(s->error);
		s->error = xstrdup(why);
		return;
	}
	probe(s);
}

/* Does the list (consumed) hold the modern revision? */
static int
lists_modern(jv list)
{
	return json_array_has_string(list, MCP_MODERN_VERSION);
}

/* Is error (borrowed) a modern refusal naming the modern revision? */
static int
error_lists_modern(jv error)
{
	jv data = json_get(error, "data");
	int yes = lists_modern(json_get(data, "supported"));

	jv_free(data);
	return yes;
}

static void
set_version(struct mcp_server *s, const char *version)
{
	snprintf(s->version, sizeof s->version, "%s", version);
	if (s->http != NULL)
		mcp_http_set_version(s->http, version);
}

/* The answer to server/discover: the modern era, or the handshake. */
static void
on_discover(struct mcp_server *s, jv result, jv error)
{
	if (s->state != MCP_S_PROBE)
		return;
	if ((jv_get_kind(result) == JV_KIND_OBJECT &&
	    lists_modern(json_get(result, "supportedVersions"))) ||
	    (jv_get_kind(error) == JV_KIND_OBJECT &&
	    error_lists_modern(error))) {
		s->modern = 1;
		set_version(s, MCP_MODERN_VERSION);
		list_page(s, jv_null());
	} else {
		send_initialize(s);
	}
}

/* The answer to initialize: a legacy revision in common, or none. */
static void
on_initialize(struct mcp_server *s, jv result)
{
	const char *v = json_get_str(result, "protocolVersion");

	if (jv_get_kind(result) != JV_KIND_OBJECT || v == NULL ||
	    !mcp_version_is_legacy(v)) {
		mcp_server_lost(s, v != NULL ? "offers no protocol revision "
		    "in common" : "refused initialize");
		return;
	}
	set_version(s, v);
	send_msg(s, JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("method"), jv_string("notifications/initialized")));
	list_page(s, jv_null());
}

/* A page of tools/list: the next page asked for, or s ready. */
static void
on_listing(struct mcp_server *s, jv result)
{
	jv tools = json_get(result, "tools"), cursor;

	if (jv_get_kind(tools) != JV_KIND_ARRAY) {
		jv_free(tools);
		mcp_server_lost(s, "answered tools/list without tools");
		return;
	}
	s->listing = jv_array_concat(s->listing, tools);
	cursor = json_get(result, "nextCursor");
	if (jv_get_kind(cursor) == JV_KIND_STRING &&
	    jv_array_length(jv_copy(s->listing)) < MAX_PAGES * 1000) {
		list_page(s, cursor);
		return;
	}
	jv_free(cursor);
	jv_free(s->tools);
	s->tools = s->listing;
	s->listing = jv_array();
	s->state = MCP_S_READY;
}

/* The answer to the call of p: its text, a refusal, or no result. */
static void
on_call_result(struct mcp_server *s, struct pending *p, jv result,
    jv error)
{
	const char *rt = json_get_str(result, "resultType");
	const char *m = json_get_str(error, "message");
	int is_error = 0;
	char *text;

	if (jv_get_kind(error) == JV_KIND_OBJECT) {
		answer(p, EXIT_API, jv_string_fmt("MCP server %s refused the "
		    "call: %s", s->key, m != NULL ? m : "(no message)"));
	} else if (jv_get_kind(result) != JV_KIND_OBJECT) {
		answer(p, EXIT_TRANSIENT, jv_string_fmt("MCP server %s sent a "
		    "response without result", s->key));
	} else if (rt != NULL && strcmp(rt, "input_required") == 0) {
		answer(p, EXIT_API, jv_string_fmt("MCP server %s needs user "
		    "input, which is not supported", s->key));
	} else {
		text = mcp_result_text(result, p->output_schema, &is_error);
		answer(p, is_error, jv_string(text));
		free(text);
	}
}

/* The response msg (borrowed) to the request p of s. */
static void
on_response(struct mcp_server *s, struct pending *p, jv msg)
{
	jv result = json_get(msg, "result"), error = json_get(msg, "error");
	struct pending done = *p;

	memset(p, 0, sizeof *p);
	switch (done.kind) {
	case P_DISCOVER:
		on_discover(s, result, error);
		break;
	case P_INIT:
		on_initialize(s, result);
		break;
	case P_LIST:
		on_listing(s, result);
		break;
	case P_CALL:
		on_call_result(s, &done, result, error);
		break;
	}
	jv_free(done.output_schema);
	jv_free(result);
	jv_free(error);
}

/* Answer a request of s (borrowed): only ping. */
static void
answer_server(struct mcp_server *s, const char *method, jv id)
{
	jv resp = JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), jv_copy(id));

	if (strcmp(method, "ping") == 0)
		resp = jv_object_set(resp, jv_string("result"), jv_object());
	else
		resp = jv_object_set(resp, jv_string("error"), JV_OBJECT(
		    jv_string("code"), jv_number(MCP_METHOD_NOT_FOUND),
		    jv_string("message"), jv_string("not supported by this "
		    "client")));
	send_msg(s, resp);
}

/* A progress notification (borrowed) of a call: to its caller. */
static void
on_progress(struct mcp_server *s, jv msg)
{
	jv params = json_get(msg, "params");
	jv token = json_get(params, "progressToken");
	struct pending *p = find_pending(s, token);

	if (p != NULL && p->kind == P_CALL && hooks != NULL &&
	    hooks->progress != NULL)
		hooks->progress(p->caller, params);
	jv_free(token);
	jv_free(params);
}

/* One message from s (consumed). */
static void
on_message(struct mcp_server *s, jv msg)
{
	const char *method = json_get_str(msg, "method");
	jv id = json_get(msg, "id");
	struct pending *p;

	if (method != NULL && jv_is_valid(id)) {
		answer_server(s, method, id);
	} else if (method != NULL && strcmp(method,
	    "notifications/progress") == 0) {
		on_progress(s, msg);
	} else if (method != NULL) {
		/* Before tools/list is sent, the list to come is new
		 * anyway (server-everything says so before initialize). */
		if (strcmp(method, "notifications/tools/list_changed") == 0 &&
		    (s->state == MCP_S_LIST || s->state == MCP_S_READY))
			s->stale = 1;
	} else if ((p = find_pending(s, id)) != NULL) {
		on_response(s, p, msg);
	}
	jv_free(id);
	jv_free(msg);
}

/* Handle each whole line of s->rbuf. */
static void
take_lines(struct mcp_server *s)
{
	char *nl;

	while (s->out >= 0 && s->rbuf.len > 0 &&
	    (nl = memchr(s->rbuf.data, '\n', s->rbuf.len)) != NULL) {
		size_t len = (size_t)(nl - s->rbuf.data);
		jv msg;

		*nl = '\0';
		msg = json_parse(s->rbuf.data, len);
		memmove(s->rbuf.data, nl + 1, s->rbuf.len - len - 1);
		s->rbuf.len -= len + 1;
		if (jv_get_kind(msg) == JV_KIND_OBJECT)
			on_message(s, msg);
		else
			jv_free(msg);
	}
}

void
mcp_server_read(struct mcp_server *s)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(s->out, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			mcp_server_lost(s, "exited");
			return;
		}
		buf_append(&s->rbuf, chunk, (size_t)n);
		if (s->rbuf.len > MAX_LINE) {
			mcp_server_lost(s, "sent a line over 64 MiB");
			return;
		}
	}
	take_lines(s);
}

void
mcp_server_tick(struct mcp_server *s, double now, double *wait)
{
	if (s->out < 0 && s->http == NULL)
		return;
	if (s->state != MCP_S_READY && now > s->deadline) {
		mcp_server_lost(s, "did not start in time");
		return;
	}
	if (s->state == MCP_S_PROBE &&
	    now > s->deadline - s->startup + PROBE_TIMEOUT) {
		/* Silence to server/discover: legacy. */
		send_initialize(s);
	}
	if (s->state != MCP_S_READY && s->deadline - now < *wait)
		*wait = s->deadline - now;
}

void
mcp_server_refresh(struct mcp_server *s)
{
	if (s->state == MCP_S_READY && s->stale) {
		s->stale = 0;
		list_page(s, jv_null());
	}
}

/* The call is sent with its progress token, its id; over modern HTTP
 * its x-mcp-header arguments go in headers too. */
long
mcp_server_call(struct mcp_server *s, void *caller, jv route, jv args)
{
	struct pending *p = add_pending(s, P_CALL, caller);
	jv meta = s->modern ? client_meta() : jv_object(), msg;

	p->output_schema = json_get(route, "outputSchema");
	meta = jv_object_set(meta, jv_string("progressToken"),
	    jv_number((double)p->id));
	msg = request_msg(p->id, "tools/call", JV_OBJECT(jv_string("name"),
	    json_get(route, "tool"), jv_string("arguments"), jv_copy(args),
	    jv_string("_meta"), meta));
	if (s->http != NULL && s->modern) {
		jv schema = json_get(route, "inputSchema");
		mcp_http_send(s->http, msg, mcp_param_headers(schema, args));
		jv_free(schema);
	} else {
		send_msg(s, msg);
	}
	return p->id;
}

void
mcp_server_cancel(struct mcp_server *s, void *caller, long id)
{
	size_t i;

	for (i = 0; i < MAX_PENDING; i++)
		if (pendings[i].used && pendings[i].caller == caller)
			forget(&pendings[i]);
	send_msg(s, JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("method"), jv_string("notifications/cancelled"),
	    jv_string("params"), JV_OBJECT(jv_string("requestId"),
	    jv_number((double)id), jv_string("reason"),
	    jv_string("the caller stopped waiting"))));
	/* Over HTTP, closing the stream cancels too. */
	if (s->http != NULL)
		mcp_http_abort(s->http, jv_number((double)id));
}
