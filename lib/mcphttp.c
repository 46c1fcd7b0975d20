/* The HTTP of an MCP server's Streamable HTTP transport: see mcphttp.h. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"
#include "mcphttp.h"

#define HEAD_MAX 65536

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
mcphttp_listen(const char *spec, int *port, int *loopback, char *why,
    size_t whylen)
{
	int only_loopback = *loopback;
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const char *colon = strrchr(spec, ':');
	char host[256];
	size_t hl;
	int fd = -1, on = 1, rc;

	if (colon == NULL || colon == spec || colon[1] == '\0' ||
	    (size_t)(colon - spec) >= sizeof host) {
		snprintf(why, whylen, "%s: not ADDRESS:PORT", spec);
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
		snprintf(why, whylen, "%s: %s", spec, gai_strerror(rc));
		return -3;
	}
	if (only_loopback && !is_loopback(res->ai_addr)) {
		snprintf(why, whylen, "%s: not a loopback address", spec);
		freeaddrinfo(res);
		return -2;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof on) < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)&ss,
	    &sl) < 0) {
		snprintf(why, whylen, "%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	*loopback = is_loopback(res->ai_addr);
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(res);
	return fd;
}

/* Read more of fd into b, waiting until the deadline: 1 read, 0 end of
 * input, -1 silence or failure. */
static int
read_some(int fd, struct buf *b, double deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	for (;;) {
		int ms = (int)((deadline - now_seconds()) * 1000);
		if (ms <= 0)
			return -1;
		if (poll(&p, 1, ms) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p.revents == 0)
			continue;
		buf_grow(b, 16384);
		n = read(fd, b->data + b->len, 16384);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		return 1;
	}
}

static char *
trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Parse the head (NUL-terminated, without its blank line) into req:
 * 0, or an HTTP status. */
static int
parse_head(char *head, struct mcphttp_request *req)
{
	char *line, *save = NULL, *sp1, *sp2, *q;
	int first = 1;

	for (line = strtok_r(head, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		char *colon, *p;

		if (first) {
			first = 0;
			if ((sp1 = strchr(line, ' ')) == NULL ||
			    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
			    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
				return 400;
			*sp1 = *sp2 = '\0';
			req->method = xstrdup(line);
			req->path = xstrdup(sp1 + 1);
			if ((q = strchr(req->path, '?')) != NULL)
				*q = '\0';
			continue;
		}
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return 400;
		*colon = '\0';
		for (p = line; *p != '\0'; p++) {
			if (*p == ' ' || *p == '\t')
				return 400;
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
		req->headers = jv_object_set(req->headers, jv_string(line),
		    jv_string(trim(colon + 1)));
	}
	return first ? 400 : 0;
}

int
mcphttp_read(int fd, struct mcphttp_request *req, int timeout_ms,
    size_t body_max)
{
	double deadline = now_seconds() + timeout_ms / 1000.0;
	struct buf in = {0};
	char *end = NULL, *endp;
	const char *len_s;
	size_t head_len, want;
	unsigned long long len;
	int rc;

	memset(req, 0, sizeof *req);
	req->headers = jv_object();
	while (end == NULL) {
		if (in.len > HEAD_MAX) {
			buf_free(&in);
			return 431;
		}
		if ((rc = read_some(fd, &in, deadline)) <= 0) {
			buf_free(&in);
			return -1;
		}
		end = strstr(in.data, "\r\n\r\n");
	}
	head_len = (size_t)(end - in.data) + 4;
	*end = '\0';
	if ((rc = parse_head(in.data, req)) != 0) {
		buf_free(&in);
		return rc;
	}
	if (mcphttp_header(req, "transfer-encoding") != NULL) {
		buf_free(&in);
		return 501;
	}
	len_s = mcphttp_header(req, "content-length");
	if (len_s == NULL) {
		buf_free(&in);
		return strcmp(req->method, "POST") == 0 ? 411 : 0;
	}
	errno = 0;
	len = strtoull(len_s, &endp, 10);
	if (*len_s < '0' || *len_s > '9' || *endp != '\0' || errno != 0) {
		buf_free(&in);
		return 400;
	}
	if (len > body_max) {
		buf_free(&in);
		return 413;
	}
	want = head_len + (size_t)len;
	while (in.len < want)
		if (read_some(fd, &in, deadline) <= 0) {
			buf_free(&in);
			return -1;
		}
	buf_append(&req->body, in.data + head_len, (size_t)len);
	if (req->body.data == NULL)
		buf_append(&req->body, "", 0);
	buf_free(&in);
	return 0;
}

void
mcphttp_request_free(struct mcphttp_request *req)
{
	free(req->method);
	free(req->path);
	jv_free(req->headers);
	buf_free(&req->body);
	memset(req, 0, sizeof *req);
	req->headers = jv_invalid();
}

const char *
mcphttp_header(const struct mcphttp_request *req, const char *name)
{
	return json_get_str(req->headers, name);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	}
	return "Error";
}

int
mcphttp_respond(int fd, int status, const char *headers, const char *ctype,
    const char *body, size_t len)
{
	struct buf out = {0};
	char line[160];
	size_t off = 0;
	int flags = fcntl(fd, F_GETFL);

	snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status,
	    reason(status));
	buf_append_str(&out, line);
	if (headers != NULL)
		buf_append_str(&out, headers);
	if (ctype != NULL) {
		snprintf(line, sizeof line, "Content-Type: %s\r\n", ctype);
		buf_append_str(&out, line);
	}
	snprintf(line, sizeof line, "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", ctype != NULL ? len : 0);
	buf_append_str(&out, line);
	if (ctype != NULL)
		buf_append(&out, body, len);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	while (off < out.len) {
		ssize_t n = write(fd, out.data + off, out.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_free(&out);
			return -1;
		}
		off += (size_t)n;
	}
	buf_free(&out);
	shutdown(fd, SHUT_WR);
	return 0;
}

int
mcphttp_peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}
