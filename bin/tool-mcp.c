/*
 * tool-mcp: the tools of Model Context Protocol servers as tools of a
 * tools directory. Run by tool-run as the executable of every MCP tool:
 * the arguments (a JSON object) on stdin, the tool's name in $TOOL_NAME,
 * the result's text on stdout; exit 1 when the server says the call
 * failed. With -l, write the function objects of every server's tools.
 * With --hold DIR, be the holder: the one process that starts the servers of
 * the configuration (mcp.json), keeps them for its lifetime, and serves
 * listings and calls on the Unix socket DIR/mcp.sock, one JSON request
 * per connection. Without $LLM_MCP_SOCKET a listing or a call starts a
 * holder of its own for its lifetime.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "jobs.h"
#include "isolate.h"
#include "json.h"
#include "mcp.h"
#include "mcphost.h"
#include "mcphttp.h"
#include "runner.h"
#include "term.h"
#include "toolsdir.h"

#define MAX_SERVERS 64
#define MAX_CLIENTS 256
#define MAX_LINE ((size_t)64 << 20)
#define MAX_PAGES 100
#define MAX_RESTARTS 3
#define PROBE_TIMEOUT 10.0
#define HTTP_FDS 256


extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-v] [-M FILE]... [-d DIR] [-B SANDBOX]\n"
	    "       %s -l [-v] [--routes] [-M FILE]... [-d DIR] [-B SANDBOX]\n"
	    "       %s --hold DIR [-v] [--idle SECONDS] [-M FILE]... [-d DIR] "
	    "[-B SANDBOX]\n",
	    progname, progname, progname);
	if (f == stdout)
		fputs("Call a tool of an MCP server: arguments on stdin, the name in\n"
		    "$TOOL_NAME, the result on stdout.\n"
		    "  -l, --list              write the function objects of every server's tools\n"
		    "      --routes            with -l: add each tool's server, name, annotations\n"
		    "      --hold DIR          keep the servers, serve DIR/mcp.sock\n"
		    "      --idle SECONDS      with --hold: exit after this long unused (600)\n"
		    "  -M, --mcp-config FILE   the servers (repeatable; default $LLM_MCP_CONFIG,\n"
		    "                          else DIR/mcp.json)\n"
		    "  -d, --dir DIR           the tools directory holding mcp.json\n"
		    "  -B, --sandbox CMD       start each stdio server under CMD ('default',\n"
		    "                          'none'); a server's \"sandbox\" overrides it\n"
		    "  -v, --verbose           show the servers' progress notifications\n", f);
}

/* The options that have no letter. */
enum { OPT_ROUTES = 256, OPT_HOLD, OPT_IDLE };

static const struct option longopts[] = {
	{"list", no_argument, NULL, 'l'},
	{"routes", no_argument, NULL, OPT_ROUTES},
	{"hold", required_argument, NULL, OPT_HOLD},
	{"idle", required_argument, NULL, OPT_IDLE},
	{"mcp-config", required_argument, NULL, 'M'},
	{"dir", required_argument, NULL, 'd'},
	{"sandbox", required_argument, NULL, 'B'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* What the options say, for this process and a holder it starts. */
static struct mcp_host host;

/* ---- The holder ---- */

enum { S_OFF, S_PROBE, S_INIT, S_LIST, S_READY, S_FAILED };
enum { P_DISCOVER, P_INIT, P_LIST, P_CALL };

struct server {
	char *key;
	jv conf;                  /* its object in the configuration */
	double timeout, startup;  /* seconds; 0 = none */
	int state, modern, restarts, stale;
	char *error;              /* why it failed, once S_FAILED */
	pid_t pid;
	int in, out;
	struct mcp_http *http;    /* a Streamable HTTP server, once started */
	struct buf rbuf;
	double deadline;          /* of the start-up */
	jv tools, listing;        /* tools as listed; pages so far */
	char version[16];
};

struct pending {
	int used, kind;
	long id;
	struct server *s;
	struct client *c;
};

struct client {
	int fd, state;            /* 0 free, 1 reading, 2 waiting, 3 calling */
	struct buf in;
	jv req;
	struct server *s;
	long id;
	double deadline;
};

static struct server servers[MAX_SERVERS];
static size_t nservers;
static struct client clients[MAX_CLIENTS];
static struct pending pendings[MAX_CLIENTS * 2];
static long next_id = 1;
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_sig;
static char *hold_dir, *log_dir;
static int verbose;

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

/* "${VAR}" and "${VAR:-default}" in s replaced from the environment. */
static jv
expand(const char *s)
{
	struct buf b = {0};
	jv out;

	while (*s != '\0') {
		const char *end, *dash;
		if (s[0] != '$' || s[1] != '{' ||
		    (end = strchr(s + 2, '}')) == NULL) {
			buf_append(&b, s++, 1);
			continue;
		}
		{
			char name[256];
			const char *val;
			size_t n;

			dash = strstr(s + 2, ":-");
			n = (size_t)((dash != NULL && dash < end ? dash : end) -
			    (s + 2));
			if (n >= sizeof name)
				n = sizeof name - 1;
			memcpy(name, s + 2, n);
			name[n] = '\0';
			val = getenv(name);
			if ((val == NULL || *val == '\0') && dash != NULL &&
			    dash < end)
				buf_append(&b, dash + 2, (size_t)(end - dash - 2));
			else if (val != NULL)
				buf_append_str(&b, val);
		}
		s = end + 1;
	}
	out = jv_string_sized(b.data ? b.data : "", (int)b.len);
	buf_free(&b);
	return out;
}

/* conf (consumed) with ${VAR} expanded in "args", "url" and the values
 * of "env" and "headers", once, as the configuration is read. */
static jv
expand_conf(jv conf)
{
	static const char *const objects[] = {"env", "headers"};
	jv v = json_get(conf, "args");
	size_t k;
	int i, n, it;

	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv a = jv_array_get(jv_copy(v), i);
			if (jv_get_kind(a) == JV_KIND_STRING)
				v = jv_array_set(v, i, expand(jv_string_value(a)));
			jv_free(a);
		}
		conf = jv_object_set(conf, jv_string("args"), v);
	} else {
		jv_free(v);
	}
	if (json_get_str(conf, "url") != NULL)
		conf = jv_object_set(conf, jv_string("url"),
		    expand(json_get_str(conf, "url")));
	for (k = 0; k < 2; k++) {
		jv o = json_get(conf, objects[k]), out = jv_object();
		if (jv_get_kind(o) != JV_KIND_OBJECT) {
			jv_free(o);
			jv_free(out);
			continue;
		}
		for (it = jv_object_iter(o); jv_object_iter_valid(o, it);
		    it = jv_object_iter_next(o, it)) {
			jv key = jv_object_iter_key(o, it);
			jv val = jv_object_iter_value(o, it);
			if (jv_get_kind(val) == JV_KIND_STRING)
				out = jv_object_set(out, key,
				    expand(jv_string_value(val)));
			else
				jv_free(key);
			jv_free(val);
		}
		jv_free(o);
		conf = jv_object_set(conf, jv_string(objects[k]), out);
	}
	return conf;
}

/* Milliseconds of conf[key] as seconds, or def. */
static double
conf_ms(jv conf, const char *key, double def)
{
	jv v = json_get(conf, key);
	double d = def;

	if (jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) > 0)
		d = jv_number_value(v) / 1000;
	jv_free(v);
	return d;
}

/* Add the servers of one configuration document; later ones replace
 * earlier ones of the same name. */
static void
add_config(const char *path)
{
	jv doc = json_read_doc(path, "MCP configuration");
	jv list = json_get(doc, "mcpServers");
	size_t i;
	int it;

	if (!jv_is_valid(list)) {
		jv_free(list);
		list = json_get(doc, "servers");
	}
	if (jv_get_kind(list) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "%s: no \"mcpServers\" object", path);
	for (it = jv_object_iter(list); jv_object_iter_valid(list, it);
	    it = jv_object_iter_next(list, it)) {
		jv key = jv_object_iter_key(list, it);
		jv conf = jv_object_iter_value(list, it);
		struct server *s = NULL;

		if (jv_get_kind(conf) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "%s: server %s: not an object", path,
			    jv_string_value(key));
		for (i = 0; i < nservers; i++)
			if (strcmp(servers[i].key, jv_string_value(key)) == 0)
				s = &servers[i];
		if (s == NULL) {
			if (nservers == MAX_SERVERS)
				die(EXIT_INPUT, "%s: more than %d servers",
				    path, MAX_SERVERS);
			s = &servers[nservers++];
			s->key = xstrdup(jv_string_value(key));
		} else {
			jv_free(s->conf);
		}
		s->conf = expand_conf(conf);
		s->pid = -1;
		s->in = s->out = -1;
		s->tools = jv_null();
		s->listing = jv_null();
		s->timeout = conf_ms(conf, "timeout", 0);
		s->startup = conf_ms(conf, "startupTimeout", 60);
		{
			const char *type = json_get_str(conf, "type");
			const char *why = NULL;
			if (type != NULL && strcmp(type, "sse") == 0)
				why = "the deprecated HTTP+SSE transport is not "
				    "supported; give its Streamable HTTP URL";
			else if (json_get_str(conf, "url") == NULL &&
			    json_get_str(conf, "command") == NULL)
				why = "neither \"command\" nor \"url\"";
			free(s->error);
			s->error = why != NULL ? xstrdup(why) : NULL;
			s->state = why != NULL ? S_FAILED : S_OFF;
		}
		jv_free(key);
	}
	jv_free(list);
	jv_free(doc);
}

/* The configuration files: -M, else $LLM_MCP_CONFIG, else DIR/mcp.json
 * when it exists. */
static void
load_configs(void)
{
	const char *env = getenv("LLM_MCP_CONFIG");
	size_t i;

	if (host.nconfigs > 0) {
		for (i = 0; i < host.nconfigs; i++)
			add_config(host.configs[i]);
	} else if (env != NULL && *env != '\0') {
		add_config(env);
	} else {
		int configured;
		char *dir = toolsdir_find(host.dir, &configured);
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/mcp.json", dir);
		if (stat(path, &st) == 0)
			add_config(path);
		free(dir);
	}
}

/* Is s disabled by its configuration? */
static int
disabled(const struct server *s)
{
	jv v = json_get(s->conf, "disabled");
	int d = jv_get_kind(v) == JV_KIND_TRUE;

	jv_free(v);
	return d;
}

static char **
split_words(const char *cmd)
{
	char *copy = xstrdup(cmd + strspn(cmd, " \t")), *w, *save = NULL;
	char **argv = xmalloc((strlen(cmd) / 2 + 2) * sizeof *argv);
	size_t n = 0;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (n == 0)
		free(copy);
	return argv;
}

/* The environment of a server: the tools' allowlist and its "env". */
static char **
server_environment(const struct server *s)
{
	static const char *keep[] = {"PATH=", "HOME=", "LANG=", "TZ=",
	    "TMPDIR=", "USER=", "LOGNAME=", "LC_", NULL};
	jv env = json_get(s->conf, "env");
	size_t n = 0, i;
	char **out, **e;
	int it;

	for (e = environ; *e != NULL; e++)
		n++;
	if (jv_get_kind(env) == JV_KIND_OBJECT)
		n += (size_t)jv_object_length(jv_copy(env));
	out = xmalloc((n + 1) * sizeof *out);
	n = 0;
	for (e = environ; *e != NULL; e++)
		for (i = 0; keep[i] != NULL; i++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0) {
				out[n++] = xstrdup(*e);
				break;
			}
	if (jv_get_kind(env) == JV_KIND_OBJECT)
		for (it = jv_object_iter(env); jv_object_iter_valid(env, it);
		    it = jv_object_iter_next(env, it)) {
			jv k = jv_object_iter_key(env, it);
			jv v = jv_object_iter_value(env, it);
			if (jv_get_kind(v) == JV_KIND_STRING) {
				jv line = jv_string_fmt("%s=%s",
				    jv_string_value(k), jv_string_value(v));
				out[n++] = xstrdup(jv_string_value(line));
				jv_free(line);
			}
			jv_free(k);
			jv_free(v);
		}
	out[n] = NULL;
	jv_free(env);
	return out;
}

/* The wrapper argv of sandbox cmd for a server starting in cwd (NULL:
 * ours): "default" is tool-run's profile with cwd visible, read-only. */
static char **
sandbox_argv(const char *cmd, const char *cwd)
{
	static char here[4096];
	char **argv;
	size_t n = 0;

	if (strcmp(cmd, "default") != 0)
		return split_words(cmd);
	if (cwd == NULL)
		cwd = getcwd(here, sizeof here) != NULL ? here : "/";
	argv = split_words(RUNNER_DEFAULT_SANDBOX);
	while (argv[n] != NULL)
		n++;
	argv = xrealloc(argv, (n + 8) * sizeof *argv);
	n--;    /* before the final "--" */
	argv[n++] = "--ro-bind";
	argv[n++] = (char *)cwd;
	argv[n++] = (char *)cwd;
	argv[n++] = "--chdir";
	argv[n++] = (char *)cwd;
	argv[n++] = "--";
	argv[n] = NULL;
	return argv;
}

/* The argv of a server: its sandbox, "command", "args" expanded; what
 * comes before the command in *nwrap. Freed by free_server_argv. */
static char **
server_argv(const struct server *s, size_t *nwrap)
{
	jv args = json_get(s->conf, "args");
	const char *sb = json_get_str(s->conf, "sandbox");
	char **wrap = NULL, **argv;
	size_t n = 0, i, nargs = 0;

	if (sb == NULL)
		sb = host.sandbox;
	if (sb != NULL && *sb != '\0' && strcmp(sb, "none") != 0)
		wrap = sandbox_argv(sb, json_get_str(s->conf, "cwd"));
	while (wrap != NULL && wrap[n] != NULL)
		n++;
	if (jv_get_kind(args) == JV_KIND_ARRAY)
		nargs = (size_t)jv_array_length(jv_copy(args));
	argv = xmalloc((n + nargs + 2) * sizeof *argv);
	for (i = 0; i < n; i++)
		argv[i] = wrap[i];
	free(wrap);
	*nwrap = n;
	argv[n++] = xstrdup(json_get_str(s->conf, "command"));
	for (i = 0; i < nargs; i++) {
		jv a = jv_array_get(jv_copy(args), (int)i);
		jv x = jv_get_kind(a) == JV_KIND_STRING ? jv_copy(a) :
		    jv_dump_string(jv_copy(a), 0);
		argv[n++] = xstrdup(jv_string_value(x));
		jv_free(x);
		jv_free(a);
	}
	argv[n] = NULL;
	jv_free(args);
	return argv;
}

static void
free_server_argv(char **argv, size_t nwrap)
{
	size_t i;

	if (nwrap > 0)
		free(argv[0]);      /* split_words' copy holds every word */
	for (i = nwrap; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Send a JSON-RPC message (consumed) to s. */
static void
send_msg(struct server *s, jv msg)
{
	char *text;
	size_t len, off = 0;
	ssize_t w;

	if (s->http != NULL) {
		mcp_http_send(s->http, msg, jv_null());
		return;
	}
	text = json_dump(msg);
	len = strlen(text);
	text[len++] = '\n';
	while (s->in >= 0 && off < len) {
		w = write(s->in, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	free(text);
}

static struct pending *
add_pending(struct server *s, int kind, struct client *c)
{
	size_t i;

	for (i = 0; i < sizeof pendings / sizeof *pendings; i++)
		if (!pendings[i].used) {
			pendings[i].used = 1;
			pendings[i].kind = kind;
			pendings[i].s = s;
			pendings[i].c = c;
			pendings[i].id = next_id++;
			return &pendings[i];
		}
	die(EXIT_TRANSIENT, "too many requests at once");
}

/* A request's params with the modern era's _meta when s speaks it. */
static jv
with_meta(struct server *s, jv params)
{
	if (!s->modern)
		return params;
	return jv_object_set(params, jv_string("_meta"), JV_OBJECT(
	    jv_string(MCP_META_VERSION), jv_string(MCP_MODERN_VERSION),
	    jv_string(MCP_META_CLIENT_CAPS), jv_object(),
	    jv_string(MCP_META_CLIENT_INFO), JV_OBJECT(jv_string("name"),
	    jv_string("tool-mcp"), jv_string("version"),
	    jv_string(LLM_TOOLS_VERSION))));
}

static long
request(struct server *s, int kind, struct client *c, const char *method,
    jv params)
{
	struct pending *p = add_pending(s, kind, c);

	send_msg(s, JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), jv_number((double)p->id), jv_string("method"),
	    jv_string(method), jv_string("params"), with_meta(s, params)));
	return p->id;
}

static void
list_page(struct server *s, jv cursor)
{
	jv params = jv_object();

	if (jv_get_kind(cursor) == JV_KIND_STRING)
		params = jv_object_set(params, jv_string("cursor"), cursor);
	else
		jv_free(cursor);
	s->state = S_LIST;
	request(s, P_LIST, NULL, "tools/list", params);
}

/* Answer client c with obj (consumed) and close it. */
static void
reply(struct client *c, jv obj)
{
	char *text = json_dump(obj);
	size_t len = strlen(text), off = 0;
	ssize_t w;

	text[len++] = '\n';
	while (off < len) {
		w = write(c->fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	free(text);
	close(c->fd);
	buf_free(&c->in);
	jv_free(c->req);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void
reply_error(struct client *c, int code, jv msg)
{
	reply(c, JV_OBJECT(jv_string("exit"), jv_number(code),
	    jv_string("output"), msg));
}

/* Forget the pending requests of s; calls get an error. */
static void
drop_pendings(struct server *s, const char *why)
{
	size_t i;

	for (i = 0; i < sizeof pendings / sizeof *pendings; i++) {
		struct pending *p = &pendings[i];
		if (!p->used || p->s != s)
			continue;
		if (p->kind == P_CALL && p->c != NULL && p->c->fd >= 0)
			reply_error(p->c, EXIT_TRANSIENT, jv_string_fmt(
			    "MCP server %s %s", s->key, why));
		memset(p, 0, sizeof *p);
	}
}

/* End s's process: stdin closed, then SIGTERM, then SIGKILL of its
 * process group, grace seconds apart. */
static void
stop_server(struct server *s, double grace)
{
	double end;
	int st;

	if (s->http != NULL)
		mcp_http_close(s->http);
	s->http = NULL;
	if (s->in >= 0)
		close(s->in);
	s->in = -1;
	if (s->pid > 0) {
		end = now_seconds() + grace;
		while (waitpid(s->pid, &st, WNOHANG) == 0) {
			if (now_seconds() > end + grace) {
				kill(-s->pid, SIGKILL);
				kill(s->pid, SIGKILL);
				waitpid(s->pid, &st, 0);
				break;
			}
			if (now_seconds() > end) {
				kill(-s->pid, SIGTERM);
				kill(s->pid, SIGTERM);
			}
			usleep(10000);
		}
		/* What it left in its group goes with it. */
		kill(-s->pid, SIGKILL);
	}
	s->pid = -1;
	if (s->out >= 0)
		close(s->out);
	s->out = -1;
	buf_free(&s->rbuf);
}

/* s failed to start or died: why says how. */
static void
server_lost(struct server *s, const char *why)
{
	int was_ready = s->state == S_READY;

	stop_server(s, 0);
	drop_pendings(s, why);
	if (was_ready && s->restarts < MAX_RESTARTS) {
		s->state = S_OFF;
		s->restarts++;
		warnx("MCP server %s %s; it will be restarted", s->key, why);
		return;
	}
	s->state = S_FAILED;
	free(s->error);
	s->error = xstrdup(why);
}

/* A modern server answers server/discover; a legacy one refuses it, and
 * then gets initialize. */
static void
send_discover(struct server *s)
{
	request(s, P_DISCOVER, NULL, "server/discover", JV_OBJECT(
	    jv_string("_meta"), JV_OBJECT(jv_string(MCP_META_VERSION),
	    jv_string(MCP_MODERN_VERSION), jv_string(MCP_META_CLIENT_CAPS),
	    jv_object(), jv_string(MCP_META_CLIENT_INFO), JV_OBJECT(
	    jv_string("name"), jv_string("tool-mcp"), jv_string("version"),
	    jv_string(LLM_TOOLS_VERSION)))));
}

static void
send_initialize(struct server *s)
{
	s->state = S_INIT;
	s->modern = 0;
	request(s, P_INIT, NULL, "initialize", JV_OBJECT(
	    jv_string("protocolVersion"), jv_string(MCP_LEGACY_VERSION),
	    jv_string("capabilities"), jv_object(),
	    jv_string("clientInfo"), JV_OBJECT(jv_string("name"),
	    jv_string("tool-mcp"), jv_string("version"),
	    jv_string(LLM_TOOLS_VERSION))));
}

static struct pending *find_pending(jv id);

/* A message from an HTTP server. */
static void on_message(struct server *s, jv msg);

static void
http_message(void *ctx, jv msg)
{
	on_message(ctx, msg);
}

/* A request to an HTTP server that got no answer. */
static void
http_failure(void *ctx, jv id, long status, const char *why)
{
	struct server *s = ctx;
	struct pending *p = find_pending(id);
	struct pending done;

	if (p == NULL || p->s != s)
		return;
	done = *p;
	memset(p, 0, sizeof *p);
	if (done.kind == P_CALL) {
		if (done.c != NULL && done.c->fd >= 0 && done.c->state == 3)
			reply_error(done.c, status >= 400 && status < 500 ?
			    EXIT_API : EXIT_TRANSIENT, jv_string_fmt("MCP "
			    "server %s: %s", s->key, why));
	} else if (done.kind == P_DISCOVER && status >= 400 && status != 401) {
		/* A legacy server refuses what it does not know. */
		send_initialize(s);
	} else {
		server_lost(s, why);
	}
}

/* Connect to an HTTP server: the same probe as on stdio. */
static void
start_http(struct server *s)
{
	const char *why;

	s->http = mcp_http_new(json_get_str(s->conf, "url"),
	    json_get(s->conf, "headers"), http_message, http_failure, s, &why);
	if (s->http == NULL) {
		s->state = S_FAILED;
		free(s->error);
		s->error = xstrdup(why);
		return;
	}
	s->modern = 0;
	s->state = S_PROBE;
	s->deadline = now_seconds() + s->startup;
	jv_free(s->listing);
	s->listing = jv_array();
	send_discover(s);
}

static int isolation_off;  /* the kernel refused namespaces once */

/* Does s run in namespaces of its own, as tool-run runs a tool: unless
 * a sandbox wrapper isolates it instead, or "none" says not to? */
static int
server_isolated(const struct server *s)
{
	const char *sb = json_get_str(s->conf, "sandbox");

	if (sb == NULL)
		sb = host.sandbox;
	return !isolation_off && (sb == NULL || *sb == '\0');
}

/* In the child of isolate_clone, PID 1 of the server's namespaces: enter
 * them, start the server (this returns in its process) and wait for it;
 * its end ends all it left in the namespace. */
static void
be_init(uid_t uid, gid_t gid)
{
	pid_t server;
	int code, st;

	if ((code = isolate_enter(uid, gid)) != 0) {
		fprintf(stderr, "tool-mcp: namespaces: %s\n", strerror(code));
		_exit(127);
	}
	if ((server = fork()) < 0)
		_exit(127);
	if (server == 0)
		return;
	/* Only the server holds the pipes: its end is their end. */
	close(0);
	close(1);
	isolate_reap(server, &st);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Start a stdio server: its process, then the probe. */
static void
start_stdio(struct server *s)
{
	int in[2], out[2], logfd;
	size_t nwrap;
	char **argv = server_argv(s, &nwrap), **env = server_environment(s);
	char logpath[4096];
	const char *cwd = json_get_str(s->conf, "cwd");
	size_t i;
	pid_t parent = getpid();
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int isolated = server_isolated(s);

	snprintf(logpath, sizeof logpath, "%s/mcp-%s.log", log_dir, s->key);
	for (i = strlen(log_dir) + 5; logpath[i] != '\0'; i++)
		if (logpath[i] == '/')
			logpath[i] = '_';
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	s->pid = isolated ? isolate_clone() : fork();
	if (s->pid < 0 && isolated && isolate_refused(errno)) {
		warnx("MCP servers run without namespaces of their own: the "
		    "kernel refuses them (%s)", strerror(errno));
		isolation_off = 1;
		isolated = 0;
		s->pid = fork();
	}
	if (s->pid < 0)
		die(EXIT_TRANSIENT, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		struct rlimit rl;
		sigset_t none;

		if (!isolated)
			setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (!isolated && getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		rl.rlim_cur = rl.rlim_max = (rlim_t)1 << 30;
		setrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = rl.rlim_max = 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(logfd >= 0 ? logfd : open("/dev/null", O_WRONLY), 2);
		close_range(3, ~0U, 0);
		if (cwd != NULL && chdir(cwd) != 0) {
			fprintf(stderr, "tool-mcp: %s: %s\n", cwd,
			    strerror(errno));
			_exit(127);
		}
		if (isolated)
			be_init(uid, gid);
		environ = env;
		execvp(argv[0], argv);
		fprintf(stderr, "tool-mcp: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (!isolated)
		setpgid(s->pid, s->pid);
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
	free_server_argv(argv, nwrap);
	if (logfd >= 0)
		close(logfd);
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	s->out = out[0];
	fcntl(s->out, F_SETFL, O_NONBLOCK);
	s->modern = 0;
	s->state = S_PROBE;
	s->deadline = now_seconds() + s->startup;
	jv_free(s->listing);
	s->listing = jv_array();
	send_discover(s);
}

static void
start_server(struct server *s)
{
	if (json_get_str(s->conf, "command") != NULL)
		start_stdio(s);
	else
		start_http(s);
}

/* Does the server's "tools" list allow name? */
static int
exposed(const struct server *s, const char *name)
{
	jv list = json_get(s->conf, "tools");

	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return 1;
	}
	return json_array_has_string(list, name);
}

/* o[key] (o borrowed), or null. */
static jv
get_or_null(jv o, const char *key)
{
	jv v = json_get(o, key);

	if (jv_is_valid(v))
		return v;
	jv_free(v);
	return jv_null();
}

/* The tools of every ready server: {"tools": [function objects],
 * "routes": {name: {server, tool, outputSchema, annotations}},
 * "warnings": [...]}. Between servers the first name wins. */
static jv
catalog(void)
{
	jv tools = jv_array(), routes = jv_object(), warnings = jv_array();
	size_t i;
	int j, n;

	for (i = 0; i < nservers; i++) {
		struct server *s = &servers[i];
		const char *prefix = json_get_str(s->conf, "prefix");
		jv pfx;

		if (disabled(s))
			continue;
		if (s->state == S_FAILED) {
			warnings = jv_array_append(warnings, jv_string_fmt(
			    "MCP server %s: %s", s->key, s->error));
			continue;
		}
		if (jv_get_kind(s->tools) != JV_KIND_ARRAY)
			continue;
		pfx = prefix != NULL ? jv_string(prefix) :
		    jv_string_fmt("%s_", s->key);
		n = jv_array_length(jv_copy(s->tools));
		for (j = 0; j < n; j++) {
			jv t = jv_array_get(jv_copy(s->tools), j);
			const char *tname = json_get_str(t, "name");
			char mapped[65];
			const char *why;
			jv params, fn, desc;

			if (tname == NULL || !exposed(s, tname)) {
				jv_free(t);
				continue;
			}
			mcp_tool_name(jv_string_value(pfx), tname, mapped);
			if (jv_object_has(jv_copy(routes), jv_string(mapped))) {
				warnings = jv_array_append(warnings,
				    jv_string_fmt("MCP tool %s of %s: the name "
				    "%s is taken; skipped", tname, s->key,
				    mapped));
				jv_free(t);
				continue;
			}
			params = json_get(t, "inputSchema");
			if (!mcp_schema_headers_valid(params, &why)) {
				warnings = jv_array_append(warnings,
				    jv_string_fmt("MCP tool %s of %s: left out: "
				    "%s", tname, s->key, why));
				jv_free(params);
				jv_free(t);
				continue;
			}
			if (jv_get_kind(params) != JV_KIND_OBJECT) {
				jv_free(params);
				params = JV_OBJECT(jv_string("type"),
				    jv_string("object"), jv_string("properties"),
				    jv_object());
			}
			params = jv_object_delete(params, jv_string("$schema"));
			fn = JV_OBJECT(jv_string("name"), jv_string(mapped));
			desc = json_get(t, "description");
			if (jv_get_kind(desc) == JV_KIND_STRING)
				fn = jv_object_set(fn, jv_string("description"),
				    desc);
			else
				jv_free(desc);
			fn = jv_object_set(fn, jv_string("parameters"), params);
			tools = jv_array_append(tools, JV_OBJECT(
			    jv_string("type"), jv_string("function"),
			    jv_string("function"), fn));
			routes = jv_object_set(routes, jv_string(mapped),
			    JV_OBJECT(jv_string("server"), jv_string(s->key),
			    jv_string("index"), jv_number((double)i),
			    jv_string("tool"), jv_string(tname),
			    jv_string("inputSchema"), get_or_null(t,
			    "inputSchema"),
			    jv_string("outputSchema"), get_or_null(t,
			    "outputSchema"), jv_string("annotations"),
			    get_or_null(t, "annotations")));
			jv_free(t);
		}
		jv_free(pfx);
	}
	return JV_OBJECT(jv_string("tools"), tools, jv_string("routes"),
	    routes, jv_string("warnings"), warnings);
}

/* Start every server not started; 1 when all are ready or failed. */
static int
all_settled(void)
{
	size_t i;
	int settled = 1;

	for (i = 0; i < nservers; i++) {
		struct server *s = &servers[i];
		if (disabled(s) || s->state == S_FAILED)
			continue;
		if (s->state == S_OFF)
			start_server(s);
		if (s->state == S_READY && s->stale) {
			s->stale = 0;
			list_page(s, jv_null());
		}
		if (s->state != S_READY)
			settled = 0;
	}
	return settled;
}

/* Send the call of client c to server s, the tool of route (consumed):
 * its progress token is its id; over modern HTTP its x-mcp-header
 * arguments go in headers too. */
static void
send_call(struct client *c, struct server *s, jv route)
{
	struct pending *p = add_pending(s, P_CALL, c);
	jv args = json_get(c->req, "arguments");
	jv params = with_meta(s, JV_OBJECT(jv_string("name"),
	    json_get(route, "tool"), jv_string("arguments"), jv_copy(args)));
	jv meta = json_get(params, "_meta"), msg;

	if (!jv_is_valid(meta)) {
		jv_free(meta);
		meta = jv_object();
	}
	meta = jv_object_set(meta, jv_string("progressToken"),
	    jv_number((double)p->id));
	params = jv_object_set(params, jv_string("_meta"), meta);
	c->s = s;
	c->state = 3;
	c->id = p->id;
	msg = JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
	    jv_string("id"), jv_number((double)p->id), jv_string("method"),
	    jv_string("tools/call"), jv_string("params"), params);
	if (s->http != NULL && s->modern) {
		jv schema = json_get(route, "inputSchema");
		mcp_http_send(s->http, msg, mcp_param_headers(schema, args));
		jv_free(schema);
	} else {
		send_msg(s, msg);
	}
	jv_free(args);
	c->req = jv_object_set(c->req, jv_string("route"), route);
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

/* Send a waiting call to its server, or answer a waiting listing. */
static void
serve_client(struct client *c)
{
	const char *op = json_get_str(c->req, "op");
	jv cat = catalog();

	if (op != NULL && strcmp(op, "list") == 0) {
		reply(c, JV_OBJECT(jv_string("exit"), jv_number(0),
		    jv_string("tools"), json_get(cat, "tools"),
		    jv_string("routes"), json_get(cat, "routes"),
		    jv_string("warnings"), news(json_get(cat, "warnings"))));
	} else {
		const char *name = json_get_str(c->req, "name");
		jv route = jv_object_get(json_get(cat, "routes"),
		    jv_string(name != NULL ? name : ""));
		struct server *s;

		if (!jv_is_valid(route)) {
			reply_error(c, EXIT_INPUT, jv_string_fmt("no MCP tool "
			    "is called %s", name != NULL ? name : "(none)"));
			jv_free(route);
			jv_free(cat);
			return;
		}
		s = &servers[(int)jv_number_value(json_get(route, "index"))];
		if (s->state != S_READY) {
			reply_error(c, EXIT_TRANSIENT, jv_string_fmt("MCP "
			    "server %s is not running", s->key));
			jv_free(route);
			jv_free(cat);
			return;
		}
		send_call(c, s, route);
		c->deadline = s->timeout > 0 ? now_seconds() + s->timeout : 0;
	}
	jv_free(cat);
}

static void
advance_clients(void)
{
	size_t i;
	int settled = -1;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd <= 0 || clients[i].state != 2)
			continue;
		if (settled < 0)
			settled = all_settled();
		if (settled)
			serve_client(&clients[i]);
	}
}

static struct pending *
find_pending(jv id)
{
	size_t i;
	long n;

	if (jv_get_kind(id) != JV_KIND_NUMBER)
		return NULL;
	n = (long)jv_number_value(id);
	for (i = 0; i < sizeof pendings / sizeof *pendings; i++)
		if (pendings[i].used && pendings[i].id == n)
			return &pendings[i];
	return NULL;
}

/* Does the list (consumed) hold the modern revision? */
static int
lists_modern(jv list)
{
	return json_array_has_string(list, MCP_MODERN_VERSION);
}

/* Is error (borrowed) a modern refusal naming the modern revision? */
static int
error_lists_modern(jv error)
{
	jv data = json_get(error, "data");
	int yes = lists_modern(json_get(data, "supported"));

	jv_free(data);
	return yes;
}

static void
set_modern(struct server *s)
{
	s->modern = 1;
	snprintf(s->version, sizeof s->version, "%s", MCP_MODERN_VERSION);
	if (s->http != NULL)
		mcp_http_set_version(s->http, MCP_MODERN_VERSION);
}

static void
on_response(struct server *s, struct pending *p, jv msg)
{
	jv result = json_get(msg, "result"), error = json_get(msg, "error");
	struct pending done = *p;

	memset(p, 0, sizeof *p);
	switch (done.kind) {
	case P_DISCOVER:
		if (s->state != S_PROBE)
			break;
		if (jv_get_kind(result) == JV_KIND_OBJECT &&
		    lists_modern(json_get(result, "supportedVersions"))) {
			set_modern(s);
			list_page(s, jv_null());
		} else if (jv_get_kind(error) == JV_KIND_OBJECT &&
		    error_lists_modern(error)) {
			set_modern(s);
			list_page(s, jv_null());
		} else {
			send_initialize(s);
		}
		break;
	case P_INIT: {
		const char *v = json_get_str(result, "protocolVersion");
		if (jv_get_kind(result) != JV_KIND_OBJECT || v == NULL ||
		    !mcp_version_is_legacy(v)) {
			server_lost(s, v != NULL ? "offers no protocol revision "
			    "in common" : "refused initialize");
			break;
		}
		snprintf(s->version, sizeof s->version, "%s", v);
		if (s->http != NULL)
			mcp_http_set_version(s->http, v);
		send_msg(s, JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
		    jv_string("method"), jv_string("notifications/initialized")));
		list_page(s, jv_null());
		break;
	}
	case P_LIST: {
		jv tools = json_get(result, "tools"), cursor;
		if (jv_get_kind(tools) != JV_KIND_ARRAY) {
			jv_free(tools);
			server_lost(s, "answered tools/list without tools");
			break;
		}
		s->listing = jv_array_concat(s->listing, tools);
		cursor = json_get(result, "nextCursor");
		if (jv_get_kind(cursor) == JV_KIND_STRING &&
		    jv_array_length(jv_copy(s->listing)) < MAX_PAGES * 1000) {
			list_page(s, cursor);
			break;
		}
		jv_free(cursor);
		jv_free(s->tools);
		s->tools = s->listing;
		s->listing = jv_array();
		s->state = S_READY;
		break;
	}
	case P_CALL: {
		struct client *c = done.c;
		if (c == NULL || c->fd < 0 || c->state != 3)
			break;
		if (jv_get_kind(error) == JV_KIND_OBJECT) {
			const char *m = json_get_str(error, "message");
			reply_error(c, EXIT_API, jv_string_fmt("MCP server %s "
			    "refused the call: %s", s->key, m != NULL ? m :
			    "(no message)"));
		} else if (jv_get_kind(result) == JV_KIND_OBJECT) {
			const char *rt = json_get_str(result, "resultType");
			int is_error = 0;
			char *text;
			jv route = json_get(c->req, "route");
			jv schema = json_get(route, "outputSchema");

			if (rt != NULL && strcmp(rt, "input_required") == 0) {
				reply_error(c, EXIT_API, jv_string_fmt("MCP "
				    "server %s needs user input, which is not "
				    "supported", s->key));
			} else {
				text = mcp_result_text(result, schema,
				    &is_error);
				reply_error(c, is_error, jv_string(text));
				free(text);
			}
			jv_free(schema);
			jv_free(route);
		} else {
			reply_error(c, EXIT_TRANSIENT, jv_string_fmt("MCP "
			    "server %s sent a response without result",
			    s->key));
		}
		break;
	}
	}
	jv_free(result);
	jv_free(error);
}

/* With -v: a progress notification (borrowed) of a call on stderr. */
static void
show_progress(struct server *s, jv msg)
{
	jv params = json_get(msg, "params");
	jv token = json_get(params, "progressToken");
	jv progress = json_get(params, "progress");
	jv total = json_get(params, "total");
	const char *m = json_get_str(params, "message");
	struct pending *p = find_pending(token);

	if (verbose && p != NULL && p->s == s && p->kind == P_CALL &&
	    jv_get_kind(progress) == JV_KIND_NUMBER) {
		const char *tool = json_get_str(p->c->req, "name");
		struct buf b = {0};
		char *text;

		if (m != NULL)
			term_escape(&b, m, strlen(m), 0);
		buf_append(&b, "", 1);
		text = b.data;
		if (jv_get_kind(total) == JV_KIND_NUMBER)
			warnx("%s: progress %g/%g %s", tool,
			    jv_number_value(progress), jv_number_value(total),
			    text);
		else
			warnx("%s: progress %g %s", tool,
			    jv_number_value(progress), text);
		free(text);
	}
	jv_free(params);
	jv_free(token);
	jv_free(progress);
	jv_free(total);
}

/* One message from s. */
static void
on_message(struct server *s, jv msg)
{
	const char *method = json_get_str(msg, "method");
	jv id = json_get(msg, "id");

	if (method != NULL && jv_is_valid(id)) {
		/* A request of the server: only ping is answered. */
		jv resp = JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
		    jv_string("id"), jv_copy(id));
		if (strcmp(method, "ping") == 0)
			resp = jv_object_set(resp, jv_string("result"),
			    jv_object());
		else
			resp = jv_object_set(resp, jv_string("error"), JV_OBJECT(
			    jv_string("code"), jv_number(MCP_METHOD_NOT_FOUND),
			    jv_string("message"), jv_string("not supported by "
			    "this client")));
		send_msg(s, resp);
	} else if (method != NULL && strcmp(method,
	    "notifications/progress") == 0) {
		show_progress(s, msg);
	} else if (method != NULL) {
		/* Before tools/list is sent, the list to come is new
		 * anyway (server-everything says so before initialize). */
		if (strcmp(method, "notifications/tools/list_changed") == 0 &&
		    (s->state == S_LIST || s->state == S_READY))
			s->stale = 1;
	} else {
		struct pending *p = find_pending(id);
		if (p != NULL && p->s == s)
			on_response(s, p, jv_copy(msg));
		jv_free(msg);
		msg = jv_null();
	}
	jv_free(id);
	jv_free(msg);
}

static void
read_server(struct server *s)
{
	char chunk[65536];
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(s->out, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			server_lost(s, "exited");
			return;
		}
		buf_append(&s->rbuf, chunk, (size_t)n);
		if (s->rbuf.len > MAX_LINE) {
			server_lost(s, "sent a line over 64 MiB");
			return;
		}
	}
	while (s->out >= 0 && s->rbuf.len > 0 &&
	    (nl = memchr(s->rbuf.data, '\n', s->rbuf.len)) != NULL) {
		size_t len = (size_t)(nl - s->rbuf.data);
		jv msg;

		*nl = '\0';
		msg = json_parse(s->rbuf.data, len);
		memmove(s->rbuf.data, nl + 1, s->rbuf.len - len - 1);
		s->rbuf.len -= len + 1;
		if (jv_get_kind(msg) == JV_KIND_OBJECT)
			on_message(s, msg);
		else
			jv_free(msg);
	}
}

/* Client c was closed before its answer: cancel its call. */
static void
client_gone(struct client *c)
{
	size_t i;

	if (c->state == 3 && c->s != NULL) {
		for (i = 0; i < sizeof pendings / sizeof *pendings; i++)
			if (pendings[i].used && pendings[i].c == c)
				memset(&pendings[i], 0, sizeof pendings[i]);
		send_msg(c->s, JV_OBJECT(jv_string("jsonrpc"), jv_string("2.0"),
		    jv_string("method"), jv_string("notifications/cancelled"),
		    jv_string("params"), JV_OBJECT(jv_string("requestId"),
		    jv_number((double)c->id), jv_string("reason"),
		    jv_string("the caller stopped waiting"))));
		/* Over HTTP, closing the stream cancels too. */
		if (c->s->http != NULL)
			mcp_http_abort(c->s->http, jv_number((double)c->id));
	}
	close(c->fd);
	buf_free(&c->in);
	jv_free(c->req);
	memset(c, 0, sizeof *c);
	c->fd = -1;
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
	if (c->state != 1)
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
	c->state = 2;
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
			clients[i].state = 1;
			clients[i].req = jv_null();
			return;
		}
	close(fd);
}

/* Kill every child left: orphans of servers adopted by us. */
static void
kill_children(void)
{
	char path[64];
	FILE *f;
	long pid;
	int round, found;

	for (round = 0; round < 50; round++) {
		snprintf(path, sizeof path, "/proc/self/task/%ld/children",
		    (long)getpid());
		if ((f = fopen(path, "re")) == NULL)
			return;
		found = 0;
		while (fscanf(f, "%ld", &pid) == 1) {
			kill((pid_t)pid, SIGKILL);
			found = 1;
		}
		fclose(f);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		usleep(2000);
	}
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

/* The holder's loop. Never returns. */
static _Noreturn void
hold(const char *dir, double idle)
{
	struct pollfd pfd[2 + MAX_SERVERS + MAX_CLIENTS + HTTP_FDS];
	struct sigaction sa;
	int lfd, sig;
	double last_use = now_seconds();
	pid_t parent = getppid();
	size_t i;

	hold_dir = xstrdup(dir);
	log_dir = hold_dir;
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
	load_configs();
	{
		/* What the configuration named is expanded: no other secret
		 * stays here for a server to read (/proc/PID/environ). */
		struct job_policy p;
		jobs_default_policy(&p);
		jobs_drop_secrets(&p, NULL);
	}
	lfd = listen_on(dir);
	while (!stop_sig) {
		size_t n = 0, k;
		double now = now_seconds(), wait = idle - (now - last_use);
		int busy = 0;

		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		for (i = 0; i < nservers; i++) {
			struct server *s = &servers[i];
			if (s->out < 0 && s->http == NULL)
				continue;
			if (s->state != S_READY && now > s->deadline) {
				server_lost(s, "did not start in time");
				continue;
			}
			if (s->state == S_PROBE &&
			    now > s->deadline - s->startup + PROBE_TIMEOUT) {
				/* Silence to server/discover: legacy. */
				send_initialize(s);
			}
			if (s->state != S_READY && s->deadline - now < wait)
				wait = s->deadline - now;
		}
		for (i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd <= 0)
				continue;
			busy = 1;
			if (c->state == 3 && c->deadline > 0) {
				if (now > c->deadline) {
					time_out(c);
					continue;
				}
				if (c->deadline - now < wait)
					wait = c->deadline - now;
			}
		}
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
		if (busy)
			last_use = now;
		if (!busy && wait <= 0)
			break;
		if (wait > 60)
			wait = 60;
		if (wait < 0.001)
			wait = 0.001;
		{
			int ms = (int)(wait * 1000) + 1;
			n += (size_t)mcp_http_pollfds(pfd + n, HTTP_FDS, &ms);
			if (poll(pfd, n, ms) < 0 && errno != EINTR)
				die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		mcp_http_perform();
		if (pfd[1].revents) {
			char drain[64];
			while (read(sig_pipe[0], drain, sizeof drain) > 0)
				;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		k = 2;
		for (i = 0; i < nservers; i++) {
			if (servers[i].out < 0)
				continue;
			if (pfd[k].fd == servers[i].out && pfd[k].revents)
				read_server(&servers[i]);
			k++;
		}
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd <= 0)
				continue;
			if (k < n && pfd[k].fd == clients[i].fd &&
			    pfd[k].revents)
				read_client(&clients[i]);
			k++;
		}
		if (pfd[0].revents & POLLIN)
			accept_client(lfd);
		advance_clients();
	}
	sig = stop_sig;
	for (i = 0; i < nservers; i++)
		if (servers[i].pid > 0 || servers[i].http != NULL)
			stop_server(&servers[i], 2);
	kill_children();
	{
		char path[4200];
		snprintf(path, sizeof path, "%s/mcp.sock", dir);
		unlink(path);
	}
	_exit(sig ? 128 + sig : 0);
}

/* ---- The caller ---- */

/* The tools of a listing (borrowed), each with "mcp": its server, its
 * name there and its annotations, for tool-run. */
static jv
with_routes(jv answer)
{
	jv tools = json_get(answer, "tools"), routes = json_get(answer,
	    "routes"), out = jv_array();
	int i, n = jv_array_length(jv_copy(tools));

	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tools), i);
		jv fn = json_get(t, "function");
		jv r = jv_object_get(jv_copy(routes), json_get(fn, "name"));
		jv info = JV_OBJECT(jv_string("server"), get_or_null(r,
		    "server"), jv_string("tool"), get_or_null(r, "tool"),
		    jv_string("inputSchema"), get_or_null(r, "inputSchema"));
		jv ann = json_get(r, "annotations");
		if (jv_get_kind(ann) == JV_KIND_OBJECT)
			info = jv_object_set(info, jv_string("annotations"),
			    ann);
		else
			jv_free(ann);
		out = jv_array_append(out, jv_object_set(t, jv_string("mcp"),
		    info));
		jv_free(fn);
		jv_free(r);
	}
	jv_free(tools);
	jv_free(routes);
	return out;
}

static void
on_stop(int sig)
{
	if (host.holder > 0)
		kill(host.holder, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

int
main(int argc, char *argv[])
{
	const char *hold_at = NULL;
	double idle = 600;
	char *self;
	int c, list = 0, routes = 0, code = 0;
	jv answer;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "lM:d:B:vhV", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'l':
			list = 1;
			break;
		case OPT_ROUTES:
			routes = 1;
			break;
		case OPT_HOLD:
			hold_at = optarg;
			break;
		case OPT_IDLE:
			if (parse_seconds(optarg, &idle) != 0 || idle <= 0)
				die(EXIT_USAGE, "--idle: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case 'M':
			if (host.nconfigs == MCP_HOST_CONFIGS)
				die(EXIT_USAGE, "-M: at most %d files",
				    MCP_HOST_CONFIGS);
			host.configs[host.nconfigs++] = optarg;
			break;
		case 'd':
			host.dir = optarg;
			break;
		case 'B':
			host.sandbox = optarg;
			break;
		case 'v':
			verbose = host.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-mcp " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc > optind || (hold_at != NULL && list)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (host.sandbox == NULL)
		host.sandbox = getenv("LLM_TOOL_SANDBOX");
	if (hold_at != NULL)
		hold(hold_at, idle);
	self = mcp_host_program();

	if (list) {
		mcp_host_start(&host, self);
		signal(SIGTERM, on_stop);
		signal(SIGINT, on_stop);
		answer = mcp_host_ask(&host, JV_OBJECT(jv_string("op"),
		    jv_string("list")));
		{
			jv w = json_get(answer, "warnings");
			int i, n = jv_get_kind(w) == JV_KIND_ARRAY ?
			    jv_array_length(jv_copy(w)) : 0;
			for (i = 0; i < n; i++) {
				jv m = jv_array_get(jv_copy(w), i);
				warnx("%s", jv_string_value(m));
				jv_free(m);
			}
			jv_free(w);
		}
		json_write_stdout(routes ? with_routes(answer) :
		    json_get(answer, "tools"));
	} else {
		const char *name = getenv("TOOL_NAME");
		struct buf in = {0};
		jv args, out;

		if (name == NULL || *name == '\0')
			die(EXIT_INPUT, "TOOL_NAME: not set");
		if (read_fd_all(0, &in, JSON_INPUT_MAX) != 0)
			die(EXIT_INPUT, "arguments: %s", strerror(errno));
		args = json_parse(in.data ? in.data : "", in.len);
		buf_free(&in);
		if (jv_get_kind(args) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "arguments: not a JSON object");
		mcp_host_start(&host, self);
		signal(SIGTERM, on_stop);
		signal(SIGINT, on_stop);
		answer = mcp_host_ask(&host, JV_OBJECT(jv_string("op"),
		    jv_string("call"), jv_string("name"), jv_string(name),
		    jv_string("arguments"), args));
		out = json_get(answer, "output");
		code = (int)jv_number_value(json_get(answer, "exit"));
		if (jv_get_kind(out) == JV_KIND_STRING) {
			if (code == 0 || code == 1)
				printf("%s\n", jv_string_value(out));
			else
				warnx("%s", jv_string_value(out));
		}
		jv_free(out);
	}
	jv_free(answer);
	mcp_host_stop(&host);
	free(self);
	finish_stdout();
	return code;
}
