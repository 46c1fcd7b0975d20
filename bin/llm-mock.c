/*
 * llm-mock: a loopback OpenAI-compatible Chat Completions server, for
 * testing pipelines offline.
 *
 * Listens on 127.0.0.1 only and prints the port it got as one line on
 * stdout (and into -P PORTFILE). Chat request n (POST /v1/chat/completions)
 * is answered with element n of a script (-s, a JSON array) or with the
 * first output of a jq program (-j, -e) run on the request body with $n
 * bound to n. A reply is either a complete response body or a spec from
 * which one is built; it can be streamed as server-sent events and can
 * simulate faults (status, headers, delays, drops, truncation, slow
 * pieces). Requests are logged as JSON lines (-l) with credentials masked.
 * The parent reads and answers requests one by one; a child process sends
 * each answer, so a slow answer never blocks the next client.
 * Stdin is not read; messages go to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jq.h>

#include "common.h"
#include "json.h"

#define REQUEST_MAX ((size_t)64 << 20) /* largest request body */
#define HEAD_MAX ((size_t)1 << 20)     /* largest request line + headers */
#define IDLE_MS 10000                  /* a silent client is dropped */
#define LINGER_MS 1000                 /* wait for the client's close */
#define FRAGMENT_MAX 8                 /* bytes per streamed text piece */
#define MS_MAX 86400000L               /* longest delay: a day */

/* The jq program runs on [n, body]; the user's text goes between these. */
#define JQ_PREFIX ".[0] as $n | .[1] | ("
#define JQ_SUFFIX "\n)"

struct request {
	char *method, *target, *path; /* path: target without the query */
	jv headers;                   /* lower-case name -> value */
	struct buf body;
};

struct response {
	int status;
	const char *ctype; /* Content-Type, or NULL */
	int sized;         /* send Content-Length */
	int own_ctype;     /* the reply set its own Content-Type */
	struct buf extra;  /* header lines from the reply */
	struct buf body;
	long delay_ms, chunk_bytes, chunk_delay_ms, truncate; /* -1: whole */
	int drop;
};

/* One assistant message and its envelope, to send whole or streamed. */
struct completion {
	jv id, created, model, content, refusal, tool_calls, finish_reason,
	    usage;
	jv more; /* a whole body's other choices, streamed after the first:
	            [{content, refusal, tool_calls, finish_reason}] */
};

static jv script;          /* -s: the replies, else invalid */
static jq_state *jq;       /* -j, -e: the compiled program */
static int log_fd = -1;    /* -l */
static int listen_fd = -1;
static int wake_pipe[2] = {-1, -1}; /* signals wake the poll loop */
static volatile sig_atomic_t got_term;
static pid_t *children;    /* senders not yet reaped */
static size_t nchildren, children_cap;
static char why[512];      /* what is wrong with the current reply */

static long
now_ms(void)
{
	return (long)(now_seconds() * 1000);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void __attribute__((format(printf, 2, 3)))
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Record what is wrong with a reply in why; returns -1. */
static int __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- signals and sending children --- */

static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t w;

	if (sig != SIGCHLD)
		got_term = 1;
	w = write(wake_pipe[1], "", 1);
	(void)w;
	errno = saved;
}

static void
drain_wake_pipe(void)
{
	char junk[64];

	while (read(wake_pipe[0], junk, sizeof junk) > 0)
		;
}

/* Forget senders that have finished (never blocks). */
static void
reap_children(void)
{
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < nchildren; i++)
			if (children[i] == pid) {
				children[i] = children[--nchildren];
				break;
			}
}

/* Wait until every sender has finished; kill them once asked to stop. */
static void
wait_children(void)
{
	struct pollfd p = {0, POLLIN, 0};
	int killed = 0;
	size_t i;

	p.fd = wake_pipe[0];
	for (;;) {
		reap_children();
		if (nchildren == 0)
			return;
		if (got_term && !killed) {
			for (i = 0; i < nchildren; i++)
				kill(children[i], SIGTERM);
			killed = 1;
		}
		if (poll(&p, 1, 1000) > 0)
			drain_wake_pipe();
	}
}

/* --- reading a request --- */

/* Wait up to IDLE_MS for fd to be readable and append at most max bytes
 * of it to b. Bytes read, or 0 at EOF, or -1 on error, silence or a
 * signal to stop. */
static ssize_t
read_some(int fd, struct buf *b, size_t max)
{
	struct pollfd p[2] = {{0, POLLIN, 0}, {0, POLLIN, 0}};
	long deadline = now_ms() + IDLE_MS, left;
	ssize_t n;

	p[0].fd = fd;
	p[1].fd = wake_pipe[0];
	if (max > 65536)
		max = 65536;
	for (;;) {
		if (got_term || (left = deadline - now_ms()) <= 0)
			return -1;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents) {
			drain_wake_pipe();
			reap_children();
		}
		if (p[0].revents)
			break;
	}
	buf_grow(b, max);
	do
		n = read(fd, b->data + b->len, max);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	return n;
}

/* The length of the head (through the newline that ends its last line)
 * when s holds a blank line at or after from; 0 if not yet. */
static size_t
head_end(const char *s, size_t len, size_t from, size_t *body)
{
	size_t i;

	for (i = from; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < len && s[i + 1] == '\n') {
			*body = i + 2;
			return i + 1;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			*body = i + 3;
			return i + 1;
		}
	}
	return 0;
}

static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s))
			return 0;
	return 1;
}

static void
add_header(struct request *req, char *name, const char *value)
{
	jv old;
	char *p;

	for (p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	old = json_get(req->headers, name);
	if (jv_get_kind(old) == JV_KIND_STRING)
		req->headers = jv_object_set(req->headers, jv_string(name),
		    jv_string_fmt("%s, %s", jv_string_value(old), value));
	else
		req->headers = jv_object_set(req->headers, jv_string(name),
		    jv_string(value));
	jv_free(old);
}

static char *
next_line(char **cursor)
{
	char *line = *cursor, *nl;
	size_t n;

	if (line == NULL)
		return NULL;
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	*cursor = nl;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

/* Parse the request line and headers (head is changed); 0 or 400. */
static int
parse_head(char *head, size_t len, struct request *req)
{
	char *cursor = head, *line, *target, *version, *colon, *v, *end;

	if (memchr(head, '\0', len) != NULL)
		return 400;
	head[len - 1] = '\0';
	line = next_line(&cursor);
	if ((target = strchr(line, ' ')) == NULL)
		return 400;
	*target++ = '\0';
	if ((version = strchr(target, ' ')) == NULL)
		return 400;
	*version++ = '\0';
	if (!is_token(line) || *target == '\0' ||
	    strncmp(version, "HTTP/1.", 7) != 0 || strchr(version, ' '))
		return 400;
	req->method = xstrdup(line);
	req->target = xstrdup(target);
	if (strncmp(target, "http://", 7) == 0 ||
	    strncmp(target, "https://", 8) == 0)
		target = strchr(strstr(target, "//") + 2, '/');
	req->path = xstrdup(target != NULL ? target : "/");
	req->path[strcspn(req->path, "?#")] = '\0';
	while ((line = next_line(&cursor)) != NULL) {
		if (*line == ' ' || *line == '\t' ||
		    (colon = strchr(line, ':')) == NULL)
			return 400;
		*colon = '\0';
		if (!is_token(line))
			return 400;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v &&
		    (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		add_header(req, line, v);
	}
	return 0;
}

/* Read one request from fd into req: 0 when it is complete, an HTTP status
 * when it is refused (req holds what was parsed), -1 when the client is
 * to be dropped without an answer (silence, EOF, a signal to stop). */
static int
read_request(int fd, struct request *req)
{
	struct buf in = {0};
	size_t head_len = 0, body_at = 0, want;
	const char *s;
	char *end;
	unsigned long long clen = 0;
	ssize_t n;
	int rc = -1;

	while (head_len == 0) {
		size_t from = in.len > 2 ? in.len - 2 : 0;

		if (in.len > HEAD_MAX) {
			rc = 431;
			goto out;
		}
		if (read_some(fd, &in, HEAD_MAX + 1 - in.len) <= 0)
			goto out;
		head_len = head_end(in.data, in.len, from, &body_at);
	}
	if ((rc = parse_head(in.data, head_len, req)) != 0)
		goto out;
	if (json_get_str(req->headers, "transfer-encoding") != NULL) {
		rc = 411;
		goto out;
	}
	if ((s = json_get_str(req->headers, "content-length")) != NULL) {
		errno = 0;
		clen = strtoull(s, &end, 10);
		if (*s < '0' || *s > '9' || *end != '\0' || errno != 0) {
			rc = 400;
			goto out;
		}
		if (clen > REQUEST_MAX) {
			rc = 413;
			goto out;
		}
	}
	want = body_at + (size_t)clen;
	s = json_get_str(req->headers, "expect");
	if (s != NULL && strcasecmp(s, "100-continue") == 0 && in.len < want &&
	    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
		goto out;
	while (in.len < want) {
		if ((n = read_some(fd, &in, want - in.len)) <= 0) {
			rc = -1;
			goto out;
		}
	}
	buf_append(&req->body, in.data + body_at, (size_t)clen);
	rc = 0;
out:
	buf_free(&in);
	return rc;
}

static void
request_free(struct request *req)
{
	free(req->method);
	free(req->target);
	free(req->path);
	jv_free(req->headers);
	buf_free(&req->body);
}

/* --- the log --- */

/* A credential header's value with the secret hidden: the scheme, then
 * "***" and the last 4 characters when the secret has at least 8. */
static jv
mask_secret(const char *value)
{
	const char *sp = strchr(value, ' '), *cred = sp ? sp + 1 : value;
	int scheme = sp ? (int)(sp - value) + 1 : 0;
	size_t n;

	while (*cred == ' ')
		cred++;
	n = strlen(cred);
	return jv_string_fmt("%.*s***%s", scheme, value,
	    n >= 8 ? cred + n - 4 : "");
}

/* Append one JSON line about req to the log; n is 0 for no chat number. */
static void
log_request(const struct request *req, int n, jv body)
{
	static const char *secret[] = {"authorization", "proxy-authorization",
	    "api-key", "x-api-key"};
	jv headers, entry;
	const char *s;
	char *line;
	size_t i;

	if (log_fd < 0)
		return;
	headers = jv_copy(req->headers);
	for (i = 0; i < sizeof secret / sizeof *secret; i++)
		if ((s = json_get_str(headers, secret[i])) != NULL)
			headers = jv_object_set(headers, jv_string(secret[i]),
			    mask_secret(s));
	if (req->body.len == 0)
		body = jv_null();
	else if (jv_is_valid(body))
		body = jv_copy(body);
	else
		body = jv_string_sized(req->body.data, (int)req->body.len);
	entry = JV_OBJECT(jv_string("n"), n > 0 ? jv_number(n) : jv_null(),
	    jv_string("method"), jv_string(req->method),
	    jv_string("path"), jv_string(req->target),
	    jv_string("headers"), headers, jv_string("body"), body);
	line = json_dump(entry);
	if (write_all(log_fd, line, strlen(line)) < 0 ||
	    write_all(log_fd, "\n", 1) < 0)
		warnx_errno("log");
	free(line);
}

/* --- building responses --- */

static void
response_init(struct response *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
	r->truncate = -1;
}

static void
response_free(struct response *r)
{
	buf_free(&r->extra);
	buf_free(&r->body);
}

static void
set_body(struct response *r, int status, const char *ctype, const char *p,
    size_t n)
{
	r->status = status;
	r->ctype = ctype;
	r->sized = 1;
	r->body.len = 0;
	buf_append(&r->body, p, n);
}

/* Make v (consumed) the JSON body of r. */
static void
set_json(struct response *r, int status, jv v)
{
	char *s = json_dump(v);

	set_body(r, status, "application/json", s, strlen(s));
	free(s);
}

/* An OpenAI-shaped error body with the message "llm-mock: ...". */
static void __attribute__((format(printf, 3, 4)))
set_error(struct response *r, int status, const char *fmt, ...)
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
	set_json(r, status, JV_OBJECT(jv_string("error"), err));
}

/* Replace whatever r holds by a 500 about request n and say so. */
static void __attribute__((format(printf, 3, 4)))
reply_failed(struct response *r, int n, const char *fmt, ...)
{
	va_list ap;
	jv msg;

	va_start(ap, fmt);
	msg = jv_string_vfmt(fmt, ap);
	va_end(ap);
	response_free(r);
	response_init(r);
	warnx("request %d: %s", n, jv_string_value(msg));
	set_error(r, 500, "%s", jv_string_value(msg));
	jv_free(msg);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return status < 400 ? "OK" : "Error";
}

static size_t
str_bytes(jv s)
{
	return jv_get_kind(s) == JV_KIND_STRING ?
	    (size_t)jv_string_length_bytes(jv_copy(s)) : 0;
}

/* reply[key] as a whole number in [0, max] into out (def when absent). */
static int
get_count(jv reply, const char *key, long max, long def, long *out)
{
	jv v = json_get(reply, key);
	double d;

	*out = def;
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		jv_free(v);
		return problem("%s is not a number", key);
	}
	d = jv_number_value(v);
	jv_free(v);
	if (!(d >= 0 && d <= max) || d != (double)(long)d)
		return problem("%s is not a whole number from 0 to %ld", key,
		    max);
	*out = (long)d;
	return 0;
}

/* reply[key] into out when it is a string (or def when absent or null);
 * -1 when it is something else. */
static int
get_string(jv reply, const char *key, jv def, jv *out)
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
	return problem("%s is not a string", key);
}

/* The reply's headers as response header lines. */
static int
add_reply_headers(struct response *r, jv reply)
{
	jv h = json_get(reply, "headers"), k, v;
	const char *name, *value;
	int it, rc = 0;

	if (!jv_is_valid(h) || jv_get_kind(h) == JV_KIND_NULL) {
		jv_free(h);
		return 0;
	}
	if (jv_get_kind(h) != JV_KIND_OBJECT) {
		jv_free(h);
		return problem("headers is not an object");
	}
	for (it = jv_object_iter(h); rc == 0 && jv_object_iter_valid(h, it);
	    it = jv_object_iter_next(h, it)) {
		k = jv_object_iter_key(h, it);
		v = jv_object_iter_value(h, it);
		if (jv_get_kind(v) == JV_KIND_NUMBER)
			v = jv_dump_string(v, 0);
		name = jv_string_value(k);
		value = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) :
		    NULL;
		if (!is_token(name))
			rc = problem("headers: bad name \"%s\"", name);
		else if (value == NULL || strpbrk(value, "\r\n") ||
		    strlen(value) != str_bytes(v))
			rc = problem("headers: %s: not a one-line string", name);
		else {
			buf_printf(&r->extra, "%s: %s\r\n", name, value);
			r->own_ctype |= strcasecmp(name, "content-type") == 0;
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(h);
	return rc;
}

/* The status, headers and faults of a reply spec. */
static int
read_faults(struct response *r, jv reply)
{
	long status;
	jv drop = json_get(reply, "drop");
	jv_kind dk = jv_get_kind(drop);

	jv_free(drop);
	if (dk != JV_KIND_INVALID && dk != JV_KIND_NULL &&
	    dk != JV_KIND_TRUE && dk != JV_KIND_FALSE)
		return problem("drop is not a boolean");
	r->drop = dk == JV_KIND_TRUE;
	if (get_count(reply, "status", 599, 200, &status) < 0 ||
	    get_count(reply, "delay_ms", MS_MAX, 0, &r->delay_ms) < 0 ||
	    get_count(reply, "chunk_delay_ms", MS_MAX, 0, &r->chunk_delay_ms) <
	    0 || get_count(reply, "chunk_bytes", 1L << 30, 0, &r->chunk_bytes) <
	    0 || get_count(reply, "truncate", 1L << 30, -1, &r->truncate) < 0)
		return -1;
	if (status < 200)
		return problem("status %ld is not from 200 to 599", status);
	r->status = (int)status;
	return add_reply_headers(r, reply);
}

static void
completion_free(struct completion *c)
{
	jv_free(c->id);
	jv_free(c->created);
	jv_free(c->model);
	jv_free(c->content);
	jv_free(c->refusal);
	jv_free(c->tool_calls);
	jv_free(c->finish_reason);
	jv_free(c->usage);
	jv_free(c->more);
}

/* Normalize a list of tool calls ({id?, name, arguments} or OpenAI's
 * {id, function: {name, arguments}}) into c->tool_calls. */
static int
add_tool_calls(struct completion *c, jv list, int n)
{
	jv tc, fn, id, name, args;
	int i, len;

	if (!jv_is_valid(list) || jv_get_kind(list) == JV_KIND_NULL)
		return 0;
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return problem("tool_calls is not an array");
	len = jv_array_length(jv_copy(list));
	for (i = 0; i < len; i++) {
		tc = jv_array_get(jv_copy(list), i);
		fn = json_get(tc, "function");
		id = json_get(tc, "id");
		if (!jv_is_valid(name = json_get(tc, "name")))
			name = json_get(fn, "name");
		if (!jv_is_valid(args = json_get(tc, "arguments")))
			args = json_get(fn, "arguments");
		jv_free(tc);
		jv_free(fn);
		if (jv_get_kind(name) != JV_KIND_STRING) {
			jv_free(id);
			jv_free(name);
			jv_free(args);
			return problem("tool_calls[%d] has no name", i);
		}
		if (jv_get_kind(id) != JV_KIND_STRING) {
			jv_free(id);
			id = jv_string_fmt("call_%d_%d", n, i);
		}
		if (!jv_is_valid(args) || jv_get_kind(args) == JV_KIND_NULL) {
			jv_free(args);
			args = jv_string("{}");
		} else if (jv_get_kind(args) != JV_KIND_STRING)
			args = jv_dump_string(args, 0);
		c->tool_calls = jv_array_append(c->tool_calls,
		    JV_OBJECT(jv_string("id"), id, jv_string("type"),
		    jv_string("function"), jv_string("function"),
		    JV_OBJECT(jv_string("name"), name, jv_string("arguments"),
		    args)));
	}
	return 0;
}

/* Fill what the reply left out: id, created, model, finish_reason, usage. */
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
completion_from_spec(struct completion *c, jv spec, int n)
{
	jv usage = json_get(spec, "usage"), calls;
	jv_kind uk = jv_get_kind(usage);
	int rc;

	if (uk == JV_KIND_OBJECT)
		c->usage = usage;
	else
		jv_free(usage);
	if (uk != JV_KIND_OBJECT && uk != JV_KIND_INVALID && uk != JV_KIND_NULL)
		return problem("usage is not an object");
	if (get_string(spec, "content", jv_null(), &c->content) < 0 ||
	    get_string(spec, "refusal", jv_null(), &c->refusal) < 0 ||
	    get_string(spec, "finish_reason", jv_invalid(),
	    &c->finish_reason) < 0 ||
	    get_string(spec, "model", jv_invalid(), &c->model) < 0)
		return -1;
	calls = json_get(spec, "tool_calls");
	rc = add_tool_calls(c, calls, n);
	jv_free(calls);
	return rc;
}

#define TAKE(field, from, key, kind) \
	if (jv_get_kind(v = json_get(from, key)) == (kind)) \
		c->field = v; \
	else \
		jv_free(v)

/* The message and finish_reason of one choice (borrowed) into c. */
static int
choice_from_body(struct completion *c, jv choice, int n)
{
	jv msg = json_get(choice, "message"), v, calls;
	int rc;

	TAKE(finish_reason, choice, "finish_reason", JV_KIND_STRING);
	TAKE(content, msg, "content", JV_KIND_STRING);
	TAKE(refusal, msg, "refusal", JV_KIND_STRING);
	calls = json_get(msg, "tool_calls");
	rc = add_tool_calls(c, calls, n);
	jv_free(calls);
	jv_free(msg);
	return rc;
}

/* A completion from a complete response body, for streaming it: every
 * choice, the first in c itself, the others in c->more. */
static int
completion_from_body(struct completion *c, jv body, int n)
{
	jv choices = json_get(body, "choices"), v;
	int i, len, rc;

	TAKE(id, body, "id", JV_KIND_STRING);
	TAKE(created, body, "created", JV_KIND_NUMBER);
	TAKE(model, body, "model", JV_KIND_STRING);
	TAKE(usage, body, "usage", JV_KIND_OBJECT);
	len = jv_get_kind(choices) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(choices)) : 0;
	v = len > 0 ? jv_array_get(jv_copy(choices), 0) : jv_invalid();
	rc = choice_from_body(c, v, n);
	jv_free(v);
	for (i = 1; i < len && rc == 0; i++) {
		struct completion o = {jv_invalid(), jv_invalid(),
		    jv_invalid(), jv_null(), jv_null(), jv_array(),
		    jv_invalid(), jv_invalid(), jv_invalid()};

		v = jv_array_get(jv_copy(choices), i);
		rc = choice_from_body(&o, v, n);
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
#undef TAKE

/* The non-streamed body: {"object":"chat.completion", ...}. */
static jv
completion_body(const struct completion *c)
{
	jv msg = JV_OBJECT(jv_string("role"), jv_string("assistant"),
	    jv_string("content"), jv_copy(c->content),
	    jv_string("refusal"), jv_copy(c->refusal));

	if (jv_array_length(jv_copy(c->tool_calls)) > 0)
		msg = jv_object_set(msg, jv_string("tool_calls"),
		    jv_copy(c->tool_calls));
	return JV_OBJECT(jv_string("id"), jv_copy(c->id),
	    jv_string("object"), jv_string("chat.completion"),
	    jv_string("created"), jv_copy(c->created),
	    jv_string("model"), jv_copy(c->model),
	    jv_string("choices"), JV_ARRAY(JV_OBJECT(jv_string("index"),
	    jv_number(0), jv_string("message"), msg, jv_string("logprobs"),
	    jv_null(), jv_string("finish_reason"), jv_copy(c->finish_reason))),
	    jv_string("usage"), jv_copy(c->usage));
}

/* Append "data: CHUNK\n\n" for a chunk with these choices (consumed). */
static void
sse_chunk(struct buf *out, const struct completion *c, jv choices, jv usage)
{
	jv chunk = JV_OBJECT(jv_string("id"), jv_copy(c->id),
	    jv_string("object"), jv_string("chat.completion.chunk"),
	    jv_string("created"), jv_copy(c->created),
	    jv_string("model"), jv_copy(c->model), jv_string("choices"),
	    choices);
	char *s;

	if (jv_is_valid(usage))
		chunk = jv_object_set(chunk, jv_string("usage"), usage);
	s = json_dump(chunk);
	buf_printf(out, "data: %s\n\n", s);
	free(s);
}

static void
sse_delta(struct buf *out, const struct completion *c, int k, jv delta,
    jv finish)
{
	sse_chunk(out, c, JV_ARRAY(JV_OBJECT(jv_string("index"), jv_number(k),
	    jv_string("delta"), delta, jv_string("logprobs"), jv_null(),
	    jv_string("finish_reason"), finish)), jv_invalid());
}

/* The length of the next piece of s: at most FRAGMENT_MAX bytes, never
 * ending inside a UTF-8 character. */
static size_t
fragment_len(const char *s, size_t len)
{
	size_t n = len < FRAGMENT_MAX ? len : FRAGMENT_MAX, k = n;

	if (n < len) {
		while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		if (k > 0)
			n = k;
	}
	return n;
}

/* Stream the string text of choice k in pieces: delta {key: piece}, or
 * with a tool index >= 0, delta {tool_calls: [{index, function:
 * {arguments: piece}}]}. */
static void
sse_text(struct buf *out, const struct completion *c, int k, jv text,
    const char *key, int tool)
{
	const char *s = jv_get_kind(text) == JV_KIND_STRING ?
	    jv_string_value(text) : "";
	size_t len = str_bytes(text), off, m;
	jv piece;

	for (off = 0; off < len; off += m) {
		m = fragment_len(s + off, len - off);
		piece = jv_string_sized(s + off, (int)m);
		if (tool < 0)
			sse_delta(out, c, k, JV_OBJECT(jv_string(key), piece),
			    jv_null());
		else
			sse_delta(out, c, k, JV_OBJECT(jv_string("tool_calls"),
			    JV_ARRAY(JV_OBJECT(jv_string("index"),
			    jv_number(tool), jv_string("function"),
			    JV_OBJECT(jv_string("arguments"), piece)))),
			    jv_null());
	}
}

/* The events of choice k: its role, text, refusal, tool calls and
 * finish_reason (all borrowed).  As OpenAI does, the first delta has
 * content "" when there is a text, else null. */
static void
choice_sse(struct buf *out, const struct completion *c, int k, jv content,
    jv refusal, jv tool_calls, jv finish_reason)
{
	int i, calls = jv_array_length(jv_copy(tool_calls));

	sse_delta(out, c, k, JV_OBJECT(jv_string("role"),
	    jv_string("assistant"), jv_string("content"),
	    jv_get_kind(content) == JV_KIND_STRING ? jv_string("") :
	    jv_null()), jv_null());
	sse_text(out, c, k, content, "content", -1);
	sse_text(out, c, k, refusal, "refusal", -1);
	for (i = 0; i < calls; i++) {
		jv tc = jv_array_get(jv_copy(tool_calls), i);
		jv fn = json_get(tc, "function");

		sse_delta(out, c, k, JV_OBJECT(jv_string("tool_calls"),
		    JV_ARRAY(JV_OBJECT(jv_string("index"), jv_number(i),
		    jv_string("id"), json_get(tc, "id"),
		    jv_string("type"), jv_string("function"),
		    jv_string("function"), JV_OBJECT(jv_string("name"),
		    json_get(fn, "name"), jv_string("arguments"),
		    jv_string(""))))), jv_null());
		jv_free(tc);
		tc = json_get(fn, "arguments");
		sse_text(out, c, k, tc, NULL, i);
		jv_free(tc);
		jv_free(fn);
	}
	sse_delta(out, c, k, jv_object(), jv_copy(finish_reason));
}

/* The whole event stream of a completion, every choice in turn, ending
 * in "data: [DONE]". */
static void
completion_sse(struct buf *out, const struct completion *c, int with_usage)
{
	int k, n = jv_array_length(jv_copy(c->more));

	choice_sse(out, c, 0, c->content, c->refusal, c->tool_calls,
	    c->finish_reason);
	for (k = 0; k < n; k++) {
		jv o = jv_array_get(jv_copy(c->more), k);
		jv content = json_get(o, "content"), refusal = json_get(o,
		    "refusal"), calls = json_get(o, "tool_calls"),
		    finish = json_get(o, "finish_reason");

		choice_sse(out, c, k + 1, content, refusal, calls, finish);
		jv_free(content);
		jv_free(refusal);
		jv_free(calls);
		jv_free(finish);
		jv_free(o);
	}
	if (with_usage)
		sse_chunk(out, c, jv_array(), jv_copy(c->usage));
	buf_append_str(out, "data: [DONE]\n\n");
}

static int
is_true(jv o, const char *key)
{
	jv v = json_get(o, key);
	int yes = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return yes;
}

/* Send c as r's body: streamed when the request asks for it. */
static void
send_completion(struct response *r, struct completion *c, jv req, int n,
    size_t req_len)
{
	jv opts = json_get(req, "stream_options");

	complete_defaults(c, req, n, req_len);
	if (is_true(req, "stream")) {
		r->body.len = 0;
		completion_sse(&r->body, c, is_true(opts, "include_usage"));
		r->ctype = "text/event-stream";
		r->sized = 0;
	} else
		set_json(r, r->status, completion_body(c));
	jv_free(opts);
}

/* Read the file named by sse_file into r's body. */
static int
read_sse_file(struct response *r, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return problem("sse_file: %s: %s", path, strerror(errno));
	r->body.len = 0;
	rc = read_fd_all(fd, &r->body, REQUEST_MAX);
	close(fd);
	if (rc == -1)
		return problem("sse_file: %s: %s", path, strerror(errno));
	if (rc == -2)
		return problem("sse_file: %s: too large", path);
	return 0;
}

/* Replace *v by o[key]; whether that is present and not null. */
static int
take(jv *v, jv o, const char *key)
{
	jv_free(*v);
	*v = json_get(o, key);
	return jv_is_valid(*v) && jv_get_kind(*v) != JV_KIND_NULL;
}

/* Turn reply (consumed) for chat request n, whose body is req, into r. */
static void
build_reply(struct response *r, jv reply, jv req, int n, size_t req_len)
{
	struct completion c = {jv_invalid(), jv_invalid(), jv_invalid(),
	    jv_null(), jv_null(), jv_array(), jv_invalid(), jv_invalid(),
	    jv_array()};
	jv v = jv_invalid();
	int stream = is_true(req, "stream"), rc = 0;

	if (jv_get_kind(reply) != JV_KIND_OBJECT) {
		rc = problem("%s, not an object", json_kind_name(reply));
	} else if (take(&v, reply, "choices")) {
		if (!stream)
			set_json(r, 200, jv_copy(reply));
		else if ((rc = completion_from_body(&c, reply, n)) == 0)
			send_completion(r, &c, req, n, req_len);
	} else if ((rc = read_faults(r, reply)) < 0) {
		;
	} else if (take(&v, reply, "body")) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem("body is not a string");
		else
			set_body(r, r->status, "text/html",
			    jv_string_value(v), str_bytes(v));
	} else if (take(&v, reply, "sse")) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem("sse is not a string");
		else
			buf_append(&r->body, jv_string_value(v), str_bytes(v));
		r->ctype = "text/event-stream";
	} else if (take(&v, reply, "sse_file")) {
		if (jv_get_kind(v) != JV_KIND_STRING)
			rc = problem("sse_file is not a string");
		else
			rc = read_sse_file(r, jv_string_value(v));
		r->ctype = "text/event-stream";
	} else if (take(&v, reply, "response")) {
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			rc = problem("response is not an object");
		else if (!stream || r->status >= 400)
			set_json(r, r->status, jv_copy(v));
		else if ((rc = completion_from_body(&c, v, n)) == 0)
			send_completion(r, &c, req, n, req_len);
	} else if (take(&v, reply, "error")) {
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			rc = problem("error is not an object");
		else
			set_json(r, r->status, JV_OBJECT(jv_string("error"),
			    jv_copy(v)));
	} else if (r->status >= 400) {
		set_json(r, r->status, JV_OBJECT(jv_string("error"),
		    JV_OBJECT(jv_string("message"),
		    jv_string_fmt("llm-mock: status %d", r->status),
		    jv_string("type"), jv_string("server_error"),
		    jv_string("param"), jv_null(), jv_string("code"),
		    jv_null())));
	} else if ((rc = completion_from_spec(&c, reply, n)) == 0) {
		send_completion(r, &c, req, n, req_len);
	}
	if (rc < 0)
		reply_failed(r, n, "bad reply: %s", why);
	jv_free(v);
	jv_free(reply);
	completion_free(&c);
}

/* --- reply sources --- */

/* The reply for chat request n (body req, consumed), or an invalid value
 * whose message says why there is none. */
static jv
next_reply(int n, jv req)
{
	jv out, msg;

	if (jv_get_kind(script) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(script));

		jv_free(req);
		if (n > len)
			return jv_invalid_with_msg(jv_string_fmt(
			    "script exhausted after %d replies", len));
		return jv_array_get(jv_copy(script), n - 1);
	}
	jq_start(jq, JV_ARRAY(jv_number(n), req), 0);
	out = jq_next(jq);
	if (jv_is_valid(out)) {
		/* Run the program to its end (a few more outputs at most), so
		 * that nothing of this run is left for the next or for the
		 * child that sends the reply. */
		jv more;
		int i;

		for (i = 0; i < 16 && jv_is_valid(more = jq_next(jq)); i++)
			jv_free(more);
		if (i < 16)
			jv_free(more);
		return out;
	}
	if (!jv_invalid_has_msg(jv_copy(out))) {
		jv_free(out);
		return jv_invalid_with_msg(jv_string("jq: no output"));
	}
	msg = jv_invalid_get_msg(out);
	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	return jv_invalid_with_msg(jv_string_concat(jv_string("jq: "), msg));
}

/* Print a compile error of the jq program without our wrapper. */
static void
jq_error(void *data, jv msg)
{
	const char *s, *wrap;
	jv text;
	int n;

	(void)data;
	msg = jq_format_error(msg);
	s = jv_string_value(msg);
	if (strncmp(s, "jq: ", 4) == 0)
		s += 4;
	if ((wrap = strstr(s, JQ_PREFIX)) != NULL)
		text = jv_string_fmt("%.*s%s", (int)(wrap - s), s,
		    wrap + strlen(JQ_PREFIX));
	else
		text = jv_string(s);
	s = jv_string_value(text);
	for (n = (int)strlen(s); n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n');)
		n--;
	warnx("jq program: %.*s", n, s);
	jv_free(text);
	jv_free(msg);
}

static void
load_script(const char *path)
{
	int i, len;
	jv v;

	script = json_read_doc(path, "script");
	if (jv_get_kind(script) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "script %s: %s, not an array of replies",
		    path, json_kind_name(script));
	len = jv_array_length(jv_copy(script));
	for (i = 0; i < len; i++) {
		v = jv_array_get(jv_copy(script), i);
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "script %s: reply %d: %s, not an "
			    "object", path, i + 1, json_kind_name(v));
		jv_free(v);
	}
}

static void
compile_program(const char *file, const char *text)
{
	struct buf prog = {0}, src = {0};
	int fd, rc;

	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
			die(EXIT_INPUT, "%s: %s", file, strerror(errno));
		rc = read_fd_all(fd, &src, JSON_INPUT_MAX);
		if (rc < 0)
			die(EXIT_INPUT, "%s: %s", file,
			    rc == -2 ? "too large" : strerror(errno));
		close(fd);
		text = src.data;
	}
	buf_printf(&prog, "%s%s%s", JQ_PREFIX, text, JQ_SUFFIX);
	if ((jq = jq_init()) == NULL)
		die(EXIT_TRANSIENT, "cannot initialize jq");
	jq_set_error_cb(jq, jq_error, NULL);
	if (!jq_compile_args(jq, prog.data, jv_object()))
		die(EXIT_INPUT, "%s: does not compile",
		    file != NULL ? file : "jq program");
	buf_free(&prog);
	buf_free(&src);
}

/* --- serving --- */

/* Send r on fd (in a child): delay, drop, truncate and pieces applied. */
static void
send_response(int fd, const struct response *r)
{
	struct buf head = {0};
	size_t len = r->body.len, off, k, piece;

	if (r->delay_ms > 0)
		sleep_ms(r->delay_ms);
	if (r->drop)
		return;
	buf_printf(&head, "HTTP/1.1 %d %s\r\n", r->status, reason(r->status));
	if (r->ctype != NULL && !r->own_ctype)
		buf_printf(&head, "Content-Type: %s\r\n", r->ctype);
	if (r->sized)
		buf_printf(&head, "Content-Length: %zu\r\n", r->body.len);
	buf_printf(&head, "Connection: close\r\n%.*s\r\n", (int)r->extra.len,
	    r->extra.len > 0 ? r->extra.data : "");
	if (write_all(fd, head.data, head.len) < 0)
		goto out;
	if (r->truncate >= 0 && (size_t)r->truncate < len)
		len = (size_t)r->truncate;
	piece = r->chunk_bytes > 0 ? (size_t)r->chunk_bytes : len;
	for (off = 0; off < len; off += k) {
		k = len - off < piece ? len - off : piece;
		if (write_all(fd, r->body.data + off, k) < 0)
			break;
		if (r->chunk_delay_ms > 0 && off + k < len)
			sleep_ms(r->chunk_delay_ms);
	}
out:
	buf_free(&head);
}

/* Close after the client has read our answer: half-close, then wait a
 * little for its end, so unread request bytes do not reset the line. */
static void
linger_close(int fd)
{
	struct pollfd p = {0, POLLIN, 0};
	char junk[4096];
	long deadline = now_ms() + LINGER_MS, left;

	p.fd = fd;
	shutdown(fd, SHUT_WR);
	while ((left = deadline - now_ms()) > 0 && poll(&p, 1, (int)left) > 0)
		if (read(fd, junk, sizeof junk) <= 0)
			break;
	close(fd);
}

/* Send r on fd from a child process; the parent goes on at once. */
static void
dispatch(int fd, const struct response *r)
{
	sigset_t block, old;
	pid_t pid;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(listen_fd);
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		if (log_fd >= 0)
			close(log_fd);
		/* The sender needs no jq; and libjq keeps its stack by its
		 * end, so that leak checkers would call it lost. */
		if (jq != NULL)
			jq_teardown(&jq);
		send_response(fd, r);
		linger_close(fd);
		_exit(0);
	}
	if (pid < 0) {
		warnx_errno("fork");
	} else {
		if (nchildren == children_cap) {
			children_cap = children_cap ? children_cap * 2 : 16;
			children = xrealloc(children,
			    children_cap * sizeof *children);
		}
		children[nchildren++] = pid;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
refuse(struct response *r, int status, const struct request *req)
{
	switch (status) {
	case 411:
		set_error(r, 411, "a request body needs Content-Length "
		    "(chunked bodies are not supported)");
		break;
	case 413:
		set_error(r, 413, "request body larger than %zu bytes",
		    REQUEST_MAX);
		break;
	case 431:
		set_error(r, 431, "request head larger than %zu bytes",
		    HEAD_MAX);
		break;
	default:
		set_error(r, 400, "malformed HTTP request%s",
		    req->method != NULL ? " headers" : "");
	}
}

/* Read, log and answer one connection; chat requests are counted in
 * *chat_count. */
static void
serve(int fd, int *chat_count)
{
	struct request req = {0};
	struct response r;
	jv body = jv_invalid();
	int st, n = 0, one = 1;

	req.headers = jv_object();
	response_init(&r);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if ((st = read_request(fd, &req)) < 0)
		goto out;
	if (req.body.len > 0)
		body = json_parse(req.body.data, req.body.len);
	if (st > 0) {
		refuse(&r, st, &req);
	} else if (strcmp(req.path, "/v1/chat/completions") == 0 ||
	    strcmp(req.path, "/chat/completions") == 0) {
		if (strcmp(req.method, "POST") != 0) {
			set_error(&r, 405, "method %s not allowed on %s "
			    "(use POST)", req.method, req.path);
			buf_append_str(&r.extra, "Allow: POST\r\n");
		} else if (!jv_is_valid(body)) {
			char *m = json_invalid_message(jv_copy(body));

			set_error(&r, 400, "request body is not JSON: %s",
			    req.body.len > 0 ? m : "empty body");
			free(m);
		} else if (jv_get_kind(body) != JV_KIND_OBJECT) {
			set_error(&r, 400, "request body is not a JSON "
			    "object");
		} else
			n = ++*chat_count;
	} else if (strcmp(req.path, "/v1/models") == 0 ||
	    strcmp(req.path, "/models") == 0) {
		if (strcmp(req.method, "GET") != 0) {
			set_error(&r, 405, "method %s not allowed on %s "
			    "(use GET)", req.method, req.path);
			buf_append_str(&r.extra, "Allow: GET\r\n");
		} else
			set_json(&r, 200, JV_OBJECT(jv_string("object"),
			    jv_string("list"), jv_string("data"),
			    JV_ARRAY(JV_OBJECT(jv_string("id"),
			    jv_string("mock"), jv_string("object"),
			    jv_string("model"), jv_string("created"),
			    jv_number(0), jv_string("owned_by"),
			    jv_string("llm-mock")))));
	} else {
		set_error(&r, 404, "unknown URL (%s %s)", req.method,
		    req.path);
	}
	if (req.method != NULL)
		log_request(&req, n, body);
	if (n > 0) {
		jv reply = next_reply(n, jv_copy(body));

		if (jv_is_valid(reply)) {
			build_reply(&r, reply, body, n, req.body.len);
		} else {
			char *m = json_invalid_message(reply);

			reply_failed(&r, n, "%s", m);
			free(m);
		}
	}
	dispatch(fd, &r);
out:
	close(fd);
	jv_free(body);
	request_free(&req);
	response_free(&r);
}

/* Listen on 127.0.0.1:port; returns the port actually bound. */
static int
listen_loopback(long port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (listen_fd < 0)
		die(EXIT_TRANSIENT, "socket: %s", strerror(errno));
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0)
		die(EXIT_TRANSIENT, "bind 127.0.0.1:%ld: %s", port,
		    strerror(errno));
	if (listen(listen_fd, 128) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&a, &alen) < 0)
		die(EXIT_TRANSIENT, "listen 127.0.0.1:%ld: %s", port,
		    strerror(errno));
	return ntohs(a.sin_port);
}

/* Write the port to path through path.tmp, so a reader never sees half. */
static void
write_port_file(const char *path, int port)
{
	struct buf tmp = {0};
	char num[16];
	int fd, len = snprintf(num, sizeof num, "%d\n", port);

	buf_printf(&tmp, "%s.tmp", path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, num, (size_t)len) < 0 || close(fd) < 0 ||
	    rename(tmp.data, path) < 0)
		die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
	buf_free(&tmp);
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-p PORT] [-P PORTFILE] [-l LOGFILE] [-n COUNT]\n"
	    "       %*s (-s SCRIPT | -j JQFILE | -e JQPROGRAM)\n", progname,
	    (int)strlen(progname), "");
	if (f == stdout)
		fputs("Answer Chat Completions requests on 127.0.0.1 with "
		    "scripted replies.\n"
		    "  -p, --port PORT         the port (default 0: a free one)\n"
		    "  -P, --port-file FILE    also write the port to FILE\n"
		    "  -l, --log FILE          append one JSON line per request\n"
		    "  -n, --count COUNT       exit after COUNT chat requests\n"
		    "  -s, --script FILE       replies from a JSON array, in "
		    "order\n"
		    "  -j, --jq-file FILE      replies from a jq program ($n: "
		    "the number)\n"
		    "  -e, --jq PROGRAM        the same, the program given here\n"
		    "  -h, --help              show this help\n"
		    "  -V, --version           show the version\n", f);
}

/* A usage error: say what is wrong (if fmt), show the synopsis, exit 2. */
static _Noreturn void __attribute__((format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		fprintf(stderr, "%s: ", progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	usage(stderr);
	exit(EXIT_USAGE);
}

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"port-file", required_argument, NULL, 'P'},
	{"log", required_argument, NULL, 'l'},
	{"count", required_argument, NULL, 'n'},
	{"script", required_argument, NULL, 's'},
	{"jq-file", required_argument, NULL, 'j'},
	{"jq", required_argument, NULL, 'e'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

int
main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL, *script_path = NULL;
	const char *jq_file = NULL, *jq_text = NULL;
	long port = 0, count = 0;
	int ch, sources = 0, bound, chat_count = 0, fd;
	struct pollfd p[2] = {{0, POLLIN, 0}, {0, POLLIN, 0}};

	set_progname(argv[0]);
	argv[0] = (char *)progname;
	script = jv_invalid();
	while ((ch = getopt_long(argc, argv, "p:P:l:n:s:j:e:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_long(optarg, 0, 65535, &port) < 0)
				bad_usage("bad port: %s", optarg);
			break;
		case 'n':
			if (parse_long(optarg, 1, 1L << 30, &count) < 0)
				bad_usage("bad count: %s", optarg);
			break;
		case 'P': port_file = optarg; break;
		case 'l': log_path = optarg; break;
		case 's': script_path = optarg; sources++; break;
		case 'j': jq_file = optarg; sources++; break;
		case 'e': jq_text = optarg; sources++; break;
		case 'h': usage(stdout); finish_stdout(); return 0;
		case 'V':
			printf("llm-mock %s\n", LLM_TOOLS_VERSION);
			finish_stdout();
			return 0;
		default:
			bad_usage(NULL);
		}
	}
	if (optind < argc)
		bad_usage("unexpected operand: %s", argv[optind]);
	if (sources != 1)
		bad_usage(sources ? "give only one of -s, -j and -e" :
		    "a reply source is required: -s, -j or -e");
	if (script_path != NULL)
		load_script(script_path);
	else
		compile_program(jq_file, jq_text);
	if (log_path != NULL && (log_fd = open(log_path, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) < 0)
		die(EXIT_TRANSIENT, "%s: %s", log_path, strerror(errno));
	setup_signals();
	bound = listen_loopback(port);
	printf("%d\n", bound);
	if (fflush(stdout) != 0)
		die(EXIT_TRANSIENT, "write error on standard output: %s",
		    strerror(errno));
	if (port_file != NULL)
		write_port_file(port_file, bound);

	p[0].fd = listen_fd;
	p[1].fd = wake_pipe[0];
	while (!got_term && (count == 0 || chat_count < count)) {
		reap_children();
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		if (p[1].revents)
			drain_wake_pipe();
		if (!(p[0].revents & POLLIN) || got_term)
			continue;
		if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				warnx_errno("accept");
				sleep_ms(100);
			}
			continue;
		}
		serve(fd, &chat_count);
	}
	wait_children();

	close(listen_fd);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	if (log_fd >= 0)
		close(log_fd);
	jv_free(script);
	if (jq != NULL)
		jq_teardown(&jq);
	free(children);
	finish_stdout();
	return 0;
}
