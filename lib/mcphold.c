/* The holder of MCP servers: see mcphold.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "jobs.h"
#include "json.h"
#include "mcp.h"
#include "mcpconf.h"
#include "mcphold.h"
#include "mcphttp.h"
#include "mcpserver.h"
#include "term.h"

#define MAX_SERVERS 64
#define MAX_CLIENTS 256
#define HTTP_FDS 256

/* Where a connection is: its request being read, waiting for the
 * servers to settle, or its call with a server. */
enum { C_FREE, C_READING, C_WAITING, C_CALLING };

struct client {
	int fd, state;
	struct buf in;
	jv req;
	struct mcp_server *s;     /* of its call */
	long id;                  /* of its call */
	double deadline;          /* of its call; 0 = none */
};

static struct mcp_server servers[MAX_SERVERS];
static size_t nservers;
static struct client clients[MAX_CLIENTS];
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_sig;
static const char *log_dir;
static int verbose;
static int remove_dir;       /* --remove-dir */

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig != SIGCHLD)
		stop_sig = sig;
	if (write(sig_pipe[1], "x", 1) < 0) {
		/* The pipe is full: the loop wakes up anyway. */
	}
	errno = saved;
}

static void
client_free(struct client *c)
{
	close(c->fd);
	buf_free(&c->in);
	jv_free(c->req);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* Answer client c with obj (consumed) and close it. */
static void
reply(struct client *c, jv obj)
{
	char *text = json_dump(obj);
	size_t len = strlen(text);

	text[len++] = '\n';
	write_all(c->fd, text, len);
	free(text);
	client_free(c);
}

static void
reply_error(struct client *c, int code, jv msg)
{
	reply(c, JV_OBJECT(jv_string("exit"), jv_number(code),
	    jv_string("output"), msg));
}

/* The function object of tool t (borrowed) under the name mapped. */
static jv
function_of(jv t, const char *mapped, jv params)
{
	jv fn = JV_OBJECT(jv_string("name"), jv_string(mapped));
	jv desc = json_get(t, "description");

	if (jv_get_kind(params) != JV_KIND_OBJECT) {
		jv_free(params);
		params = JV_OBJECT(jv_string("type"), jv_string("object"),
		    jv_string("properties"), jv_object());
	}
	params = jv_object_delete(params, jv_string("$schema"));
	if (jv_get_kind(desc) == JV_KIND_STRING)
		fn = jv_object_set(fn, jv_string("description"), desc);
	else
		jv_free(desc);
	fn = jv_object_set(fn, jv_string("parameters"), params);
	return JV_OBJECT(jv_string("type"), jv_string("function"),
	    jv_string("function"), fn);
}

/* The listing being made by catalog. */
struct catalog {
	jv tools, routes, warnings;
};

/* Add tool t (borrowed) of servers[i], offered under prefix pfx, to
 * cat, or a warning why it is left out. */
static void
add_tool(struct catalog *cat, size_t i, const char *pfx, jv t)
{
	struct mcp_server *s = &servers[i];
	const char *tname = json_get_str(t, "name"), *why;
	char mapped[65];
	jv params;

	if (tname == NULL || !mcp_conf_exposes(s, tname))
		return;
	mcp_tool_name(pfx, tname, mapped);
	if (jv_object_has(jv_copy(cat->routes), jv_string(mapped))) {
		cat->warnings = jv_array_append(cat->warnings, jv_string_fmt(
		    "MCP tool %s of %s: the name %s is taken; skipped",
		    tname, s->key, mapped));
		return;
	}
	params = json_get(t, "inputSchema");
	if (!mcp_schema_headers_valid(params, &why)) {
		cat->warnings = jv_array_append(cat->warnings, jv_string_fmt(
		    "MCP tool %s of %s: left out: %s", tname, s->key, why));
		jv_free(params);
		return;
	}
	cat->tools = jv_array_append(cat->tools, function_of(t, mapped,
	    params));
	cat->routes = jv_object_set(cat->routes, jv_string(mapped), JV_OBJECT(
	    jv_string("server"), jv_string(s->key),
	    jv_string("index"), jv_number((double)i),
	    jv_string("tool"), jv_string(tname),
	    jv_string("inputSchema"), json_get_or_null(t, "inputSchema"),
	    jv_string("outputSchema"), json_get_or_null(t, "outputSchema"),
	    jv_string("annotations"), json_get_or_null(t, "annotations")));
}

/* The tools of every ready server: {"tools": [function objects],
 * "routes": {name: {server, index, tool, inputSchema, outputSchema,
 * annotations}}, "warnings": [...]}. Between servers the first name
 * wins. */
static jv
catalog(void)
{
	struct catalog cat = {jv_array(), jv_object(), jv_array()};
	size_t i;

	for (i = 0; i < nservers; i++) {
		struct mcp_server *s = &servers[i];
		const char *prefix = json_get_str(s->conf, "prefix");
		jv pfx;

		if (mcp_conf_disabled(s))
			continue;
		if (s->state == MCP_S_FAILED) {
			cat.warnings = jv_array_append(cat.warnings,
			    jv_string_fmt("MCP server %s: %s", s->key,
			    s->error));
			continue;
		}
		if (jv_get_kind(s->tools) != JV_KIND_ARRAY)
			continue;
		pfx = prefix != NULL ? jv_string(prefix) :
		    jv_string_fmt("%s_", s->key);
		jv_array_foreach(s->tools, j, t) {
			add_tool(&cat, i, jv_string_value(pfx), t);
			jv_free(t);
		}
		jv_free(pfx);
	}
	return JV_OBJECT(jv_string("tools"), cat.tools, jv_string("routes"),
	    cat.routes, jv_string("warnings"), cat.warnings);
}

/* Start every server not started; 1 when all are ready or failed. */
static int
all_settled(void)
{
	size_t i;
	int settled = 1;

	for (i = 0; i < nservers; i++) {
		struct mcp_server *s = &servers[i];
		if (mcp_conf_disabled(s) || s->state == MCP_S_FAILED)
			continue;
		if (s->state == MCP_S_OFF)
			mcp_server_start(s, log_dir);
		mcp_server_refresh(s);
		if (s->state != MCP_S_READY)
			settled = 0;
	}
	return settled;
}

/* The warnings (consumed) not given before: each is said once for the
 * holder's lifetime, however often its tools are listed. */
static jv
news(jv warnings)
{
	static jv said;
	jv out = jv_array();
	int i, n = jv_array_length(jv_copy(warnings));

	if (!jv_is_valid(said))
		said = jv_object();
	for (i = 0; i < n; i++) {
		jv w = jv_array_get(jv_copy(warnings), i);
		if (jv_object_has(jv_copy(said), jv_copy(w))) {
			jv_free(w);
			continue;
		}
		said = jv_object_set(said, jv_copy(w), jv_true());
		out = jv_array_append(out, w);
	}
	jv_free(warnings);
	return out;
}

/* Send the call of c to the server of its tool, by the routes of cat
 * (borrowed), or answer why not. */
static void
route_call(struct client *c, jv cat)
{
	const char *name = json_get_str(c->req, "name");
	jv route = jv_object_get(json_get(cat, "routes"),
	    jv_string(name != NULL ? name : ""));
	struct mcp_server *s;
	jv args;

	if (!jv_is_valid(route)) {
		reply_error(c, EXIT_INPUT, jv_string_fmt("no MCP tool is "
		    "called %s", name != NULL ? name : "(none)"));
		jv_free(route);
		return;
	}
	s = &servers[(int)jv_number_value(json_get(route, "index"))];
	if (s->state != MCP_S_READY) {
		reply_error(c, EXIT_TRANSIENT, jv_string_fmt("MCP server %s is "
		    "not running", s->key));
		jv_free(route);
		return;
	}
	args = json_get(c->req, "arguments");
	c->s = s;
	c->state = C_CALLING;
	c->id = mcp_server_call(s, c, route, args);
	c->deadline = s->timeout > 0 ? now_seconds() + s->timeout : 0;
	jv_free(args);
	jv_free(route);
}

/* Send a waiting call to its server, or answer a waiting listing. */
static void
serve_client(struct client *c)
{
	const char *op = json_get_str(c->req, "op");
	jv cat = catalog();

	if (op != NULL && strcmp(op, "list") == 0)
		reply(c, JV_OBJECT(jv_string("exit"), jv_number(0),
		    jv_string("tools"), json_get(cat, "tools"),
		    jv_string("routes"), json_get(cat, "routes"),
		    jv_string("warnings"), news(json_get(cat, "warnings"))));
	else
		route_call(c, cat);
	jv_free(cat);
}

static void
advance_clients(void)
{
	size_t i;
	int settled = -1;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd <= 0 || clients[i].state != C_WAITING)
			continue;
		if (settled < 0)
			settled = all_settled();
		if (settled)
			serve_client(&clients[i]);
	}
}

/* A call ended (the session's hook). */
static void
call_answer(void *caller, int code, jv text)
{
	struct client *c = caller;

	if (c->fd >= 0 && c->state == C_CALLING)
		reply_error(c, code, text);
	else
		jv_free(text);
}

/* With -v: a progress notification of a call on stderr (the session's
 * hook; params borrowed). */
static void
call_progress(void *caller, jv params)
{
	struct client *c = caller;
	jv progress = json_get(params, "progress");
	jv total = json_get(params, "total");
	const char *m = json_get_str(params, "message");

	if (verbose && jv_get_kind(progress) == JV_KIND_NUMBER) {
		const char *tool = json_get_str(c->req, "name");
		struct buf b = {0};

		if (m != NULL)
			term_escape(&b, m, strlen(m), 0);
		buf_append(&b, "", 1);
		if (jv_get_kind(total) == JV_KIND_NUMBER)
			warnx("%s: progress %g/%g %s", tool,
			    jv_number_value(progress), jv_number_value(total),
			    b.data);
		else
			warnx("%s: progress %g %s", tool,
			    jv_number_value(progress), b.data);
		buf_free(&b);
	}
	jv_free(progress);
	jv_free(total);
}

static const struct mcp_call_hooks hooks = {call_answer, call_progress};

/* Client c was closed before its answer: cancel its call. */
static void
client_gone(struct client *c)
{
	if (c->state == C_CALLING && c->s != NULL)
		mcp_server_cancel(c->s, c, c->id);
	client_free(c);
}

static void
read_client(struct client *c)
{
	char chunk[65536];
	ssize_t n;
	char *nl;

	n = read(c->fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		client_gone(c);
		return;
	}
	if (c->state != C_READING)
		return;
	buf_append(&c->in, chunk, (size_t)n);
	if (c->in.len > JSON_INPUT_MAX) {
		reply_error(c, EXIT_INPUT, jv_string("request too large"));
		return;
	}
	if ((nl = memchr(c->in.data, '\n', c->in.len)) == NULL)
		return;
	*nl = '\0';
	c->req = json_parse(c->in.data, (size_t)(nl - c->in.data));
	if (jv_get_kind(c->req) != JV_KIND_OBJECT) {
		reply_error(c, EXIT_INPUT, jv_string("the request is not a "
		    "JSON object"));
		return;
	}
	c->state = C_WAITING;
}

/* The call of c took longer than its server's "timeout": cancel it and
 * say so. */
static void
time_out(struct client *c)
{
	int fd = dup(c->fd);
	jv msg = jv_string_fmt("MCP server %s: the call timed out after %g s "
	    "and was cancelled", c->s->key, c->s->timeout);

	client_gone(c);
	if (fd < 0) {
		jv_free(msg);
		return;
	}
	c->fd = fd;
	c->req = jv_null();
	reply_error(c, EXIT_TRANSIENT, msg);
}

static void
accept_client(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd <= 0) {
			memset(&clients[i], 0, sizeof clients[i]);
			clients[i].fd = fd;
			clients[i].state = C_READING;
			clients[i].req = jv_null();
			return;
		}
	close(fd);
}

static int
listen_on(const char *dir)
{
	struct sockaddr_un a = {0};
	int fd;
	mode_t old;

	a.sun_family = AF_UNIX;
	if (snprintf(a.sun_path, sizeof a.sun_path, "%s/mcp.sock", dir) >=
	    (int)sizeof a.sun_path)
		die(EXIT_USAGE, "%s/mcp.sock: path too long for a socket", dir);
	unlink(a.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		die(EXIT_TRANSIENT, "socket: %s", strerror(errno));
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(fd, 64) < 0)
		die(EXIT_TRANSIENT, "%s: %s", a.sun_path, strerror(errno));
	umask(old);
	chmod(a.sun_path, 0600);
	return fd;
}

/* Become the holder: a subreaper that ends with its parent, the stop
 * signals caught, the servers read, the secrets dropped; the listening
 * socket. */
static int
hold_setup(const struct mcp_host *h, const char *dir)
{
	struct sigaction sa;
	struct job_policy p;
	pid_t parent = getppid();
	size_t i;

	log_dir = dir;
	verbose = h->verbose;
	remove_dir = h->remove_dir;
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() != parent)
		_exit(0);   /* the parent is gone already */
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	nservers = mcp_conf_load(h, servers, MAX_SERVERS);
	mcp_server_hooks(&hooks);
	/* What the configuration named is expanded: no other secret stays
	 * here for a server to read (/proc/PID/environ). */
	jobs_default_policy(&p);
	jobs_drop_secrets(&p, NULL);
	return listen_on(dir);
}

/* At time now: the deadlines of servers and calls, with *wait lowered
 * to the next one; 1 when a connection is open. */
static int
check_deadlines(double now, double *wait)
{
	size_t i;
	int busy = 0;

	for (i = 0; i < nservers; i++)
		mcp_server_tick(&servers[i], now, wait);
	for (i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd <= 0)
			continue;
		busy = 1;
		if (c->state == C_CALLING && c->deadline > 0) {
			if (now > c->deadline) {
				time_out(c);
				continue;
			}
			if (c->deadline - now < *wait)
				*wait = c->deadline - now;
		}
	}
	return busy;
}

/* The descriptors to wait on: the socket, the signals, the servers'
 * output, the connections; how many. */
static size_t
fill_pollfds(struct pollfd *pfd, int lfd)
{
	size_t i, n = 0;

	pfd[n].fd = lfd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = sig_pipe[0];
	pfd[n++].events = POLLIN;
	for (i = 0; i < nservers; i++) {
		if (servers[i].out < 0)
			continue;
		pfd[n].fd = servers[i].out;
		pfd[n++].events = POLLIN;
	}
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd <= 0)
			continue;
		pfd[n].fd = clients[i].fd;
		pfd[n++].events = POLLIN;
	}
	return n;
}

/* After poll: the signals, the servers' output, the connections' data,
 * a new connection; then the waiting requests move on. */
static void
dispatch(struct pollfd *pfd, size_t n, int lfd)
{
	size_t i, k = 2;

	if (pfd[1].revents) {
		char drain[64];
		while (read(sig_pipe[0], drain, sizeof drain) > 0)
			;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	for (i = 0; i < nservers; i++) {
		if (servers[i].out < 0)
			continue;
		if (pfd[k].fd == servers[i].out && pfd[k].revents)
			mcp_server_read(&servers[i]);
		k++;
	}
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd <= 0)
			continue;
		if (k < n && pfd[k].fd == clients[i].fd && pfd[k].revents)
			read_client(&clients[i]);
		k++;
	}
	if (pfd[0].revents & POLLIN)
		accept_client(lfd);
	advance_clients();
}

/* Stop the servers and what they left, remove the socket (with
 * --remove-dir, the directory and the logs too: whoever made it for us
 * may be gone, killed), exit. */
static _Noreturn void
hold_end(const char *dir)
{
	char path[4200];
	int sig = stop_sig;
	size_t i;

	for (i = 0; i < nservers; i++)
		if (servers[i].pid > 0 || servers[i].http != NULL)
			mcp_server_stop(&servers[i], 2);
	jobs_kill_leftovers();
	snprintf(path, sizeof path, "%s/mcp.sock", dir);
	unlink(path);
	if (remove_dir)
		mcp_host_remove_dir(dir);
	_exit(sig ? 128 + sig : 0);
}

void
mcp_hold(const struct mcp_host *h, const char *dir, double idle)
{
	struct pollfd pfd[2 + MAX_SERVERS + MAX_CLIENTS + HTTP_FDS];
	int lfd = hold_setup(h, dir);
	double last_use = now_seconds();

	while (!stop_sig) {
		double now = now_seconds(), wait = idle - (now - last_use);
		int busy = check_deadlines(now, &wait), ms;
		size_t n = fill_pollfds(pfd, lfd);

		if (busy)
			last_use = now;
		if (!busy && wait <= 0)
			break;
		if (wait > 60)
			wait = 60;
		if (wait < 0.001)
			wait = 0.001;
		ms = (int)(wait * 1000) + 1;
		n += (size_t)mcp_http_pollfds(pfd + n, HTTP_FDS, &ms);
		if (poll(pfd, n, ms) < 0 && errno != EINTR)
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		mcp_http_perform();
		dispatch(pfd, n, lfd);
	}
	hold_end(dir);
}
