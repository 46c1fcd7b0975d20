/* settings.json and summary.json of a keep directory: see runfiles.h. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "runfiles.h"

static const char *const setting_names[] = {
	"dir", "model", "base", "max_turns", "final", "timeout", "retries",
	"tool_timeout", "jobs", "envs", "sandbox", "confirm", "allow", "deny",
	"guards", "refusal", "no_tools", "text_calls", "max_output", "limits"
};
#define NSETTINGS (sizeof setting_names / sizeof setting_names[0])

/* A value, or null when it is empty. */
static jv
opt(const char *s)
{
	return *s == '\0' ? jv_null() : jv_string(s);
}

/* The parts of s between separators sep, the empty ones left out. */
static jv
split_nonempty(const char *s, const char *sep)
{
	jv out = jv_array();
	size_t n = strlen(sep);
	const char *end;

	for (;;) {
		end = strstr(s, sep);
		if (end == NULL)
			end = s + strlen(s);
		if (end > s)
			out = jv_array_append(out, jv_string_sized(s, (int)(end - s)));
		if (*end == '\0')
			return out;
		s = end + n;
	}
}

/* A base URL without the user name and password before its host. */
static jv
base_url_shown(const char *url)
{
	const char *p = url, *rest, *at;
	struct buf b = {0};
	jv out;

	if ((*p | 0x20) < 'a' || (*p | 0x20) > 'z')
		return opt(url);
	while (*p != '\0' && strchr("abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-", *p) != NULL)
		p++;
	if (strncmp(p, "://", 3) != 0)
		return opt(url);
	rest = p + 3;
	at = rest + strcspn(rest, "/@");
	if (*at != '@')
		return opt(url);
	buf_append(&b, url, (size_t)(rest - url));
	buf_append_str(&b, at + 1);
	out = opt(b.data);
	buf_free(&b);
	return out;
}

jv
run_settings(char *const *pairs, int n)
{
	const char *v[NSETTINGS];
	jv doc, turns;
	size_t i;
	int k;

	for (i = 0; i < NSETTINGS; i++)
		v[i] = "";
	for (k = 0; k < n; k++) {
		const char *eq = strchr(pairs[k], '=');

		for (i = 0; eq != NULL && i < NSETTINGS; i++)
			if (strlen(setting_names[i]) == (size_t)(eq - pairs[k]) &&
			    memcmp(setting_names[i], pairs[k], eq - pairs[k]) == 0)
				break;
		if (eq == NULL || i == NSETTINGS)
			return jv_invalid_with_msg(jv_string_fmt(
			    "not a setting: %s", pairs[k]));
		v[i] = eq + 1;
	}
	turns = jv_parse(v[3]);
	if (jv_get_kind(turns) != JV_KIND_NUMBER) {
		jv_free(turns);
		return jv_invalid_with_msg(jv_string_fmt(
		    "max_turns: not a number: %s", v[3]));
	}
	doc = jv_object();
	doc = jv_object_set(doc, jv_string("version"), jv_number(1));
	doc = jv_object_set(doc, jv_string("dir"), opt(v[0]));
	doc = jv_object_set(doc, jv_string("model"), opt(v[1]));
	doc = jv_object_set(doc, jv_string("base_url"), base_url_shown(v[2]));
	doc = jv_object_set(doc, jv_string("max_turns"), turns);
	doc = jv_object_set(doc, jv_string("final"),
	    jv_bool(strcmp(v[4], "1") == 0));
	doc = jv_object_set(doc, jv_string("timeout"), opt(v[5]));
	doc = jv_object_set(doc, jv_string("retries"), opt(v[6]));
	doc = jv_object_set(doc, jv_string("tool_timeout"), opt(v[7]));
	doc = jv_object_set(doc, jv_string("jobs"), opt(v[8]));
	doc = jv_object_set(doc, jv_string("max_output"), opt(v[18]));
	doc = jv_object_set(doc, jv_string("limits"), split_nonempty(v[19],
	    " -L "));
	doc = jv_object_set(doc, jv_string("env"), split_nonempty(v[9], " -e "));
	doc = jv_object_set(doc, jv_string("sandbox"), opt(v[10]));
	doc = jv_object_set(doc, jv_string("confirm"),
	    jv_bool(strcmp(v[11], "1") == 0));
	doc = jv_object_set(doc, jv_string("allow"), opt(v[12]));
	doc = jv_object_set(doc, jv_string("deny"), opt(v[13]));
	doc = jv_object_set(doc, jv_string("guards"), split_nonempty(v[14], "\n"));
	doc = jv_object_set(doc, jv_string("refusal"), jv_string(v[15]));
	doc = jv_object_set(doc, jv_string("no_tools"),
	    jv_bool(strcmp(v[16], "1") == 0));
	return jv_object_set(doc, jv_string("text_calls"),
	    jv_bool(strcmp(v[17], "-W") == 0));
}

/* v[key] for an object v (borrowed), else null. */
static jv
field(jv v, const char *key)
{
	jv f = json_get(v, key);

	return jv_is_valid(f) ? f : (jv_free(f), jv_null());
}

/* Does jq count v (borrowed) as true? */
static int
truthy(jv v)
{
	jv_kind k = jv_get_kind(v);

	return k != JV_KIND_NULL && k != JV_KIND_FALSE && k != JV_KIND_INVALID;
}

/* The documents of dir named [0-9][0-9][0-9]-KIND.json, not empty, in
 * order, each as [turn, doc]; an invalid value when one is not JSON. */
static jv
step_docs(const char *dir, const char *kind)
{
	struct buf pattern = {0};
	glob_t g;
	jv out = jv_array();
	size_t i;

	buf_append_str(&pattern, dir);
	buf_append_str(&pattern, "/[0-9][0-9][0-9]-");
	buf_append_str(&pattern, kind);
	buf_append_str(&pattern, ".json");
	if (glob(pattern.data, 0, NULL, &g) != 0) {
		buf_free(&pattern);
		return out;
	}
	buf_free(&pattern);
	for (i = 0; i < g.gl_pathc && jv_is_valid(out); i++) {
		struct buf b = {0};
		char why[READ_WHY_MAX];
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;
		jv doc;

		if (read_file(g.gl_pathv[i], JSON_INPUT_MAX, &b, why) != 0) {
			jv_free(out);
			out = jv_invalid_with_msg(jv_string_fmt("%s: %s",
			    g.gl_pathv[i], why));
		} else if (b.len > 0) {
			doc = jv_parse_sized(b.data, (int)b.len);
			if (!jv_is_valid(doc)) {
				jv_free(doc);
				jv_free(out);
				out = jv_invalid_with_msg(jv_string_fmt(
				    "%s: not JSON", g.gl_pathv[i]));
			} else {
				out = jv_array_append(out, JV_ARRAY(
				    jv_number(atoi(base)), doc));
			}
		}
		buf_free(&b);
	}
	globfree(&g);
	return out;
}

/* The lines of the results journals that are JSON objects, in order;
 * a line torn by a crash is left out. */
static void
journal_times(const char *dir, jv *start, jv *done)
{
	struct buf pattern = {0};
	glob_t g;
	size_t i;

	*start = jv_object();
	*done = jv_object();
	buf_append_str(&pattern, dir);
	buf_append_str(&pattern, "/[0-9][0-9][0-9]-results.journal");
	if (glob(pattern.data, 0, NULL, &g) != 0) {
		buf_free(&pattern);
		return;
	}
	buf_free(&pattern);
	for (i = 0; i < g.gl_pathc; i++) {
		struct buf b = {0};
		char why[READ_WHY_MAX];
		char *line, *next;

		if (read_file(g.gl_pathv[i], JSON_INPUT_MAX, &b, why) != 0) {
			buf_free(&b);
			continue;
		}
		for (line = b.data; line != NULL && *line != '\0'; line = next) {
			jv o, key;

			next = strchr(line, '\n');
			if (next != NULL)
				*next++ = '\0';
			o = jv_parse(line);
			if (jv_get_kind(o) != JV_KIND_OBJECT) {
				jv_free(o);
				continue;
			}
			key = field(o, "started");
			if (truthy(key) && jv_get_kind(key) == JV_KIND_STRING)
				*start = jv_object_set(*start, jv_copy(key),
				    field(o, "time"));
			jv_free(key);
			key = field(o, "tool_call_id");
			if (truthy(key) && jv_get_kind(key) == JV_KIND_STRING)
				*done = jv_object_set(*done, jv_copy(key),
				    field(o, "time"));
			jv_free(key);
			jv_free(o);
		}
		buf_free(&b);
	}
	globfree(&g);
}

/* Why a tool's result (borrowed) says it failed: its "error", as text;
 * null when it is not an error. */
static jv
failure(jv content)
{
	jv c, why = jv_null();

	if (jv_get_kind(content) != JV_KIND_STRING)
		return why;
	c = jv_parse_sized(jv_string_value(content),
	    jv_string_length_bytes(jv_copy(content)));
	if (jv_get_kind(c) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(c), jv_string("error"))) {
		jv_free(why);
		why = field(c, "error");
		if (jv_get_kind(why) != JV_KIND_STRING)
			why = jv_dump_string(why, 0);
	}
	jv_free(c);
	return why;
}

/* The sum of usage[key] over the turns, numbers only. */
static jv
usage_sum(jv turns, const char *key)
{
	double sum = 0;
	int i, n = jv_array_length(jv_copy(turns));

	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(turns), i);
		jv u = field(t, "usage");
		jv x = field(u, key);

		if (jv_get_kind(x) == JV_KIND_NUMBER)
			sum += jv_number_value(x);
		jv_free(x);
		jv_free(u);
		jv_free(t);
	}
	return jv_number(sum);
}

/* Each model call: its turn, model, finish reason and usage. */
static jv
summary_turns(jv responses)
{
	jv turns = jv_array();
	int i, n = jv_array_length(jv_copy(responses));

	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(responses), i);
		jv doc = jv_array_get(jv_copy(r), 1);
		jv choices = field(doc, "choices");
		jv first = jv_get_kind(choices) == JV_KIND_ARRAY &&
		    jv_array_length(jv_copy(choices)) > 0 ?
		    jv_array_get(jv_copy(choices), 0) : jv_null();
		jv t = jv_object();

		t = jv_object_set(t, jv_string("turn"), jv_array_get(r, 0));
		t = jv_object_set(t, jv_string("model"), field(doc, "model"));
		t = jv_object_set(t, jv_string("finish_reason"),
		    field(first, "finish_reason"));
		t = jv_object_set(t, jv_string("usage"), field(doc, "usage"));
		turns = jv_array_append(turns, t);
		jv_free(first);
		jv_free(choices);
		jv_free(doc);
	}
	jv_free(responses);
	return turns;
}

/* seconds rounded to the millisecond, halves away from zero, as
 * jq's round does. */
static double
milliseconds(double seconds)
{
	double ms = seconds * 1000;

	ms = ms < 0 ? -(double)(long long)(-ms + 0.5) : (double)(long long)(ms + 0.5);
	return ms / 1000;
}

/* Each tool call: turn, id, name, outcome, duration, and why when it
 * failed or was refused. calls and results are consumed. */
static jv
summary_calls(jv calls, jv results, jv start, jv done)
{
	jv content = jv_object(), out = jv_array();
	int i, j, n;

	n = jv_array_length(jv_copy(results));
	for (i = 0; i < n; i++) {
		jv doc = jv_array_get(jv_array_get(jv_copy(results), i), 1);
		int m = jv_get_kind(doc) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(doc)) : 0;

		for (j = 0; j < m; j++) {
			jv r = jv_array_get(jv_copy(doc), j);
			jv id = field(r, "tool_call_id");

			if (jv_get_kind(id) == JV_KIND_STRING)
				content = jv_object_set(content, id,
				    field(r, "content"));
			else
				jv_free(id);
			jv_free(r);
		}
		jv_free(doc);
	}
	jv_free(results);
	n = jv_array_length(jv_copy(calls));
	for (i = 0; i < n; i++) {
		jv pair = jv_array_get(jv_copy(calls), i);
		jv turn = jv_array_get(jv_copy(pair), 0);
		jv doc = jv_array_get(pair, 1);
		int m = jv_get_kind(doc) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(doc)) : 0;

		for (j = 0; j < m; j++) {
			jv call = jv_array_get(jv_copy(doc), j);
			jv id = field(call, "id"), fn = field(call, "function");
			jv c = jv_null(), why, t0 = jv_null(), t1 = jv_null(), o;
			int has_start = 0;
			const char *outcome;

			if (jv_get_kind(id) == JV_KIND_STRING) {
				c = field(content, jv_string_value(id));
				has_start = jv_object_has(jv_copy(start),
				    jv_copy(id));
				t0 = field(start, jv_string_value(id));
				t1 = field(done, jv_string_value(id));
			}
			if (!truthy(c)) {
				jv_free(c);
				c = jv_null();
			}
			why = jv_get_kind(c) == JV_KIND_NULL ? jv_null() : failure(c);
			if (jv_get_kind(c) == JV_KIND_NULL)
				outcome = has_start ? "interrupted" : "not_run";
			else if (!has_start)
				outcome = truthy(why) ? "refused" : "ran";
			else
				outcome = truthy(why) ? "failed" : "ran";
			o = jv_object();
			o = jv_object_set(o, jv_string("turn"), jv_copy(turn));
			o = jv_object_set(o, jv_string("id"), id);
			o = jv_object_set(o, jv_string("name"), field(fn, "name"));
			o = jv_object_set(o, jv_string("outcome"), jv_string(outcome));
			if (jv_get_kind(t0) == JV_KIND_NUMBER &&
			    jv_get_kind(t1) == JV_KIND_NUMBER)
				o = jv_object_set(o, jv_string("duration"),
				    jv_number(milliseconds(jv_number_value(t1) -
				    jv_number_value(t0))));
			else
				o = jv_object_set(o, jv_string("duration"), jv_null());
			if (truthy(why))
				o = jv_object_set(o, jv_string("reason"), why);
			else
				jv_free(why);
			out = jv_array_append(out, o);
			jv_free(t0);
			jv_free(t1);
			jv_free(c);
			jv_free(fn);
			jv_free(call);
		}
		jv_free(doc);
		jv_free(turn);
	}
	jv_free(calls);
	jv_free(content);
	return out;
}

jv
run_summary(const char *dir, const char *how, int exit_status,
    const char *started, const char *ended, const char *model)
{
	jv responses, calls, results, turns, start, done, doc, usage, m, s;
	struct buf path = {0};
	char why[READ_WHY_MAX];
	int i;

	responses = step_docs(dir, "response");
	calls = step_docs(dir, "calls");
	results = step_docs(dir, "results");
	if (!jv_is_valid(responses)) {
		jv_free(calls);
		jv_free(results);
		return responses;
	}
	if (!jv_is_valid(calls)) {
		jv_free(responses);
		jv_free(results);
		return calls;
	}
	if (!jv_is_valid(results)) {
		jv_free(responses);
		jv_free(calls);
		return results;
	}
	/* An earlier summary (a resumed run) keeps its start. */
	buf_append_str(&path, dir);
	buf_append_str(&path, "/summary.json");
	s = jv_string(started);
	{
		struct buf b = {0};

		if (read_file(path.data, JSON_INPUT_MAX, &b, why) == 0 &&
		    b.len > 0) {
			jv old = jv_parse_sized(b.data, (int)b.len);
			jv st = field(old, "started");

			if (truthy(st)) {
				jv_free(s);
				s = st;
			} else {
				jv_free(st);
			}
			jv_free(old);
		}
		buf_free(&b);
	}
	buf_free(&path);
	journal_times(dir, &start, &done);
	turns = summary_turns(responses);
	m = *model == '\0' ? jv_null() : jv_string(model);
	for (i = jv_array_length(jv_copy(turns)) - 1; i >= 0; i--) {
		jv t = jv_array_get(jv_copy(turns), i);
		jv tm = field(t, "model");

		jv_free(t);
		if (jv_get_kind(tm) == JV_KIND_STRING) {
			jv_free(m);
			m = tm;
			break;
		}
		jv_free(tm);
	}
	usage = jv_object();
	usage = jv_object_set(usage, jv_string("prompt_tokens"),
	    usage_sum(turns, "prompt_tokens"));
	usage = jv_object_set(usage, jv_string("completion_tokens"),
	    usage_sum(turns, "completion_tokens"));
	usage = jv_object_set(usage, jv_string("total_tokens"),
	    usage_sum(turns, "total_tokens"));
	doc = jv_object();
	doc = jv_object_set(doc, jv_string("version"), jv_number(1));
	doc = jv_object_set(doc, jv_string("model"), m);
	doc = jv_object_set(doc, jv_string("started"), s);
	doc = jv_object_set(doc, jv_string("ended"), jv_string(ended));
	doc = jv_object_set(doc, jv_string("turns"), turns);
	doc = jv_object_set(doc, jv_string("usage"), usage);
	doc = jv_object_set(doc, jv_string("tool_calls"),
	    summary_calls(calls, results, start, done));
	jv_free(start);
	jv_free(done);
	return jv_object_set(doc, jv_string("result"), JV_OBJECT(
	    jv_string("how"), jv_string(how),
	    jv_string("exit_status"), jv_number(exit_status)));
}
