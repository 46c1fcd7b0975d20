/* Reply specs into responses, for llm-mock. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "completion.h"
#include "json.h"
#include "reply.h"
#include "toolcall.h"

void
reply_error(struct http_response *r, int status, const char *fmt, ...)
{
	va_list ap;
	jv msg, err;

	va_start(ap, fmt);
	msg = jv_string_vfmt(fmt, ap);
	va_end(ap);
	err = JV_OBJECT(jv_string("message"),
	    jv_string_concat(jv_string("llm-mock: "), msg),
	    jv_string("type"), jv_string(status >= 500 ? "server_error" :
	    "invalid_request_error"), jv_string("param"), jv_null(),
	    jv_string("code"), jv_null());
	http_set_json(r, status, JV_OBJECT(jv_string("error"), err));
}

static size_t
str_bytes(jv s)
{
	return jv_get_kind(s) == JV_KIND_STRING ?
	    (size_t)jv_string_length_bytes(jv_copy(s)) : 0;
}

static int
is_true(jv o, const char *key)
{
	jv v = json_get(o, key);
	int yes = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return yes;
}

/* reply[key] into out when it is a string (or def when absent or null);
 * -1 when it is something else. */
static int
get_string(jv reply, const char *key, jv def, jv *out, struct buf *why)
{
	jv v = json_get(reply, key);

	if (jv_get_kind(v) == JV_KIND_STRING) {
		jv_free(def);
		*out = v;
		return 0;
	}
	*out = def;
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	jv_free(v);
	return problem(why, "%s is not a string", key);
}

/* One tool call of a reply (consumed), {id?, name, arguments} or
 * OpenAI's {id, function: {name, arguments}}, in the OpenAI shape; a call without an
 * id gets call_N_I. Invalid when it has no name. */
static jv
spec_tool_call(jv tc, int n, int i)
{
	jv fn = json_get(tc, "function"), id = json_get(tc, "id"), name, args;

	if (!jv_is_valid(name = json_get(tc, "name")))
		name = json_get(fn, "name");
	if (!jv_is_valid(args = json_get(tc, "arguments")))
		args = json_get(fn, "arguments");
	jv_free(fn);
	jv_free(tc);
	if (jv_get_kind(name) != JV_KIND_STRING) {
		jv_free(id);
		jv_free(name);
		jv_free(args);
		return jv_invalid();
	}
	if (jv_get_kind(id) != JV_KIND_STRING) {
		jv_free(id);
		id = jv_string_fmt("call_%d_%d", n, i);
	}
	if (!jv_is_valid(args))
		args = jv_null();
	return JV_OBJECT(jv_string("id"), id, jv_string("type"),
	    jv_string("function"), jv_string("function"),
	    JV_OBJECT(jv_string("name"), name, jv_string("arguments"), args));
}

/* The tool calls of a reply (list borrowed) into c->tool_calls,
 * normalized by the rule tool-extract follows. */
static int
add_tool_calls(struct completion *c, jv list, int n, struct buf *why)
{
	jv shaped, calls, tc;
	int i, len;

	if (!jv_is_valid(list) || jv_get_kind(list) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return problem(why, "tool_calls is not an array");
	shaped = jv_array();
	len = jv_array_length(jv_copy(list));
	for (i = 0; i < len; i++) {
		tc = spec_tool_call(jv_array_get(jv_copy(list), i), n, i);
		if (!jv_is_valid(tc)) {
			jv_free(shaped);
			return problem(why, "tool_calls[%d] has no name", i);
		}
		shaped = jv_array_append(shaped, tc);
	}
	tc = JV_OBJECT(jv_string("tool_calls"), shaped);
	calls = normalize_tool_calls(list, tc);
	jv_free(tc);
	if (!jv_is_valid(calls)) {
		char *m = json_invalid_message(calls);

		problem(why, "tool_calls: %s", m);
		free(m);
		return -1;
	}
	jv_free(c->tool_calls);
	c->tool_calls = calls;
	return 0;
}

/* Fill what the reply left out: id, created, model, finish_reason, usage
 * (a quarter of the bytes of the request, and of the text sent). */
static void
complete_defaults(struct completion *c, jv req, int n, size_t req_len)
{
	size_t out = str_bytes(c->content);
	int i, calls = jv_array_length(jv_copy(c->tool_calls));
	long prompt = (long)(req_len / 4), completion;

	if (!jv_is_valid(c->id))
		c->id = jv_string_fmt("chatcmpl-mock-%d", n);
	if (!jv_is_valid(c->created))
		c->created = jv_number((double)time(NULL));
	if (!jv_is_valid(c->model)) {
		const char *m = json_get_str(req, "model");
		c->model = jv_string(m != NULL ? m : "mock");
	}
	if (!jv_is_valid(c->finish_reason))
		c->finish_reason = jv_string(calls > 0 ? "tool_calls" : "stop");
	if (jv_is_valid(c->usage))
		return;
	for (i = 0; i < calls; i++) {
		jv a = jv_getpath(jv_copy(c->tool_calls), JV_ARRAY(jv_number(i),
		    jv_string("function"), jv_string("arguments")));
		out += str_bytes(a);
		jv_free(a);
	}
	completion = (long)((out + 3) / 4);
	if (completion < 1)
		completion = 1;
	c->usage = JV_OBJECT(jv_string("prompt_tokens"), jv_number(prompt),
	    jv_string("completion_tokens"), jv_number(completion),
	    jv_string("total_tokens"), jv_number(prompt + completion));
}

/* A completion from a reply spec: content, refusal, tool_calls,
 * finish_reason, usage, model. */
static int
completion_from_spec(struct completion *c, jv spec, int n, struct buf *why)
{
	jv usage = json_get(spec, "usage"), calls;
	jv_kind uk = jv_get_kind(usage);
	int rc;

	if (uk == JV_KIND_OBJECT)
		c->usage = usage;
	else
		jv_free(usage);
	if (uk != JV_KIND_OBJECT && uk != JV_KIND_INVALID && uk != JV_KIND_NULL)
		return problem(why, "usage is not an object");
	if (get_string(spec, "content", jv_null(), &c->content, why) < 0 ||
	    get_string(spec, "refusal", jv_null(), &c->refusal, why) < 0 ||
	    get_string(spec, "finish_reason", jv_invalid(),
	    &c->finish_reason, why) < 0 ||
	    get_string(spec, "model", jv_invalid(), &c->model, why) < 0)
		return -1;
	calls = json_get(spec, "tool_calls");
	rc = add_tool_calls(c, calls, n, why);
	jv_free(calls);
	return rc;
}

/* from[key] into *slot when it is of that kind. */
static void
take_kind(jv *slot, jv from, const char *key, jv_kind kind)
{
	jv v = json_get(from, key);

	if (jv_get_kind(v) == kind) {
		jv_free(*slot);
		*slot = v;
	} else
		jv_free(v);
}

/* The message and finish_reason of one choice (borrowed) into c. */
static int
choice_from_body(struct completion *c, jv choice, int n, struct buf *why)
{
	jv msg = json_get(choice, "message"), calls;
	int rc;

	take_kind(&c->finish_reason, choice, "finish_reason", JV_KIND_STRING);
	take_kind(&c->content, msg, "content", JV_KIND_STRING);
	take_kind(&c->refusal, msg, "refusal", JV_KIND_STRING);
	calls = json_get(msg, "tool_calls");
	rc = add_tool_calls(c, calls, n, why);
	jv_free(calls);
	jv_free(msg);
	return rc;
}

/* A completion from a complete response body, for streaming it: every
 * choice, the first in c itself, the others in c->more. */
static int
completion_from_body(struct completion *c, jv body, int n, struct buf *why)
{
	jv choices = json_get(body, "choices"), v;
	int i, len, rc;

	take_kind(&c->id, body, "id", JV_KIND_STRING);
	take_kind(&c->created, body, "created", JV_KIND_NUMBER);
	take_kind(&c->model, body, "model", JV_KIND_STRING);
	take_kind(&c->usage, body, "usage", JV_KIND_OBJECT);
	len = jv_get_kind(choices) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(choices)) : 0;
	v = len > 0 ? jv_array_get(jv_copy(choices), 0) : jv_invalid();
	rc = choice_from_body(c, v, n, why);
	jv_free(v);
	for (i = 1; i < len && rc == 0; i++) {
		struct completion o;

		completion_init(&o);
		v = jv_array_get(jv_copy(choices), i);
		rc = choice_from_body(&o, v, n, why);
		jv_free(v);
		if (!jv_is_valid(o.finish_reason))
			o.finish_reason = jv_string(jv_array_length(
			    jv_copy(o.tool_calls)) > 0 ? "tool_calls" : "stop");
		c->more = jv_array_append(c->more, JV_OBJECT(
		    jv_string("content"), jv_copy(o.content),
		    jv_string("refusal"), jv_copy(o.refusal),
		    jv_string("tool_calls"), jv_copy(o.tool_calls),
		    jv_string("finish_reason"), jv_copy(o.finish_reason)));
		completion_free(&o);
	}
	jv_free(choices);
	return rc;
}

/* Send c as r's body: streamed when the request asks for it. */
static void
send_completion(struct http_response *r, struct completion *c, jv req,
    int n, size_t req_len)
{
	jv opts = json_get(req, "stream_options");

	complete_defaults(c, req, n, req_len);
	if (is_true(req, "stream")) {
		r->body.len = 0;
		completion_sse(&r->body, c, is_true(opts, "include_usage"));
		r->ctype = "text/event-stream";
		r->sized = 0;
	} else
		http_set_json(r, r->status, completion_body(c));
	jv_free(opts);
}

/* Replace *v by o[key]; whether that is present and not null. */
static int
take(jv *v, jv o, const char *key)
{
	jv_free(*v);
	*v = json_get(o, key);
	return jv_is_valid(*v) && jv_get_kind(*v) != JV_KIND_NULL;
}

/* A body given as it is: a raw body, an event stream (inline or from a
 * file), a whole response, or an error object. 1 when v is none of
 * these, else 0 or -1 with why. */
static int
given_body(struct http_response *r, jv reply, jv req, int n, size_t req_len,
    struct completion *c, struct buf *why)
{
	jv v = jv_invalid();
	char err[READ_WHY_MAX];
	int rc = 0;

	if (take(&v, reply, "body")) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem(why, "body is not a string");
		else
			http_set_body(r, r->status, "text/html",
			    jv_string_value(v), str_bytes(v));
	} else if (take(&v, reply, "sse")) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem(why, "sse is not a string");
		else
			buf_append(&r->body, jv_string_value(v), str_bytes(v));
		r->ctype = "text/event-stream";
	} else if (take(&v, reply, "sse_file")) {
		r->body.len = 0;
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem(why, "sse_file is not a string");
		else if (read_file(strcmp(jv_string_value(v), "-") == 0 ?
		    "./-" : jv_string_value(v), REPLY_FILE_MAX, &r->body,
		    err) < 0)
			rc = problem(why, "sse_file: %s: %s",
			    jv_string_value(v), err);
		r->ctype = "text/event-stream";
	} else if (take(&v, reply, "response")) {
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			rc = problem(why, "response is not an object");
		else if (!is_true(req, "stream") || r->status >= 400)
			http_set_json(r, r->status, jv_copy(v));
		else if ((rc = completion_from_body(c, v, n, why)) == 0)
			send_completion(r, c, req, n, req_len);
	} else if (take(&v, reply, "error")) {
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			rc = problem(why, "error is not an object");
		else
			http_set_json(r, r->status, JV_OBJECT(
			    jv_string("error"), jv_copy(v)));
	} else
		rc = 1;
	jv_free(v);
	return rc;
}

int
reply_build(struct http_response *r, struct faults *f, jv reply, jv req,
    int n, size_t req_len, struct buf *why)
{
	struct completion c;
	jv v = jv_invalid();
	int rc = 0;

	completion_init(&c);
	if (jv_get_kind(reply) != JV_KIND_OBJECT) {
		rc = problem(why, "%s, not an object", json_kind_name(reply));
	} else if (take(&v, reply, "choices")) {
		if (!is_true(req, "stream"))
			http_set_json(r, 200, jv_copy(reply));
		else if ((rc = completion_from_body(&c, reply, n, why)) == 0)
			send_completion(r, &c, req, n, req_len);
	} else if ((rc = faults_read(reply, r, f, why)) < 0) {
		;
	} else if ((rc = given_body(r, reply, req, n, req_len, &c,
	    why)) <= 0) {
		;
	} else if (r->status >= 400) {
		rc = 0;
		http_set_json(r, r->status, JV_OBJECT(jv_string("error"),
		    JV_OBJECT(jv_string("message"),
		    jv_string_fmt("llm-mock: status %d", r->status),
		    jv_string("type"), jv_string("server_error"),
		    jv_string("param"), jv_null(), jv_string("code"),
		    jv_null())));
	} else if ((rc = completion_from_spec(&c, reply, n, why)) == 0) {
		send_completion(r, &c, req, n, req_len);
	}
	jv_free(v);
	jv_free(reply);
	completion_free(&c);
	return rc < 0 ? -1 : 0;
}
