/* The body llm-request sends; see payload.h. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "jsonscan.h"
#include "payload.h"

/* The top-level keys of a request that decide how it is sent. */
struct request_keys {
	char messages, model, stream, stream_options;   /* value kinds */
	int escaped;          /* a key written with escapes: parse to be sure */
};

static void
on_request_key(void *ctx, const char *key, size_t len, char kind,
    const char *value, size_t vlen)
{
	struct request_keys *k = ctx;

	(void)value, (void)vlen;
	if (memchr(key, '\\', len) != NULL)
		k->escaped = 1;
	else if (len == 8 && memcmp(key, "messages", 8) == 0)
		k->messages = kind;
	else if (len == 5 && memcmp(key, "model", 5) == 0)
		k->model = kind;
	else if (len == 6 && memcmp(key, "stream", 6) == 0)
		k->stream = kind;
	else if (len == 14 && memcmp(key, "stream_options", 14) == 0)
		k->stream_options = kind;
}

/* The model of a request that names none. */
static const char *
default_model(void)
{
	const char *model = getenv("LLM_MODEL");

	return model != NULL && *model != '\0' ? model : DEFAULT_MODEL;
}

/* Check the request and settle its model. Exits 3 on a bad shape. */
static jv
prepare_body(jv body, const char *model)
{
	jv messages;

	if (jv_get_kind(body) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "request: %s, not an object",
		    json_kind_name(body));
	messages = json_get(body, "messages");
	if (jv_get_kind(messages) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "request: no messages array");
	jv_free(messages);
	if (model == NULL && json_get_str(body, "model") == NULL)
		model = default_model();
	if (model != NULL)
		body = jv_object_set(body, jv_string("model"), jv_string(model));
	return body;
}

/* Ask for a stream, with the usage in its last chunk. */
static jv
ask_for_stream(jv body)
{
	jv opts = json_get(body, "stream_options");

	if (jv_get_kind(opts) != JV_KIND_OBJECT) {
		jv_free(opts);
		opts = jv_object();
	}
	opts = jv_object_set(opts, jv_string("include_usage"), jv_true());
	body = jv_object_set(body, jv_string("stream"), jv_true());
	return jv_object_set(body, jv_string("stream_options"), opts);
}

/* The body by the slow, sure way: parsed, settled and written again. */
static char *
parsed_payload(const struct buf *b, const char *model, int *stream)
{
	jv body = prepare_body(json_parse(b->data, b->len), model);

	if (jv_get_kind(jv_object_get(jv_copy(body),
	    jv_string("stream"))) == JV_KIND_TRUE)
		*stream = 1;
	if (*stream)
		body = ask_for_stream(body);
	return json_dump(body);
}

char *
request_payload(const struct buf *b, const char *model, int *stream)
{
	struct request_keys k = {0};
	struct buf out = {0};
	size_t at = 0, i;
	jv body, quoted;

	if (json_scan(b->data, b->len, on_request_key, &k, &at) != 0) {
		/* libjq says it better; the scan is the stricter judge. */
		body = json_parse(b->data, b->len);
		if (!jv_is_valid(body))
			die(EXIT_INPUT, "request: not a JSON document: %s",
			    json_invalid_message(body));
		die(EXIT_INPUT, "request: not strict JSON at byte %zu", at);
	}
	i = strspn(b->data, " \t\r\n");
	if (b->data[i] != '{')
		die(EXIT_INPUT, "request: not an object");
	if (k.messages != '[')
		die(EXIT_INPUT, "request: no messages array");
	if (k.stream == 't')
		*stream = 1;
	/* Keys spelled with escapes: only a parse reads them right. */
	if (k.escaped)
		return parsed_payload(b, model, stream);
	if (model == NULL && k.model != '"')
		model = default_model();
	/* Keys to replace or merge: the slow, sure way. */
	if ((model != NULL && k.model != 0) ||
	    (*stream && (k.stream_options != 0 || (k.stream != 0 &&
	    k.stream != 't'))))
		return parsed_payload(b, model, stream);
	/* Keys to add: in front of the others, the rest byte for byte. */
	buf_append_str(&out, "{");
	if (model != NULL) {
		quoted = jv_dump_string(jv_string(model), 0);
		buf_append_str(&out, "\"model\":");
		buf_append_str(&out, jv_string_value(quoted));
		buf_append_str(&out, ",");
		jv_free(quoted);
	}
	if (*stream && k.stream == 0)
		buf_append_str(&out, "\"stream\":true,");
	if (*stream)
		buf_append_str(&out, "\"stream_options\":"
		    "{\"include_usage\":true},");
	buf_append(&out, b->data + i + 1, b->len - i - 1);
	return out.data;
}

void
read_request(const char *path, struct buf *b)
{
	read_file_or_die(path, JSON_INPUT_MAX, b, EXIT_INPUT);
	if (b->len == strspn(b->data, " \t\r\n"))
		die(EXIT_INPUT, "request (%s): empty input", file_name(path));
}
