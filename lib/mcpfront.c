/* The HTTP front of tool-serve: see mcpfront.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "httpd.h"
#include "json.h"
#include "mcp.h"
#include "mcpfront.h"
#include "mcpserve.h"

/* Answer an HTTP request whole and for good (the connection closes):
 * status, the extra header lines (each ending in CRLF, or NULL) and a
 * body of type ctype (none when ctype is NULL). */
static void
respond(int fd, int status, const char *headers, const char *ctype,
    const char *body, size_t len)
{
	struct http_response r;

	http_response_init(&r);
	http_set_body(&r, status, ctype, body != NULL ? body : "", len);
	if (headers != NULL)
		buf_append_str(&r.headers, headers);
	if (http_send(fd, &r, 0) < 0)
		warnx("http: %s", strerror(errno));
	http_response_free(&r);
}

void
mcp_front_answer(int fd, jv msg, int status)
{
	char *text = json_dump(msg);

	respond(fd, status, NULL, "application/json", text, strlen(text));
	free(text);
}

static struct httpd server = {.listen_fd = -1};
static char *token;             /* the bearer token, or NULL */
static char bind_host[256];     /* the host of --http */
static int bind_loopback;       /* --http on a loopback address */

/* Is the host of h (host[:port], up to a slash) a loopback name, or
 * this server's when others may be? */
static int
host_allowed(const char *h, int others)
{
	char host[256];
	size_t n;

	n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	if (n == 0 || n >= sizeof host || (*h == '[' && h[n - 1] != ']'))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	return strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
	    (others && strcasecmp(host, bind_host) == 0);
}

/* Is origin (scheme://host[:port]) a loopback one or this server's? A
 * web page of another origin must not reach the server through a
 * browser (DNS rebinding). */
static int
origin_allowed(const char *origin)
{
	const char *h = strstr(origin, "://");

	return h != NULL && host_allowed(h + 3, 1);
}

/* Does the Authorization header carry the token? */
static int
authorized(const char *auth)
{
	size_t n, i;
	unsigned char diff = 0;

	if (token == NULL)
		return 1;
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	n = strlen(token);
	if (strlen(auth) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(auth[i] ^ token[i]);
	return diff == 0;
}

/* Why the headers of a request do not match its body, as the error to
 * answer with status 400, or jv_invalid(). */
static jv
header_mismatch(const struct http_request *req, jv msg)
{
	const char *hv = json_get_str(req->headers, "mcp-protocol-version");
	const char *hm = json_get_str(req->headers, "mcp-method");
	const char *hn = json_get_str(req->headers, "mcp-name");
	const char *method = json_get_str(msg, "method");
	jv params = json_get(msg, "params"), id = json_get(msg, "id");
	jv mv = mcp_meta(params, MCP_META_VERSION), out = jv_invalid();
	jv caps = jv_invalid();
	const char *name = json_get_str(params, "name");

	if (hv != NULL && !mcp_version_known(hv))
		out = mcp_unsupported_version(jv_copy(id), hv);
	else if (jv_get_kind(mv) == JV_KIND_STRING &&
	    !mcp_version_is_legacy(jv_string_value(mv)) &&
	    (hv == NULL || strcmp(hv, jv_string_value(mv)) != 0))
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the MCP-Protocol-Version header does not match "
		    "_meta[\"" MCP_META_VERSION "\"]"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    (hm == NULL || (name != NULL && strcmp(method, "tools/call") == 0 &&
	    hn == NULL)))
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string_fmt(
		    "the %s header is missing", hm == NULL ? "Mcp-Method" :
		    "Mcp-Name"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id")) &&
	    jv_get_kind(mv) != JV_KIND_STRING)
		out = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "_meta[\"" MCP_META_VERSION "\"] is required"), jv_invalid());
	else if (hv != NULL && !mcp_version_is_legacy(hv) && method != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id")) && jv_get_kind(caps =
	    mcp_meta(params, MCP_META_CLIENT_CAPS)) != JV_KIND_OBJECT)
		out = mcp_error(jv_copy(id), MCP_INVALID_PARAMS, jv_string(
		    "_meta[\"" MCP_META_CLIENT_CAPS "\"] is required"),
		    jv_invalid());
	else if (hm != NULL && method != NULL && strcmp(hm, method) != 0)
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the Mcp-Method header does not match the method"),
		    jv_invalid());
	else if (hn != NULL && name != NULL && strncmp(hn, "=?", 2) != 0 &&
	    strcmp(hn, name) != 0)
		out = mcp_error(jv_copy(id), MCP_HEADER_MISMATCH, jv_string(
		    "the Mcp-Name header does not match params.name"),
		    jv_invalid());
	jv_free(caps);
	jv_free(mv);
	jv_free(params);
	jv_free(id);
	return out;
}

/* The HTTP status of an answer: a modern request's unknown method is
 * 404, an unsupported version 400; every other answer 200. */
static int
answer_status(jv out, int modern)
{
	jv error = json_get(out, "error"), code = json_get(error, "code");
	int status = 200;

	jv_free(error);

	if (modern && jv_get_kind(code) == JV_KIND_NUMBER) {
		if (jv_number_value(code) == MCP_METHOD_NOT_FOUND)
			status = 404;
		else if (jv_number_value(code) == MCP_UNSUPPORTED_VERSION)
			status = 400;
	}
	jv_free(code);
	return status;
}

/* The status of a request (borrowed) that this server must refuse,
 * with its extra header lines in *headers, or 0 when it may be read. */
static int
refusal(const struct http_request *req, const char **headers)
{
	const char *origin = json_get_str(req->headers, "origin");
	const char *host = json_get_str(req->headers, "host");
	const char *ctype = json_get_str(req->headers, "content-type");

	*headers = NULL;
	if (!authorized(json_get_str(req->headers, "authorization"))) {
		*headers = "WWW-Authenticate: Bearer\r\n";
		return 401;
	}
	if ((origin != NULL && !origin_allowed(origin)) || (bind_loopback &&
	    host != NULL && !host_allowed(host, 0)))
		return 403;
	if (strcmp(req->path, "/mcp") != 0)
		return 404;
	if (strcmp(req->method, "POST") != 0) {
		*headers = "Allow: POST\r\n";
		return 405;
	}
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0)
		return 415;
	return 0;
}

/* Does the request (borrowed) with message msg (borrowed) speak the
 * modern era, by its _meta or its MCP-Protocol-Version header? */
static int
modern_request(const struct http_request *req, jv msg)
{
	jv params = json_get(msg, "params");
	jv version = mcp_meta(params, MCP_META_VERSION);
	const char *hv = json_get_str(req->headers, "mcp-protocol-version");
	int modern = jv_get_kind(version) == JV_KIND_STRING &&
	    !mcp_version_is_legacy(jv_string_value(version));

	modern |= hv != NULL && !mcp_version_is_legacy(hv);
	jv_free(version);
	jv_free(params);
	return modern;
}

/* The message of a request (borrowed) that passed the checks: handled,
 * answered; 0 when a call owns the connection now. */
static int
take_message(int fd, const struct http_request *req)
{
	jv msg = json_parse(req->body.data != NULL ? req->body.data : "",
	    req->body.len), out;
	int is_request, modern;

	if (!jv_is_valid(msg) || jv_get_kind(msg) != JV_KIND_OBJECT) {
		mcp_front_answer(fd, mcp_error(jv_null(), jv_is_valid(msg) ?
		    MCP_INVALID_REQUEST : MCP_PARSE_ERROR, jv_string(
		    jv_is_valid(msg) ? "not a JSON-RPC message" :
		    "parse error"), jv_invalid()), 400);
		jv_free(msg);
		return 1;
	}
	if (jv_is_valid(out = header_mismatch(req, msg))) {
		mcp_front_answer(fd, out, 400);
		jv_free(msg);
		return 1;
	}
	is_request = json_get_str(msg, "method") != NULL &&
	    jv_object_has(jv_copy(msg), jv_string("id"));
	modern = modern_request(req, msg);
	out = mcp_serve_handle(msg, fd);
	if (!is_request) {
		jv_free(out);
		respond(fd, 202, NULL, NULL, NULL, 0);
		return 1;
	}
	if (!jv_is_valid(out))
		return 0;
	mcp_front_answer(fd, out, answer_status(out, modern));
	return 1;
}

/* One HTTP request on fd: answered and closed, or left to a call. */
static void
http_request(int fd)
{
	struct http_request req;
	const char *headers;
	int rc = httpd_read_request(&server, fd, &req), status;

	if (rc > 0)
		respond(fd, rc, NULL, NULL, NULL, 0);
	else if (rc == 0 && (status = refusal(&req, &headers)) == 403)
		respond(fd, 403, NULL, "text/plain", "foreign origin\n", 15);
	else if (rc == 0 && status != 0)
		respond(fd, status, headers, NULL, NULL, 0);
	else if (rc == 0 && !take_message(fd, &req)) {
		/* A call owns the connection now. */
		http_request_free(&req);
		return;
	}
	http_request_free(&req);
	close(fd);
}

/* Take the connections waiting on the listening socket. */
void
mcp_front_accept(void)
{
	int fd;

	while ((fd = accept4(server.listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		http_request(fd);
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		warnx("http: accept: %s", strerror(errno));
}

/* The token of --token-file: its first line. */
static char *
read_token(const char *path)
{
	struct buf b = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n;

	if (fd < 0 || read_fd_all(fd, &b, 65536) != 0)
		die(EXIT_INPUT, "%s: %s", path, strerror(errno));
	close(fd);
	n = b.data != NULL ? strcspn(b.data, "\r\n") : 0;
	if (n == 0)
		die(EXIT_INPUT, "%s: no token in its first line", path);
	b.data[n] = '\0';
	return b.data;
}

void
mcp_front_listen(const char *spec, const char *token_file)
{
	char why[READ_WHY_MAX];
	int port, loopback;
	size_t n;

	httpd_init(&server);
	if (token_file != NULL)
		token = read_token(token_file);
	/* Without a token, only this machine may reach the server. */
	loopback = token == NULL;
	server.body_max = MCP_SERVE_MESSAGE_MAX;
	port = httpd_listen_at(&server, spec, &loopback, why);
	if (port == -2)
		die(EXIT_USAGE, "--http: %s: --token-file is needed", why);
	if (port == -3)
		die(EXIT_USAGE, "--http: %s", why);
	if (port < 0)
		die(EXIT_TRANSIENT, "--http: %s", why);
	n = (size_t)(strrchr(spec, ':') - spec);
	if (n >= sizeof bind_host)
		n = sizeof bind_host - 1;
	memcpy(bind_host, spec, n);
	bind_host[n] = '\0';
	bind_loopback = loopback;
	warnx("serving http://%s:%d/mcp", bind_host, port);
}

int
mcp_front_fd(void)
{
	return server.listen_fd;
}

void
mcp_front_close(void)
{
	if (server.listen_fd >= 0)
		httpd_close(&server);
	free(token);
	token = NULL;
}
