/*
 * llm-request: send a Chat Completions request (FILE or stdin) to an
 * OpenAI-compatible server and write its response on stdout. The body
 * is checked before it is sent and the response before it is written, so
 * stdout holds one whole JSON document or nothing. Failures that may pass
 * (network errors, timeouts, 408, 409, 429, 5xx) are retried as the
 * official SDKs do. Exit 4 when the API refuses the request, 5 when a
 * transient failure outlives the retries or the response is broken.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "common.h"
#include "holder.h"
#include "status.h"
#include "http.h"
#include "json.h"
#include "jsonscan.h"
#include "sse.h"
#include "term.h"

#define DEFAULT_BASE_URL "https://api.openai.com/v1"
#define DEFAULT_MODEL "gpt-4.1-mini"
#define DEFAULT_TIMEOUT 600.0
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_IDLE_TIMEOUT 60.0
#define DEFAULT_RETRIES 2
#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)
#define RETRY_AFTER_MAX 60.0

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-q] [-m MODEL] [-u BASE_URL] [-t SECONDS] "
	    "[-r RETRIES] [-H HEADER]...\n"
	    "                   [-c SECONDS] [-i SECONDS] [-M BYTES] "
	    "[-S [-s] [-T TEXT]] [-O FILE]\n"
	    "                   [-E CAFILE] [FILE]\n", progname);
	if (f == stdout)
		fputs("Send a Chat Completions request and write the response.\n"
		    "  -m, --model MODEL          the model (default: the request's,\n"
		    "                             $LLM_MODEL, " DEFAULT_MODEL ")\n"
		    "  -u, --base-url URL         the API (default $OPENAI_BASE_URL,\n"
		    "                             " DEFAULT_BASE_URL ")\n"
		    "  -t, --timeout SECONDS      time allowed to each attempt (600)\n"
		    "  -c, --connect-timeout SEC  time allowed to connect (10)\n"
		    "  -i, --idle-timeout SEC     cut off a body that stalls (60)\n"
		    "  -r, --retries N            retries of transient failures (2)\n"
		    "  -H, --header 'NAME: VALUE' add a header (repeatable)\n"
		    "  -M, --max-response BYTES   refuse larger responses (64 MiB)\n"
		    "  -E, --cacert FILE          trust the CAs in FILE (default\n"
		    "                             $CURL_CA_BUNDLE, $SSL_CERT_FILE)\n"
		    "  -S, --stream               stream the response; write it whole\n"
		    "  -s, --show                 show the text on stderr as it comes\n"
		    "  -T, --status TEXT          with --show, show TEXT and the time\n"
		    "                             waited until the text comes\n"
		    "                             (the default when stderr is a terminal)\n"
		    "  -q, --quiet                do not report retries\n"
		    "  -O, --output FILE          write to FILE: all of it, or leave FILE be\n"
		    "Exit 4 when the API refuses, 5 on network or server failure.\n", f);
}

static const struct option longopts[] = {
	{"model", required_argument, NULL, 'm'},
	{"output", required_argument, NULL, 'O'},
	{"base-url", required_argument, NULL, 'u'},
	{"timeout", required_argument, NULL, 't'},
	{"connect-timeout", required_argument, NULL, 'c'},
	{"idle-timeout", required_argument, NULL, 'i'},
	{"retries", required_argument, NULL, 'r'},
	{"header", required_argument, NULL, 'H'},
	{"max-response", required_argument, NULL, 'M'},
	{"cacert", required_argument, NULL, 'E'},
	{"quiet", no_argument, NULL, 'q'},
	{"stream", no_argument, NULL, 'S'},
	{"show", no_argument, NULL, 's'},
	{"status", required_argument, NULL, 'T'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* What one attempt received. */
struct reply {
	CURL *curl;
	struct buf body;
	size_t received;
	int stream;           /* the request asked for a stream */
	int streaming;        /* and a 2xx event stream is coming */
	int decided;          /* streaming was decided for this response */
	int stream_over;      /* [DONE] or an error: the rest is not wanted */
	struct sse_decoder sse;
	struct chat_stream *chat;
	size_t max;
	int too_big, stalled;
	double stall_timeout, last_byte;
	long status;
	char request_id[128];
	double retry_after;   /* seconds asked by the server, or -1 */
	int should_retry;     /* x-should-retry: 1, 0, or -1 when absent */
	int via_holder;       /* the transfer is made by a connection holder */
	struct holder_reply held;
};

/* The status line drawn while the text is awaited, or -1. */
static pid_t status_pid = -1;

/* Show streamed text as it arrives, unbuffered and made safe for a
 * terminal; *ctx remembers its last character, so that the shown text
 * can end its line. */
static void
show_text(void *ctx, int choice, const char *text, size_t len)
{
	if (choice == 0 && len > 0) {
		status_stop(&status_pid);
		term_write(stderr, text, len, TERM_NEWLINES);
		fflush(stderr);
		*(char *)ctx = text[len - 1];
	}
}

/* Is this response an event stream of a success? Decided once per
 * response, from its status and content type. */
static void
decide_streaming(struct reply *r)
{
	long status = 0;
	char *type = NULL;

	r->decided = 1;
	if (r->via_holder) {
		status = r->held.status;
		type = r->held.content_type;
	} else {
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->curl, CURLINFO_CONTENT_TYPE, &type);
	}
	r->streaming = status >= 200 && status <= 299 && type != NULL &&
	    strncasecmp(type, "text/event-stream", 17) == 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;

	r->last_byte = now_seconds();
	if (r->received + size * n > r->max) {
		r->too_big = 1;
		return 0;
	}
	r->received += size * n;
	if (r->stream && !r->decided)
		decide_streaming(r);
	if (!r->streaming) {
		buf_append(&r->body, data, size * n);
		return size * n;
	}
	if (sse_feed(&r->sse, data, size * n) != SSE_MORE) {
		/* [DONE], a stream error or an event too long: stop here. */
		r->stream_over = 1;
		return 0;
	}
	return size * n;
}

/* Cut off a server that stops sending in the middle of a body. */
static int
on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct reply *r = userp;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (r->last_byte > 0 && now_seconds() - r->last_byte > r->stall_timeout) {
		r->stalled = 1;
		return 1;
	}
	return 0;
}

/* The value of header line data if its name is name, trimmed and made
 * printable into out; 0 when it is another header. */
static int
header_value(const char *data, size_t len, const char *name, char *out,
    size_t outsz)
{
	size_t n = strlen(name), i;

	if (len <= n || strncasecmp(data, name, n) != 0 || data[n] != ':')
		return 0;
	data += n + 1;
	len -= n + 1;
	while (len > 0 && (*data == ' ' || *data == '\t'))
		data++, len--;
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		len--;
	if (len >= outsz)
		len = outsz - 1;
	for (i = 0; i < len; i++)
		out[i] = isprint((unsigned char)data[i]) ? data[i] : '?';
	out[len] = '\0';
	return 1;
}

/* retry-after: seconds, or an HTTP date. -1 when unusable. */
static double
parse_retry_after(const char *v)
{
	char *end;
	double secs;
	time_t when;

	errno = 0;
	secs = strtod(v, &end);
	if (end != v && *end == '\0' && errno == 0 && isfinite(secs))
		return secs;
	when = curl_getdate(v, NULL);
	if (when == -1)
		return -1;
	return difftime(when, time(NULL));
}

/* Keep the headers that matter: request id and the retry advice. */
static size_t
on_header(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;
	size_t len = size * n;
	char v[128];

	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the last. */
		r->retry_after = -1;
		r->should_retry = -1;
		r->request_id[0] = '\0';
	} else if (header_value(data, len, "x-request-id", r->request_id,
	    sizeof r->request_id)) {
	} else if (header_value(data, len, "retry-after-ms", v, sizeof v)) {
		char *end;
		double ms = strtod(v, &end);
		if (end != v && *end == '\0' && isfinite(ms))
			r->retry_after = ms / 1000;
	} else if (header_value(data, len, "retry-after", v, sizeof v)) {
		/* retry-after-ms, when both come, wins. */
		if (r->retry_after < 0)
			r->retry_after = parse_retry_after(v);
	} else if (header_value(data, len, "x-should-retry", v, sizeof v)) {
		if (strcasecmp(v, "true") == 0)
			r->should_retry = 1;
		else if (strcasecmp(v, "false") == 0)
			r->should_retry = 0;
	}
	return len;
}

/* Text as a short printable line: control characters dropped, white
 * space folded, at most 200 bytes; with html, tags become spaces. */
static char *
printable_excerpt(const char *s, int html)
{
	char *out = xmalloc(204), *p = out;
	int in_tag = 0, space = 1;

	for (; *s != '\0' && p - out < 200; s++) {
		unsigned char c = (unsigned char)*s;
		int was_tag = in_tag;

		if (html && c == '<')
			in_tag = was_tag = 1;
		else if (html && c == '>' && in_tag)
			in_tag = 0;
		if (was_tag || isspace(c) || c < 0x20 || c == 0x7f) {
			if (!space)
				*p++ = ' ';
			space = 1;
		} else {
			*p++ = (char)c;
			space = 0;
		}
	}
	if (*s != '\0')
		p += sprintf(p, "...");
	while (p > out && p[-1] == ' ')
		p--;
	*p = '\0';
	return out;
}

/* The server's error message in any of the shapes servers use:
 * {"error":{"message"}}, {"error":"..."}, {"message"}, {"detail"}, or
 * not JSON at all. Sets *code to error.code when it is a string. */
static char *
error_message(const struct buf *body, char *code, size_t codesz)
{
	jv v = json_parse(body->data ? body->data : "", body->len);
	jv err;
	const char *m = NULL;
	char *out;

	*code = '\0';
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		out = printable_excerpt(body->data ? body->data : "", 1);
		if (*out == '\0') {
			free(out);
			out = xstrdup("(empty body)");
		}
		return out;
	}
	err = json_get(v, "error");
	if (jv_get_kind(err) == JV_KIND_OBJECT) {
		const char *c = json_get_str(err, "code");
		m = json_get_str(err, "message");
		if (c != NULL)
			snprintf(code, codesz, "%s", c);
	} else if (jv_get_kind(err) == JV_KIND_STRING) {
		m = jv_string_value(err);
	}
	if (m == NULL)
		m = json_get_str(v, "message");
	if (m == NULL)
		m = json_get_str(v, "detail");
	if (m != NULL) {
		out = printable_excerpt(m, 0);
	} else {
		char *dump = json_dump(jv_copy(v));
		out = printable_excerpt(dump, 0);
		free(dump);
	}
	jv_free(err);
	jv_free(v);
	return out;
}

/* Some servers answer 200 with {"error":{...}}. v is borrowed. */
static int
has_error_object(jv v)
{
	jv err = json_get(v, "error");
	int yes = jv_get_kind(err) == JV_KIND_OBJECT;

	jv_free(err);
	return yes;
}

static jv prepare_body(jv body, const char *model);
static jv ask_for_stream(jv body);

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

/* The body to send for the request text in b, settling its model and,
 * with *stream (or "stream": true in it), asking for a stream with its
 * usage. A large conversation is not parsed: a validating scan finds its
 * keys, and what is missing is written in front of them. Exits 3 on
 * input that is not a JSON object with a messages array. */
static char *
request_payload(struct buf *b, const char *model, int *stream)
{
	struct request_keys k = {0};
	struct buf out = {0};
	size_t at = 0, i;
	jv body, quoted;
	char *payload;

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
	if (k.escaped) {
		/* Keys spelled with escapes: only a parse reads them right. */
		body = prepare_body(json_parse(b->data, b->len), model);
		if (jv_get_kind(jv_object_get(jv_copy(body),
		    jv_string("stream"))) == JV_KIND_TRUE)
			*stream = 1;
		if (*stream)
			body = ask_for_stream(body);
		return json_dump(body);
	}
	if (model == NULL && k.model != '"') {
		model = getenv("LLM_MODEL");
		if (model == NULL || *model == '\0')
			model = DEFAULT_MODEL;
	}
	if ((model != NULL && k.model != 0) ||
	    (*stream && (k.stream_options != 0 || (k.stream != 0 &&
	    k.stream != 't')))) {
		/* Keys to replace or merge: the slow, sure way. */
		body = prepare_body(json_parse(b->data, b->len), model);
		if (*stream)
			body = ask_for_stream(body);
		return json_dump(body);
	}
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
	payload = out.data;
	return payload;
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
	if (model == NULL && json_get_str(body, "model") == NULL) {
		model = getenv("LLM_MODEL");
		if (model == NULL || *model == '\0')
			model = DEFAULT_MODEL;
	}
	if (model != NULL)
		body = jv_object_set(body, jv_string("model"), jv_string(model));
	return body;
}

/* The request text of path, or of stdin: exits 3 when unreadable. */
static void
read_request(const char *path, struct buf *b)
{
	int fd = STDIN_FILENO, rc;

	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die(EXIT_INPUT, "%s: %s", path, strerror(errno));
	rc = read_fd_all(fd, b, JSON_INPUT_MAX);
	if (rc != 0)
		die(EXIT_INPUT, "%s: %s", path ? path : "standard input",
		    rc == -2 ? "too large" : strerror(errno));
	if (fd != STDIN_FILENO)
		close(fd);
	if (b->len == strspn(b->data, " \t\r\n"))
		die(EXIT_INPUT, "request (%s): empty input",
		    path ? path : "standard input");
}

/* Does the user's -H list set header name (case-insensitive)? */
static int
user_sets(struct curl_slist *user, const char *name)
{
	size_t n = strlen(name);

	for (; user != NULL; user = user->next)
		if (strncasecmp(user->data, name, n) == 0 &&
		    user->data[n] == ':')
			return 1;
	return 0;
}

static struct curl_slist *
append_header(struct curl_slist *h, const char *name, const char *value)
{
	struct buf line = {0};

	buf_append_str(&line, name);
	buf_append_str(&line, ": ");
	buf_append_str(&line, value);
	h = curl_slist_append(h, line.data);
	/* Do not leave a credential behind in freed memory. */
	explicit_bzero(line.data, line.len);
	buf_free(&line);
	if (h == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	return h;
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

/* May s be a header value? No control character but tab: a CR or LF
 * would end the header and start another. */
static int
header_value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* The settings of the environment that become headers. */
static const struct {
	const char *name, *env;
} from_env[] = {
	{"OpenAI-Organization", "OPENAI_ORG_ID"},
	{"OpenAI-Project", "OPENAI_PROJECT_ID"},
};

/* The API key, taken out of the environment: copied, wiped where the
 * environment keeps it (what /proc/PID/environ shows) and unset, so that
 * it lives in one place until the headers hold it. Every header value
 * from the environment is checked here, before anything is sent: exit 2
 * on a control character. */
static char *
take_api_key(void)
{
	char *v = getenv("OPENAI_API_KEY"), *key = NULL;
	size_t i;

	if (v != NULL) {
		key = xstrdup(v);
		explicit_bzero(v, strlen(v));
		unsetenv("OPENAI_API_KEY");
		if (!header_value_ok(key)) {
			explicit_bzero(key, strlen(key));
			free(key);
			die(EXIT_USAGE, "OPENAI_API_KEY: holds a control "
			    "character (CR, LF, ...); refused");
		}
	}
	for (i = 0; i < sizeof from_env / sizeof from_env[0]; i++)
		if ((v = getenv(from_env[i].env)) != NULL && !header_value_ok(v))
			die(EXIT_USAGE, "%s: holds a control character (CR, LF, "
			    "...); refused", from_env[i].env);
	return key;
}

/* Wipe and free a header list: it may hold a credential. */
static void
free_headers(struct curl_slist *h)
{
	struct curl_slist *u;

	for (u = h; u != NULL; u = u->next)
		explicit_bzero(u->data, strlen(u->data));
	curl_slist_free_all(h);
}

/* The request's headers, with the key taken by take_api_key (wiped and
 * freed here); the user's -H ones win over ours. */
static struct curl_slist *
request_headers(struct curl_slist *user, int stream, char *key)
{
	struct curl_slist *h = NULL, *u;
	const char *v;
	size_t i;

	if (!user_sets(user, "Content-Type"))
		h = append_header(h, "Content-Type", "application/json");
	if (!user_sets(user, "Accept"))
		h = append_header(h, "Accept", stream ? "text/event-stream" :
		    "application/json");
	/* The body is whole and goes at once: no Expect: 100-continue (what
	 * libcurl sends over HTTP/1.1 for a body over 1 MiB), whose answer
	 * costs a round trip, or a second from a server that never sends it. */
	if (!user_sets(user, "Expect") && (h = curl_slist_append(h,
	    "Expect:")) == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	/* A key of the user's own (Azure's api-key, ...) replaces ours:
	 * never two credentials in one request. */
	if (key != NULL && *key != '\0' && !user_sets(user, "Authorization") &&
	    !user_sets(user, "api-key") && !user_sets(user, "x-api-key")) {
		struct buf bearer = {0};
		buf_append_str(&bearer, "Bearer ");
		buf_append_str(&bearer, key);
		h = append_header(h, "Authorization", bearer.data);
		explicit_bzero(bearer.data, bearer.len);
		buf_free(&bearer);
	}
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	for (i = 0; i < sizeof from_env / sizeof from_env[0]; i++) {
		v = getenv(from_env[i].env);
		if (v != NULL && *v != '\0' && !user_sets(user, from_env[i].name))
			h = append_header(h, from_env[i].name, v);
	}
	for (u = user; u != NULL; u = u->next)
		if ((h = curl_slist_append(h, u->data)) == NULL)
			die(EXIT_TRANSIENT, "out of memory");
	return h;
}

/* The endpoint of base: its path without trailing slashes, then
 * /chat/completions, then its query (Azure's ?api-version=...). */
static char *
endpoint_url(const char *base)
{
	const char *p = strstr(base, "://");
	size_t q, n;
	struct buf url = {0};

	p = p != NULL ? p + 3 : base;
	q = (size_t)(p - base) + strcspn(p, "?#");
	for (n = q; n > (size_t)(p - base) && base[n - 1] == '/'; n--)
		;
	buf_append(&url, base, n);
	buf_append_str(&url, "/chat/completions");
	buf_append_str(&url, base + q);
	return url.data;
}

/* url as a message may show it: without a user name or password. */
static char *
shown_url(const char *url)
{
	const char *p = strstr(url, "://"), *at;
	struct buf out = {0};

	if (p == NULL)
		return xstrdup(url);
	p += 3;
	at = memrchr(p, '@', strcspn(p, "/?#"));
	if (at == NULL)
		return xstrdup(url);
	buf_append(&out, url, (size_t)(p - url));
	buf_append_str(&out, at + 1);
	return out.data;
}

/* Exit code for a finished transfer that got an HTTP status. */
static int
status_exit(long status, const char *code)
{
	if (status == 408 || status == 409 || status >= 500)
		return EXIT_TRANSIENT;
	if (status == 429)
		return strcmp(code, "insufficient_quota") == 0 ? EXIT_API :
		    EXIT_TRANSIENT;
	return EXIT_API;
}

/* Exit code of a transfer error: usage for a bad URL, refused for a
 * certificate that does not verify, else transient. */
static int
curl_exit(CURLcode rc)
{
	if (http_certificate_error(rc))
		return EXIT_API;
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return EXIT_USAGE;
	default:
		return EXIT_TRANSIENT;
	}
}

/* How long to wait before retry number attempt (0-based), as the SDKs
 * do: the server's retry-after when within 60 s, else exponential
 * backoff with jitter. */
static double
retry_wait(const struct reply *r, int attempt)
{
	double base;

	if (r->retry_after >= 0 && r->retry_after <= RETRY_AFTER_MAX)
		return r->retry_after;
	base = fmin(0.5 * pow(2, attempt), 8.0);
	return base * (1 - 0.25 * ((double)random() / RAND_MAX));
}

static void
sleep_seconds(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The handle of a transfer made here, made when first needed (libcurl
 * is loaded then: see lib/curlload.c). */
static CURL *
make_handle(const struct http_call *call, struct reply *r, char *errbuf)
{
	CURL *curl = curl_easy_init();

	if (curl == NULL)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	http_setup(curl, call, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, r);
	return r->curl = curl;
}

/* The response on stdout: on a terminal made safe for it, in a pipe or
 * a file byte for byte. */
static void
write_response(const char *s, size_t n)
{
	if (isatty(STDOUT_FILENO))
		term_write(stdout, s, n, TERM_NEWLINES);
	else
		fwrite(s, 1, n, stdout);
}

/* Check a 2xx body: a JSON object without an error in it. On failure
 * say why and return 0. */
static int
check_response(const struct reply *r)
{
	jv response = json_parse(r->body.data ? r->body.data : "", r->body.len);
	char code[64], *msg;
	int ok = 0;

	if (!jv_is_valid(response)) {
		msg = json_invalid_message(response);
		warnx("HTTP %ld: the response is not JSON: %s", r->status, msg);
		free(msg);
		return 0;
	}
	if (jv_get_kind(response) != JV_KIND_OBJECT) {
		warnx("HTTP %ld: the response is %s, not an object", r->status,
		    json_kind_name(response));
	} else if (has_error_object(response)) {
		msg = error_message(&r->body, code, sizeof code);
		warnx("HTTP %ld with an error: %s", r->status, msg);
		free(msg);
	} else {
		ok = 1;
	}
	jv_free(response);
	return ok;
}

/* How a stream ended: 0 when it is complete, else say why and return
 * the exit code (5: truncated, broken, or an error inside it). */
static int
finish_stream(struct reply *r, CURLcode rc, const char *errbuf,
    const char *url)
{
	int cut = sse_finish(&r->sse);

	if (r->sse.status == SSE_TOO_LONG) {
		warnx("%s: an event of the stream is longer than %zu bytes", url,
		    SSE_EVENT_MAX);
		return EXIT_TRANSIENT;
	}
	switch (chat_stream_state(r->chat)) {
	case CHAT_STREAM_ERROR:
		warnx("HTTP %ld: error in the stream: %s", r->status,
		    chat_stream_error(r->chat));
		return EXIT_TRANSIENT;
	case CHAT_STREAM_COMPLETE:
		return 0;
	default:
		break;
	}
	if (rc != CURLE_OK && !r->stream_over)
		warnx("%s: the stream was cut off: %s", url, r->stalled ?
		    "the server stopped sending" : *errbuf ? errbuf :
		    curl_easy_strerror(rc));
	else
		warnx("%s: the stream ended before it was complete (no [DONE], "
		    "no finish_reason)%s", url, cut ? " in the middle of an event" :
		    "");
	return EXIT_TRANSIENT;
}

int
main(int argc, char *argv[])
{
	const char *model = NULL, *base = NULL;
	double timeout = DEFAULT_TIMEOUT, connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	double idle_timeout = DEFAULT_IDLE_TIMEOUT;
	size_t max_response = DEFAULT_MAX_RESPONSE;
	char errbuf[CURL_ERROR_SIZE], code[64], why[512];
	struct reply reply = {0};
	struct curl_slist *headers = NULL, *user_headers = NULL;
	CURL *curl = NULL;
	CURLcode rc;
	char *url = NULL, *shown = NULL, *payload = NULL, *msg, *key;
	long retries = DEFAULT_RETRIES, n;
	const char *output = NULL, *cacert = NULL, *holder, *status_text = NULL;
	struct http_call call = {0};
	int held, c, ret = 0, attempt, quiet = 0, retryable, stream = 0, show = -1;
	char shown_last = '\n';
	struct buf input = {0};

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
	/* The key in memory: no core dump, no ptrace or /proc reading by
	 * other processes of the user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	while ((c = getopt_long(argc, argv, "m:u:t:c:i:r:H:M:qSshVO:E:T:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'O':
			output = optarg;
			break;
		case 'u':
			base = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout) != 0 || timeout <= 0)
				die(EXIT_USAGE, "-t: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case 'c':
			if (parse_seconds(optarg, &connect_timeout) != 0 ||
			    connect_timeout <= 0)
				die(EXIT_USAGE, "--connect-timeout: not a positive "
				    "number of seconds: %s", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &idle_timeout) != 0 ||
			    idle_timeout <= 0)
				die(EXIT_USAGE, "--idle-timeout: not a positive "
				    "number of seconds: %s", optarg);
			break;
		case 'r':
			if (parse_long(optarg, 0, 100, &retries) != 0)
				die(EXIT_USAGE, "-r: not a number of retries "
				    "from 0 to 100: %s", optarg);
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL || optarg[0] == ':')
				die(EXIT_USAGE, "-H: not a 'Name: value' header");
			if (!header_value_ok(optarg))
				die(EXIT_USAGE, "-H: holds a control character "
				    "(CR, LF, ...); refused");
			user_headers = curl_slist_append(user_headers, optarg);
			break;
		case 'M':
			if (parse_long(optarg, 1, 1L << 40, &n) != 0)
				die(EXIT_USAGE, "--max-response: not a positive "
				    "number of bytes: %s", optarg);
			max_response = (size_t)n;
			break;
		case 'E':
			if (access(optarg, R_OK) != 0)
				die(EXIT_USAGE, "--cacert: %s: %s", optarg,
				    strerror(errno));
			cacert = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'S':
			stream = 1;
			break;
		case 's':
			show = 1;
			break;
		case 'T':
			status_text = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("llm-request " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (base == NULL)
		base = getenv("OPENAI_BASE_URL");
	if (base == NULL || *base == '\0')
		base = DEFAULT_BASE_URL;
	url = endpoint_url(base);
	shown = shown_url(url);
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		msg = shown_url(base);
		warnx("base URL must start with http:// or https://: %s", msg);
		free(msg);
		free(url);
		free(shown);
		return EXIT_USAGE;
	}
	key = take_api_key();

	read_request(argv[optind], &input);
	if (output != NULL)
		output_to(output);
	payload = request_payload(&input, model, &stream);
	buf_free(&input);
	if (show < 0)
		show = stream && isatty(STDERR_FILENO);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	headers = request_headers(user_headers, stream, key);
	call.url = url;
	call.body = payload;
	call.body_len = strlen(payload);
	call.headers = headers;
	call.timeout = timeout;
	call.connect_timeout = connect_timeout;
	call.idle_timeout = idle_timeout;
	http_ca_choice(cacert, &call.cainfo, &call.capath);
	holder = getenv("LLM_HOLDER");

	reply.stream = stream;
	for (attempt = 0;; attempt++) {
		reply.body.len = 0;
		reply.received = 0;
		reply.decided = reply.streaming = reply.stream_over = 0;
		if (stream) {
			if (reply.chat != NULL) {
				sse_free(&reply.sse);
				chat_stream_free(reply.chat);
			}
			shown_last = '\n';
			reply.chat = chat_stream_new(show ? show_text : NULL,
			    &shown_last);
			sse_init(&reply.sse, SSE_EVENT_MAX, chat_stream_event,
			    reply.chat);
		}
		reply.max = max_response;
		reply.too_big = reply.stalled = 0;
		reply.stall_timeout = idle_timeout;
		reply.last_byte = 0;
		reply.status = 0;
		reply.retry_after = -1;
		reply.should_retry = -1;
		reply.request_id[0] = '\0';
		errbuf[0] = '\0';

		/* Through the connection holder when one answers, else here;
		 * the status line (-T) is drawn while the answer is awaited,
		 * not while libcurl is loaded, which may fail with a message. */
		held = HOLDER_BYPASS;
		if (holder != NULL && *holder != '\0') {
			if (show && status_text != NULL)
				status_pid = status_start(status_text);
			reply.via_holder = 1;
			held = holder_perform(holder, &call, on_header, on_body,
			    &reply, &reply.held, errbuf);
		}
		reply.via_holder = held != HOLDER_BYPASS;
		if (!reply.via_holder && curl == NULL) {
			status_stop(&status_pid);
			curl = make_handle(&call, &reply, errbuf);
		}
		if (!reply.via_holder && show && status_text != NULL &&
		    status_pid < 0)
			status_pid = status_start(status_text);
		rc = reply.via_holder ? (CURLcode)held : curl_easy_perform(curl);
		status_stop(&status_pid);
		reply.stalled |= reply.via_holder && reply.held.stalled;
		if (reply.via_holder && (rc == CURLE_OK || reply.stream_over))
			reply.status = reply.held.status;
		else if (rc == CURLE_OK || reply.stream_over)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE,
			    &reply.status);
		if (reply.streaming && !reply.too_big) {
			/* An event stream has begun: what it holds is the answer,
			 * and no retry would be the same answer. */
			ret = finish_stream(&reply, rc, errbuf, shown);
			if (ret != 0)
				goto out;
			break;
		}
		if (rc == CURLE_OK && reply.status >= 200 && reply.status <= 299) {
			if (!check_response(&reply)) {
				ret = EXIT_TRANSIENT;
				goto out;
			}
			ret = 0;
			break;
		}
		if (reply.too_big) {
			warnx("%s: response larger than %zu bytes (see "
			    "--max-response)", shown, max_response);
			ret = EXIT_TRANSIENT;
			goto out;
		}
		if (rc != CURLE_OK) {
			ret = curl_exit(rc);
			snprintf(why, sizeof why, "%s: %s%s", shown, reply.stalled ?
			    "the server stopped sending" : *errbuf ? errbuf :
			    curl_easy_strerror(rc), http_certificate_error(rc) ?
			    " (" HTTP_CA_HINT ")" : "");
		} else {
			msg = error_message(&reply.body, code, sizeof code);
			ret = status_exit(reply.status, code);
			snprintf(why, sizeof why, "HTTP %ld: %s%s%s%s", reply.status,
			    msg, *reply.request_id ? " (request id " : "",
			    reply.request_id, *reply.request_id ? ")" : "");
			free(msg);
		}
		retryable = ret == EXIT_TRANSIENT;
		if (rc == CURLE_OK && reply.should_retry >= 0)
			retryable = reply.should_retry;
		if (!retryable || attempt >= retries) {
			warnx("%s", why);
			goto out;
		}
		{
			double wait = retry_wait(&reply, attempt);
			if (!quiet)
				warnx("%s; retrying in %.2f s (attempt %d of %ld)",
				    why, wait, attempt + 2, retries + 1);
			sleep_seconds(wait);
		}
	}
	if (reply.streaming) {
		jv text = jv_dump_string(chat_stream_result(reply.chat),
		    isatty(STDOUT_FILENO) ? JV_PRINT_INDENT_FLAGS(2) : 0);

		if (shown_last != '\n')
			fputc('\n', stderr);
		write_response(jv_string_value(text),
		    strlen(jv_string_value(text)));
		fputc('\n', stdout);
		jv_free(text);
	} else {
		/* The body as the server sent it: numbers keep every digit. */
		write_response(reply.body.data, reply.body.len);
		if (reply.body.data[reply.body.len - 1] != '\n')
			fputc('\n', stdout);
	}
	finish_stdout();
out:
	curl_easy_cleanup(curl);
	free_headers(headers);
	free_headers(user_headers);
	curl_global_cleanup();
	buf_free(&reply.body);
	if (reply.chat != NULL) {
		sse_free(&reply.sse);
		chat_stream_free(reply.chat);
	}
	free(url);
	free(shown);
	free(payload);
	return ret;
}
