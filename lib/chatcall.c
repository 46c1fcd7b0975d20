/* One Chat Completions call as llm-request makes it; see chatcall.h. */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chatcall.h"
#include "chatstream.h"
#include "common.h"
#include "holder.h"
#include "http.h"
#include "json.h"
#include "sse.h"
#include "status.h"
#include "term.h"

#define RETRY_AFTER_MAX 60.0

/* What one attempt received. */
struct reply {
	const struct chat_call *call;
	CURL *curl;           /* the handle of transfers made here, kept */
	struct buf body;
	size_t received;
	int streaming;        /* a 2xx event stream is coming */
	int decided;          /* streaming was decided for this response */
	int stream_over;      /* [DONE] or an error: the rest is not wanted */
	struct sse_decoder sse;
	struct chat_stream *chat;
	int too_big, stalled;
	double last_byte;
	long status;
	char request_id[128];
	double retry_after;   /* seconds asked by the server, or -1 */
	int should_retry;     /* x-should-retry: 1, 0, or -1 when absent */
	int via_holder;       /* the transfer is made by a connection holder */
	struct holder_reply held;
	pid_t status_pid;     /* the status line drawn while waiting, or -1 */
	char shown_last;      /* the last character of the text shown */
};

/* Show streamed text as it arrives, unbuffered and made safe for a
 * terminal (ctx is the reply); its last character is kept, so that the
 * shown text can end its line. */
static void
show_text(void *ctx, int choice, const char *text, size_t len)
{
	struct reply *r = ctx;

	if (choice == 0 && len > 0) {
		status_stop(&r->status_pid);
		term_write(stderr, text, len, TERM_NEWLINES);
		fflush(stderr);
		r->shown_last = text[len - 1];
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
	if (r->received + size * n > r->call->max_response) {
		r->too_big = 1;
		return 0;
	}
	r->received += size * n;
	if (r->call->stream && !r->decided)
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
	if (r->last_byte > 0 && now_seconds() - r->last_byte > r->call->http.idle_timeout) {
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
make_handle(struct reply *r, char *errbuf)
{
	CURL *curl = curl_easy_init();

	if (curl == NULL)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	http_setup(curl, &r->call->http, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, r);
	return r->curl = curl;
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
	} else if (json_get_kind(response, "error") == JV_KIND_OBJECT) {
		/* Some servers answer 200 with {"error":{...}}. */
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
finish_stream(struct reply *r, CURLcode rc, const char *errbuf)
{
	const char *url = r->call->shown_url;
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

/* Free what the last attempt decoded of a stream. */
static void
reply_free_stream(struct reply *r)
{
	if (r->chat != NULL) {
		sse_free(&r->sse);
		chat_stream_free(r->chat);
		r->chat = NULL;
	}
}

/* Ready r for a new attempt: all of the last one forgotten but the
 * handle and the body's buffer. */
static void
reply_reset(struct reply *r, const struct chat_call *call)
{
	CURL *curl = r->curl;
	struct buf body = r->body;

	reply_free_stream(r);
	memset(r, 0, sizeof *r);
	r->call = call;
	r->curl = curl;
	r->body = body;
	r->body.len = 0;
	if (r->body.data != NULL)
		r->body.data[0] = '\0';
	r->retry_after = -1;
	r->should_retry = -1;
	r->status_pid = -1;
	r->shown_last = '\n';
	if (call->stream) {
		r->chat = chat_stream_new(call->show ? show_text : NULL, r);
		sse_init(&r->sse, SSE_EVENT_MAX, chat_stream_event, r->chat);
	}
}

/* One transfer: through the connection holder when one answers, else
 * here. The status line (--status) is drawn while the answer is awaited, not
 * while libcurl is loaded, which may fail with a message. */
static CURLcode
transfer(struct reply *r, char *errbuf)
{
	const struct chat_call *call = r->call;
	int held = HOLDER_BYPASS;
	int status_line = call->show && call->status_text != NULL;
	CURLcode rc;

	if (call->holder != NULL && *call->holder != '\0') {
		if (status_line)
			r->status_pid = status_start(call->status_text);
		r->via_holder = 1;
		held = holder_perform(call->holder, &call->http, on_header,
		    on_body, r, &r->held, errbuf);
	}
	r->via_holder = held != HOLDER_BYPASS;
	if (!r->via_holder && r->curl == NULL) {
		status_stop(&r->status_pid);
		make_handle(r, errbuf);
	}
	if (!r->via_holder && status_line && r->status_pid < 0)
		r->status_pid = status_start(call->status_text);
	rc = r->via_holder ? (CURLcode)held : curl_easy_perform(r->curl);
	status_stop(&r->status_pid);
	r->stalled |= r->via_holder && r->held.stalled;
	if (r->via_holder && (rc == CURLE_OK || r->stream_over))
		r->status = r->held.status;
	else if (rc == CURLE_OK || r->stream_over)
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
	return rc;
}

/* Why a transfer that is not the answer failed, in why, and its exit
 * code. */
static int
failure(const struct reply *r, CURLcode rc, const char *errbuf, char *why,
    size_t whysz)
{
	char code[64], *msg;
	int ret;

	if (rc != CURLE_OK) {
		snprintf(why, whysz, "%s: %s%s", r->call->shown_url,
		    r->stalled ? "the server stopped sending" : *errbuf ?
		    errbuf : curl_easy_strerror(rc),
		    http_certificate_error(rc) ? " (" HTTP_CA_HINT ")" : "");
		return curl_exit(rc);
	}
	msg = error_message(&r->body, code, sizeof code);
	ret = status_exit(r->status, code);
	snprintf(why, whysz, "HTTP %ld: %s%s%s%s", r->status, msg,
	    *r->request_id ? " (request id " : "", r->request_id,
	    *r->request_id ? ")" : "");
	free(msg);
	return ret;
}

/* The answer as it is to be written, appended to out. */
static void
answer(struct reply *r, struct buf *out, int indent)
{
	jv text;

	if (!r->streaming) {
		buf_append(out, r->body.data, r->body.len);
		if (r->body.data[r->body.len - 1] != '\n')
			buf_append_str(out, "\n");
		return;
	}
	if (r->shown_last != '\n')
		fputc('\n', stderr);
	text = jv_dump_string(chat_stream_result(r->chat),
	    indent ? JV_PRINT_INDENT_FLAGS(2) : 0);
	buf_append_str(out, jv_string_value(text));
	buf_append_str(out, "\n");
	jv_free(text);
}

int
chat_call_run(const struct chat_call *call, struct buf *out, int indent)
{
	struct reply r = {0};
	char errbuf[CURL_ERROR_SIZE], why[512];
	CURLcode rc;
	int attempt, ret, retryable;
	double wait;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	for (attempt = 0;; attempt++) {
		reply_reset(&r, call);
		errbuf[0] = '\0';
		rc = transfer(&r, errbuf);
		if (r.streaming && !r.too_big) {
			/* An event stream has begun: what it holds is the
			 * answer, and no retry would be the same answer. */
			ret = finish_stream(&r, rc, errbuf);
			break;
		}
		if (rc == CURLE_OK && r.status >= 200 && r.status <= 299) {
			ret = check_response(&r) ? 0 : EXIT_TRANSIENT;
			break;
		}
		if (r.too_big) {
			warnx("%s: response larger than %zu bytes (see "
			    "--max-response)", call->shown_url,
			    call->max_response);
			ret = EXIT_TRANSIENT;
			break;
		}
		ret = failure(&r, rc, errbuf, why, sizeof why);
		retryable = ret == EXIT_TRANSIENT;
		if (rc == CURLE_OK && r.should_retry >= 0)
			retryable = r.should_retry;
		if (!retryable || attempt >= call->retries) {
			warnx("%s", why);
			break;
		}
		wait = retry_wait(&r, attempt);
		if (!call->quiet)
			warnx("%s; retrying in %.2f s (attempt %d of %ld)", why,
			    wait, attempt + 2, call->retries + 1);
		sleep_seconds(wait);
	}
	if (ret == 0)
		answer(&r, out, indent);
	reply_free_stream(&r);
	buf_free(&r.body);
	curl_easy_cleanup(r.curl);
	return ret;
}
