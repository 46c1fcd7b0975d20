/* The Streamable HTTP transport of MCP, client side: see mcphttp.h.
 * libcurl is loaded (lib/curlload.c) when the first HTTP server is, so
 * that tool-mcp run per call does not pay its loading, some 5 ms. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>

#include "common.h"
#include "json.h"
#include "mcp.h"
#include "mcphttp.h"
#include "sse.h"

#define BODY_MAX ((size_t)64 << 20)

struct transfer {
	struct mcp_http *h;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	jv id;                    /* of the request; null for a notification */
	int kind;                 /* 0 not known yet, 1 JSON, 2 event stream */
	int answered;             /* its response came */
	struct buf resp;
	struct sse_decoder dec;
	char err[CURL_ERROR_SIZE];
	struct transfer *next;
};

struct mcp_http {
	char *url;
	jv headers;
	char *session, *auth;     /* Mcp-Session-Id; WWW-Authenticate */
	char version[16];
	mcp_http_message_fn *on_message;
	mcp_http_failure_fn *on_failure;
	void *ctx;
	struct transfer *transfers;
};

static CURLM *multi;

/* Messages and failures waiting to be handed over, outside libcurl's
 * callbacks, in order. */
struct event {
	struct mcp_http *h;
	jv msg;                   /* a message, or invalid for a failure */
	jv id;
	long status;
	char *why;
	struct event *next;
};
static struct event *events, **events_end = &events;

static void
queue(struct mcp_http *h, jv msg, jv id, long status, const char *why)
{
	struct event *e = xmalloc(sizeof *e);

	e->h = h;
	e->msg = msg;
	e->id = id;
	e->status = status;
	e->why = why != NULL ? xstrdup(why) : NULL;
	e->next = NULL;
	*events_end = e;
	events_end = &e->next;
}

/* A message (consumed) that came for transfer t. */
static void
arrived(struct transfer *t, jv msg)
{
	jv id;

	if (jv_get_kind(msg) != JV_KIND_OBJECT) {
		jv_free(msg);
		return;
	}
	id = json_get(msg, "id");
	if (jv_get_kind(t->id) != JV_KIND_NULL && jv_equal(jv_copy(id),
	    jv_copy(t->id)) && json_get_str(msg, "method") == NULL)
		t->answered = 1;
	jv_free(id);
	queue(t->h, msg, jv_null(), 0, NULL);
}

static int
on_event(void *ctx, const char *type, const char *data, size_t len)
{
	struct transfer *t = ctx;

	if (strcmp(type, "message") != 0 || len == 0)
		return 0;
	arrived(t, json_parse(data, len));
	return 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;

	if (t->kind == 0) {
		char *ct = NULL;
		curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
		t->kind = ct != NULL && strncasecmp(ct, "text/event-stream",
		    17) == 0 ? 2 : 1;
	}
	if (t->kind == 2)
		return sse_feed(&t->dec, p, len) == SSE_TOO_LONG ? 0 : len;
	if (t->resp.len + len > BODY_MAX)
		return 0;
	buf_append(&t->resp, p, len);
	return len;
}

/* The value of header line p (len bytes) when it is name, malloc'd. */
static char *
header_value(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
		return NULL;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' '))
		len--;
	{
		char *v = xmalloc(len + 1);
		memcpy(v, p, len);
		v[len] = '\0';
		return v;
	}
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;
	char *v;

	if ((v = header_value(p, len, "mcp-session-id")) != NULL) {
		free(t->h->session);
		t->h->session = v;
	} else if ((v = header_value(p, len, "www-authenticate")) != NULL) {
		free(t->h->auth);
		t->h->auth = v;
	}
	return len;
}

/* Is url http(s), and plain http only to a loopback host? */
static const char *
url_refused(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	const char *why = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		why = "not a URL";
	else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		why = "not an http or https URL";
	else if (strcmp(scheme, "http") == 0 && strcmp(host, "localhost") != 0 &&
	    strcmp(host, "[::1]") != 0 && strncmp(host, "127.", 4) != 0)
		why = "plain http is only for a loopback host; use https";
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

struct mcp_http *
mcp_http_new(const char *url, jv headers, mcp_http_message_fn *on_message,
    mcp_http_failure_fn *on_failure, void *ctx, const char **why)
{
	struct mcp_http *h;

	if ((*why = url_refused(url)) != NULL) {
		jv_free(headers);
		return NULL;
	}
	if (multi == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		multi = curl_multi_init();
	}
	h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	h->url = xstrdup(url);
	h->headers = jv_get_kind(headers) == JV_KIND_OBJECT ? headers :
	    (jv_free(headers), jv_object());
	h->on_message = on_message;
	h->on_failure = on_failure;
	h->ctx = ctx;
	return h;
}

void
mcp_http_set_version(struct mcp_http *h, const char *version)
{
	snprintf(h->version, sizeof h->version, "%s", version);
}

static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *value)
{
	char line[1024];
	size_t i;

	/* A value that would need encoding is left out. */
	for (i = 0; value[i] != '\0'; i++)
		if ((unsigned char)value[i] < 0x20 ||
		    (unsigned char)value[i] > 0x7e)
			return l;
	/* "Name;" is how libcurl sends a header with an empty value. */
	if (*value == '\0')
		snprintf(line, sizeof line, "%s;", name);
	else
		snprintf(line, sizeof line, "%s: %s", name, value);
	return curl_slist_append(l, line);
}

/* A transfer of h with its headers; body consumed, or NULL for none. */
static struct transfer *
new_transfer(struct mcp_http *h, char *body, jv id, const char *version,
    const char *method, const char *name, jv extra)
{
	struct transfer *t = xmalloc(sizeof *t);
	struct curl_slist *l = NULL;
	int it;

	memset(t, 0, sizeof *t);
	t->h = h;
	t->id = id;
	t->body = body;
	sse_init(&t->dec, SSE_EVENT_MAX, on_event, t);
	t->easy = curl_easy_init();
	l = curl_slist_append(l, "Content-Type: application/json");
	l = curl_slist_append(l, "Accept: application/json, text/event-stream");
	if (version != NULL && *version != '\0')
		l = add_header(l, "MCP-Protocol-Version", version);
	if (h->session != NULL)
		l = add_header(l, "Mcp-Session-Id", h->session);
	if (version != NULL && !mcp_version_is_legacy(version) &&
	    method != NULL) {
		l = add_header(l, "Mcp-Method", method);
		if (name != NULL) {
			char *enc = mcp_header_value(name);
			l = add_header(l, "Mcp-Name", enc);
			free(enc);
		}
	}
	if (jv_get_kind(extra) == JV_KIND_OBJECT)
		extra = jv_object_merge(jv_copy(h->headers), extra);
	else {
		jv_free(extra);
		extra = jv_copy(h->headers);
	}
	for (it = jv_object_iter(extra); jv_object_iter_valid(extra, it);
	    it = jv_object_iter_next(extra, it)) {
		jv k = jv_object_iter_key(extra, it);
		jv v = jv_object_iter_value(extra, it);
		if (jv_get_kind(v) == JV_KIND_STRING)
			l = add_header(l, jv_string_value(k), jv_string_value(v));
		jv_free(k);
		jv_free(v);
	}
	jv_free(extra);
	t->hdrs = l;
	curl_easy_setopt(t->easy, CURLOPT_URL, h->url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->err);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	if (body != NULL) {
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
	}
	return t;
}

static void
free_transfer(struct transfer *t)
{
	curl_multi_remove_handle(multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->hdrs);
	free(t->body);
	jv_free(t->id);
	buf_free(&t->resp);
	sse_free(&t->dec);
	free(t);
}

void
mcp_http_send(struct mcp_http *h, jv msg, jv extra)
{
	jv params = json_get(msg, "params");
	jv meta = json_get(params, "_meta");
	const char *method = json_get_str(msg, "method");
	const char *version = json_get_str(meta, MCP_META_VERSION);
	struct transfer *t;

	/* The revision of the message itself (the probe's), else the one
	 * agreed on. */
	if (version == NULL)
		version = h->version;
	t = new_transfer(h, json_dump(jv_copy(msg)),
	    jv_object_has(jv_copy(msg), jv_string("id")) ?
	    json_get(msg, "id") : jv_null(), version, method,
	    json_get_str(params, "name"), extra);
	jv_free(meta);
	jv_free(params);
	jv_free(msg);
	t->next = h->transfers;
	h->transfers = t;
	curl_multi_add_handle(multi, t->easy);
}

void
mcp_http_abort(struct mcp_http *h, jv id)
{
	struct transfer **p = &h->transfers, *t;

	while ((t = *p) != NULL) {
		if (jv_get_kind(t->id) != JV_KIND_NULL &&
		    jv_equal(jv_copy(t->id), jv_copy(id))) {
			*p = t->next;
			free_transfer(t);
			continue;
		}
		p = &t->next;
	}
}

void
mcp_http_close(struct mcp_http *h)
{
	struct event **p = &events, *e;

	while (h->transfers != NULL) {
		struct transfer *t = h->transfers;
		h->transfers = t->next;
		free_transfer(t);
	}
	if (h->session != NULL) {
		/* The end of the session, given at most 2 s. */
		struct transfer *t = new_transfer(h, NULL, jv_null(),
		    h->version, NULL, NULL, jv_null());
		curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, 2L);
		curl_easy_perform(t->easy);
		free_transfer(t);
	}
	/* What was waiting for h goes with it. */
	while ((e = *p) != NULL) {
		if (e->h != h) {
			p = &e->next;
			continue;
		}
		*p = e->next;
		jv_free(e->msg);
		jv_free(e->id);
		free(e->why);
		free(e);
	}
	events_end = &events;
	for (e = events; e != NULL; e = e->next)
		events_end = &e->next;
	jv_free(h->headers);
	free(h->url);
	free(h->session);
	free(h->auth);
	free(h);
}

int
mcp_http_pollfds(struct pollfd *pfd, int max, int *timeout_ms)
{
	fd_set r, w, x;
	int maxfd = -1, fd, n = 0;
	long t = -1;

	if (multi == NULL)
		return 0;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	curl_multi_fdset(multi, &r, &w, &x, &maxfd);
	for (fd = 0; fd <= maxfd && n < max; fd++) {
		if (!FD_ISSET(fd, &r) && !FD_ISSET(fd, &w) && !FD_ISSET(fd, &x))
			continue;
		pfd[n].fd = fd;
		pfd[n].events = (short)((FD_ISSET(fd, &r) ? POLLIN : 0) |
		    (FD_ISSET(fd, &w) ? POLLOUT : 0));
		pfd[n++].revents = 0;
	}
	curl_multi_timeout(multi, &t);
	if (t >= 0 && t < *timeout_ms)
		*timeout_ms = (int)t;
	return n;
}

/* A finished transfer: its body's messages, or why it failed. */
static void
finished(struct transfer *t, CURLcode rc)
{
	long status = 0;
	int request = jv_get_kind(t->id) != JV_KIND_NULL;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && !t->answered) {
		if (request || status == 0)
			queue(t->h, jv_invalid(), jv_copy(t->id), 0,
			    t->err[0] != '\0' ? t->err :
			    curl_easy_strerror(rc));
		return;
	}
	if (t->kind == 2) {
		sse_finish(&t->dec);
	} else if (t->resp.len > 0) {
		jv body;
		buf_append(&t->resp, "", 1);
		body = json_parse(t->resp.data, t->resp.len - 1);
		if (jv_get_kind(body) == JV_KIND_ARRAY) {
			int i, n = jv_array_length(jv_copy(body));
			for (i = 0; i < n; i++)
				arrived(t, jv_array_get(jv_copy(body), i));
			jv_free(body);
		} else if (jv_get_kind(body) == JV_KIND_OBJECT &&
		    jv_object_has(jv_copy(body), jv_string("error"))) {
			/* An error answers the request even with id null. */
			jv id = json_get(body, "id");
			if (jv_get_kind(id) == JV_KIND_NULL && request)
				body = jv_object_set(body, jv_string("id"),
				    jv_copy(t->id));
			jv_free(id);
			arrived(t, body);
		} else if (jv_get_kind(body) == JV_KIND_OBJECT) {
			arrived(t, body);
		} else {
			jv_free(body);
		}
	}
	if (request && !t->answered) {
		char why[600];
		if (status == 401)
			snprintf(why, sizeof why, "HTTP 401: it wants OAuth, "
			    "which is not supported (static \"headers\" are)%s%s",
			    t->h->auth != NULL ? "; " : "",
			    t->h->auth != NULL ? t->h->auth : "");
		else if (status >= 300)
			snprintf(why, sizeof why, "HTTP %ld", status);
		else
			snprintf(why, sizeof why, "HTTP %ld without a response",
			    status);
		queue(t->h, jv_invalid(), jv_copy(t->id), status, why);
	}
}

void
mcp_http_perform(void)
{
	CURLMsg *m;
	int running, left;

	if (multi == NULL)
		return;
	curl_multi_perform(multi, &running);
	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		struct transfer *t = NULL, **p;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		finished(t, m->data.result);
		for (p = &t->h->transfers; *p != NULL && *p != t; p = &(*p)->next)
			;
		if (*p == t)
			*p = t->next;
		free_transfer(t);
	}
	/* The callbacks may send, abort and close: one event at a time. */
	while (events != NULL) {
		struct event *e = events;
		events = e->next;
		if (events == NULL)
			events_end = &events;
		if (jv_is_valid(e->msg))
			e->h->on_message(e->h->ctx, e->msg);
		else
			e->h->on_failure(e->h->ctx, e->id, e->status,
			    e->why != NULL ? e->why : "failed");
		jv_free(e->id);
		free(e->why);
		free(e);
	}
}
