/* A small loopback HTTP/1.1 server: listening, requests, responses. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"
#include "json.h"

void
httpd_init(struct httpd *h)
{
	memset(h, 0, sizeof *h);
	h->listen_fd = -1;
	h->head_max = (size_t)1 << 20;
	h->body_max = (size_t)64 << 20;
	h->idle_ms = 10000;
	h->linger_ms = 1000;
	h->wake_fd = -1;
}

int
httpd_listen(struct httpd *h, long port, char *why)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (h->listen_fd < 0) {
		snprintf(why, READ_WHY_MAX, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(h->listen_fd, (struct sockaddr *)&a, sizeof a) < 0) {
		snprintf(why, READ_WHY_MAX, "bind 127.0.0.1:%ld: %s", port,
		    strerror(errno));
		return -1;
	}
	if (listen(h->listen_fd, 128) < 0 ||
	    getsockname(h->listen_fd, (struct sockaddr *)&a, &alen) < 0) {
		snprintf(why, READ_WHY_MAX, "listen 127.0.0.1:%ld: %s", port,
		    strerror(errno));
		return -1;
	}
	return ntohs(a.sin_port);
}

static int
stopped(const struct httpd *h)
{
	return h->stop != NULL && *h->stop;
}

/* Wait up to ms (-1: for ever) for fd to be readable, running on_wake
 * when the wake descriptor is: 1 when fd is, 0 when not (time, a wake
 * or a stop), -1 when poll fails. */
static int
wait_readable(const struct httpd *h, int fd, int ms)
{
	struct pollfd p[2] = {{0, POLLIN, 0}, {0, POLLIN, 0}};

	p[0].fd = fd;
	p[1].fd = h->wake_fd;
	if (poll(p, h->wake_fd >= 0 ? 2 : 1, ms) < 0)
		return errno == EINTR ? 0 : -1;
	if (h->wake_fd >= 0 && p[1].revents && h->on_wake != NULL)
		h->on_wake(h->wake_ctx);
	return p[0].revents != 0;
}

int
httpd_accept(struct httpd *h)
{
	int fd, rc;

	if ((rc = wait_readable(h, h->listen_fd, -1)) < 0)
		return -2;
	errno = EAGAIN;
	if (rc == 0 || stopped(h))
		return -1;
	if ((fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return -1;
	return fd;
}

void
httpd_close(struct httpd *h)
{
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	h->listen_fd = -1;
}

/* Wait up to idle_ms for fd to be readable and append at most max bytes
 * of it to b. Bytes read, or 0 at EOF, or -1 on error, silence or a
 * stop. */
static ssize_t
read_some(const struct httpd *h, int fd, struct buf *b, size_t max)
{
	long deadline = (long)(now_seconds() * 1000) + h->idle_ms, left;
	ssize_t n;
	int rc;

	if (max > 65536)
		max = 65536;
	for (;;) {
		left = deadline - (long)(now_seconds() * 1000);
		if (stopped(h) || left <= 0)
			return -1;
		if ((rc = wait_readable(h, fd, (int)left)) < 0)
			return -1;
		if (rc > 0)
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

int
http_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s))
			return 0;
	return 1;
}

static void
add_header(struct http_request *req, char *name, const char *value)
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

/* Parse "METHOD TARGET HTTP/1.x" (line is changed); 0 or 400. */
static int
parse_request_line(char *line, struct http_request *req)
{
	char *target, *version;

	if ((target = strchr(line, ' ')) == NULL)
		return 400;
	*target++ = '\0';
	if ((version = strchr(target, ' ')) == NULL)
		return 400;
	*version++ = '\0';
	if (!http_is_token(line) || *target == '\0' ||
	    strncmp(version, "HTTP/1.", 7) != 0 || strchr(version, ' '))
		return 400;
	req->minor = version[7] >= '1' && version[7] <= '9';
	req->method = xstrdup(line);
	req->target = xstrdup(target);
	if (strncmp(target, "http://", 7) == 0 ||
	    strncmp(target, "https://", 8) == 0)
		target = strchr(strstr(target, "//") + 2, '/');
	req->path = xstrdup(target != NULL ? target : "/");
	req->path[strcspn(req->path, "?#")] = '\0';
	return 0;
}

/* Parse the request line and headers (head is changed); 0 or 400. */
static int
parse_head(char *head, size_t len, struct http_request *req)
{
	char *cursor = head, *line, *colon, *v, *end;
	int rc;

	if (memchr(head, '\0', len) != NULL)
		return 400;
	head[len - 1] = '\0';
	if ((rc = parse_request_line(next_line(&cursor), req)) != 0)
		return rc;
	while ((line = next_line(&cursor)) != NULL) {
		if (*line == ' ' || *line == '\t' ||
		    (colon = strchr(line, ':')) == NULL)
			return 400;
		*colon = '\0';
		if (!http_is_token(line))
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

/* The Content-Length of req into *len: 0, or a status to refuse with. */
static int
content_length(const struct httpd *h, const struct http_request *req,
    size_t *len)
{
	const char *s;
	char *end;
	unsigned long long n;

	*len = 0;
	if (json_get_str(req->headers, "transfer-encoding") != NULL)
		return 411;
	if ((s = json_get_str(req->headers, "content-length")) == NULL)
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
		return 400;
	if (n > h->body_max)
		return 413;
	*len = (size_t)n;
	return 0;
}

int
httpd_read_request(struct httpd *h, int fd, struct http_request *req)
{
	struct buf in = {0};
	size_t head_len = 0, body_at = 0, clen = 0, want;
	const char *s;
	int rc = -1;

	memset(req, 0, sizeof *req);
	req->headers = jv_object();
	while (head_len == 0) {
		size_t from = in.len > 2 ? in.len - 2 : 0;

		if (in.len > h->head_max) {
			rc = 431;
			goto out;
		}
		if (read_some(h, fd, &in, h->head_max + 1 - in.len) <= 0)
			goto out;
		head_len = head_end(in.data, in.len, from, &body_at);
	}
	if ((rc = parse_head(in.data, head_len, req)) != 0 ||
	    (rc = content_length(h, req, &clen)) != 0)
		goto out;
	rc = -1;
	want = body_at + clen;
	s = json_get_str(req->headers, "expect");
	if (s != NULL && strcasecmp(s, "100-continue") == 0 && in.len < want &&
	    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
		goto out;
	while (in.len < want)
		if (read_some(h, fd, &in, want - in.len) <= 0)
			goto out;
	buf_append(&req->body, in.data + body_at, clen);
	rc = 0;
out:
	buf_free(&in);
	return rc;
}

void
http_request_free(struct http_request *req)
{
	free(req->method);
	free(req->target);
	free(req->path);
	jv_free(req->headers);
	buf_free(&req->body);
	memset(req, 0, sizeof *req);
	req->headers = jv_invalid();
}

int
http_request_keep_alive(const struct http_request *req)
{
	const char *c = json_get_str(req->headers, "connection");

	if (c != NULL && strcasecmp(c, "close") == 0)
		return 0;
	if (req->minor == 0)
		return c != NULL && strcasecmp(c, "keep-alive") == 0;
	return 1;
}

void
httpd_serve(struct httpd *h, int fd, httpd_handler *handler, void *ctx)
{
	struct http_request req;
	int st, what = -1, one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	do {
		if ((st = httpd_read_request(h, fd, &req)) < 0) {
			http_request_free(&req);
			break;
		}
		what = handler(ctx, fd, &req, st);
		if (st != 0 || !http_request_keep_alive(&req))
			what = what == HTTPD_KEEP ? HTTPD_CLOSE : what;
		http_request_free(&req);
	} while (what == HTTPD_KEEP && !stopped(h));
	if (what == HTTPD_CLOSE)
		httpd_linger_close(h, fd);
	else
		close(fd); /* a client dropped, or the handler's now */
}

void
http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof *r);
	r->status = 200;
}

void
http_response_free(struct http_response *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

void
http_set_body(struct http_response *r, int status, const char *ctype,
    const char *p, size_t n)
{
	r->status = status;
	r->ctype = ctype;
	r->sized = 1;
	r->body.len = 0;
	buf_append(&r->body, p, n);
}

void
http_set_json(struct http_response *r, int status, jv v)
{
	char *s = json_dump(v);

	http_set_body(r, status, "application/json", s, strlen(s));
	free(s);
}

void
http_format_head(struct buf *out, const struct http_response *r,
    int chunked, int keep_alive)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\n", r->status,
	    http_reason(r->status));
	if (r->ctype != NULL)
		buf_printf(out, "Content-Type: %s\r\n", r->ctype);
	if (chunked)
		buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	else if (r->sized)
		buf_printf(out, "Content-Length: %zu\r\n", r->body.len);
	if (!keep_alive)
		buf_append_str(out, "Connection: close\r\n");
	buf_printf(out, "%.*s\r\n", (int)r->headers.len,
	    r->headers.len > 0 ? r->headers.data : "");
}

int
http_send_head(int fd, const struct http_response *r, int chunked,
    int keep_alive)
{
	struct buf head = {0};
	int rc;

	http_format_head(&head, r, chunked, keep_alive);
	rc = write_all(fd, head.data, head.len);
	buf_free(&head);
	return rc;
}

int
http_send(int fd, const struct http_response *r, int keep_alive)
{
	struct buf head = {0};
	int rc;

	http_format_head(&head, r, 0, keep_alive && r->sized);
	rc = write_all(fd, head.data, head.len);
	if (rc == 0)
		rc = write_all(fd, r->body.data != NULL ? r->body.data : "",
		    r->body.len);
	buf_free(&head);
	return rc;
}

int
http_send_chunk(int fd, const char *p, size_t n)
{
	char size[32];
	int len = snprintf(size, sizeof size, "%zx\r\n", n);

	if (write_all(fd, size, (size_t)len) < 0 ||
	    (n > 0 && write_all(fd, p, n) < 0))
		return -1;
	return write_all(fd, "\r\n", 2);
}

const char *
http_reason(int status)
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

void
httpd_linger_close(const struct httpd *h, int fd)
{
	struct pollfd p = {0, POLLIN, 0};
	char junk[4096];
	long deadline = (long)(now_seconds() * 1000) + h->linger_ms, left;

	p.fd = fd;
	shutdown(fd, SHUT_WR);
	while ((left = deadline - (long)(now_seconds() * 1000)) > 0 &&
	    poll(&p, 1, (int)left) > 0)
		if (read(fd, junk, sizeof junk) <= 0)
			break;
	close(fd);
}

static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr)
		    >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
		    &in6addr_loopback, sizeof in6addr_loopback) == 0;
	return 0;
}

int
httpd_listen_at(struct httpd *h, const char *spec, int *loopback, char *why)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const char *colon = strrchr(spec, ':');
	int only_loopback = *loopback, one = 1, rc, port;
	char host[256];
	size_t hl;

	if (colon == NULL || colon == spec || colon[1] == '\0' ||
	    (size_t)(colon - spec) >= sizeof host) {
		snprintf(why, READ_WHY_MAX, "%.80s: not ADDRESS:PORT", spec);
		return -3;
	}
	hl = (size_t)(colon - spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(why, READ_WHY_MAX, "%.80s: %s", spec,
		    gai_strerror(rc));
		return -3;
	}
	*loopback = is_loopback(res->ai_addr);
	if (only_loopback && !*loopback) {
		snprintf(why, READ_WHY_MAX, "%.80s: not a loopback address",
		    spec);
		freeaddrinfo(res);
		return -2;
	}
	h->listen_fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (h->listen_fd < 0 || setsockopt(h->listen_fd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof one) < 0 || bind(h->listen_fd,
	    res->ai_addr, res->ai_addrlen) < 0 || listen(h->listen_fd,
	    128) < 0 || getsockname(h->listen_fd, (struct sockaddr *)&ss,
	    &sl) < 0) {
		snprintf(why, READ_WHY_MAX, "%.80s: %s", spec, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return port;
}

int
http_peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}
