/*
 * llm-mock: a loopback OpenAI-compatible Chat Completions server, for
 * testing pipelines offline.
 *
 * Listens on 127.0.0.1 only and prints the port it got as one line on
 * stdout (and into --port-file). Chat request n (POST
 * /v1/chat/completions) is answered with element n of a script (--script,
 * a JSON array) or with the first output of a jq program (--jq-file,
 * --jq) run on the request body with $n
 * bound to n. A reply is either a complete response body or a spec from
 * which one is built; it can be streamed as server-sent events and can
 * simulate faults (status, headers, delays, drops, truncation, slow
 * pieces). Requests are logged as JSON lines (--log) with credentials masked.
 * The parent reads and answers requests one by one; a child process sends
 * each answer, so a slow answer never blocks the next client.
 * Stdin is not read; messages go to stderr.
 *
 * The server is lib/httpd.c, the replies lib/reply.c (completions from
 * lib/completion.c), the faults lib/fault.c; here are the options, the
 * reply sources, the log and the routes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jq.h>

#include "common.h"
#include "fault.h"
#include "httpd.h"
#include "json.h"
#include "reply.h"

/* The jq program runs on [n, body]; the user's text goes between these. */
#define JQ_PREFIX ".[0] as $n | .[1] | ("
#define JQ_SUFFIX "\n)"

struct mock {
	struct httpd server;
	jv script;        /* --script: the replies, else invalid */
	jq_state *jq;     /* --jq-file, --jq: the compiled program */
	int log_fd;       /* --log, or -1 */
	int chat_count;   /* chat requests so far */
	pid_t *children;  /* senders not yet reaped */
	size_t nchildren, children_cap;
};

/* What the signal handlers touch: a self-pipe that wakes the server and
 * the request to stop. */
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_term;

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

/* Forget senders that have finished (never blocks). */
static void
reap_children(struct mock *m)
{
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < m->nchildren; i++)
			if (m->children[i] == pid) {
				m->children[i] = m->children[--m->nchildren];
				break;
			}
}

/* The server was woken: empty the pipe and reap. */
static void
on_wake(void *ctx)
{
	char junk[64];

	while (read(wake_pipe[0], junk, sizeof junk) > 0)
		;
	reap_children(ctx);
}

/* Wait until every sender has finished; kill them once asked to stop. */
static void
wait_children(struct mock *m)
{
	struct pollfd p = {0, POLLIN, 0};
	int killed = 0;
	size_t i;

	p.fd = wake_pipe[0];
	for (;;) {
		reap_children(m);
		if (m->nchildren == 0)
			return;
		if (got_term && !killed) {
			for (i = 0; i < m->nchildren; i++)
				kill(m->children[i], SIGTERM);
			killed = 1;
		}
		if (poll(&p, 1, 1000) > 0)
			on_wake(m);
	}
}

/* Send r with its faults on fd from a child process; the parent goes on
 * at once. */
static void
dispatch(struct mock *m, int fd, struct http_response *r,
    const struct faults *f)
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
		httpd_close(&m->server);
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		if (m->log_fd >= 0)
			close(m->log_fd);
		/* The sender needs no jq; and libjq keeps its stack by its
		 * end, so that leak checkers would call it lost. */
		if (m->jq != NULL)
			jq_teardown(&m->jq);
		faults_send(fd, r, f);
		httpd_linger_close(&m->server, fd);
		_exit(0);
	}
	if (pid < 0) {
		warnx_errno("fork");
	} else {
		if (m->nchildren == m->children_cap) {
			m->children_cap = m->children_cap ?
			    m->children_cap * 2 : 16;
			m->children = xrealloc(m->children,
			    m->children_cap * sizeof *m->children);
		}
		m->children[m->nchildren++] = pid;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
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
log_request(const struct mock *m, const struct http_request *req, int n,
    jv body)
{
	static const char *secret[] = {"authorization", "proxy-authorization",
	    "api-key", "x-api-key"};
	jv headers, entry;
	const char *s;
	char *line;
	size_t i;

	if (m->log_fd < 0)
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
	if (write_all(m->log_fd, line, strlen(line)) < 0 ||
	    write_all(m->log_fd, "\n", 1) < 0)
		warnx_errno("log");
	free(line);
}

/* --- reply sources --- */

/* The reply for chat request n (body req, consumed), or an invalid value
 * whose message says why there is none. */
static jv
next_reply(struct mock *m, int n, jv req)
{
	jv out, msg;

	if (jv_get_kind(m->script) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(m->script));

		jv_free(req);
		if (n > len)
			return jv_invalid_with_msg(jv_string_fmt(
			    "script exhausted after %d replies", len));
		return jv_array_get(jv_copy(m->script), n - 1);
	}
	jq_start(m->jq, JV_ARRAY(jv_number(n), req), 0);
	out = jq_next(m->jq);
	if (jv_is_valid(out)) {
		/* Run the program to its end (a few more outputs at most), so
		 * that nothing of this run is left for the next or for the
		 * child that sends the reply. */
		jv more;
		int i;

		for (i = 0; i < 16 && jv_is_valid(more = jq_next(m->jq)); i++)
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
load_script(struct mock *m, const char *path)
{
	int i, len;
	jv v;

	m->script = json_read_doc(path, "script");
	if (jv_get_kind(m->script) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "script %s: %s, not an array of replies",
		    path, json_kind_name(m->script));
	len = jv_array_length(jv_copy(m->script));
	for (i = 0; i < len; i++) {
		v = jv_array_get(jv_copy(m->script), i);
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "script %s: reply %d: %s, not an "
			    "object", path, i + 1, json_kind_name(v));
		jv_free(v);
	}
}

static void
compile_program(struct mock *m, const char *file, const char *text)
{
	struct buf prog = {0}, src = {0};

	if (file != NULL) {
		/* "-" is a file here, as for every option naming a file to
		 * read but --script. */
		read_file_or_die(strcmp(file, "-") == 0 ? "./-" : file,
		    JSON_INPUT_MAX, &src, EXIT_INPUT);
		text = src.data;
	}
	buf_printf(&prog, "%s%s%s", JQ_PREFIX, text, JQ_SUFFIX);
	if ((m->jq = jq_init()) == NULL)
		die(EXIT_TRANSIENT, "cannot initialize jq");
	jq_set_error_cb(m->jq, jq_error, NULL);
	if (!jq_compile_args(m->jq, prog.data, jv_object()))
		die(EXIT_INPUT, "%s: does not compile",
		    file != NULL ? file : "jq program");
	buf_free(&prog);
	buf_free(&src);
}

/* --- routes --- */

static void
refuse(const struct httpd *h, struct http_response *r, int status,
    const struct http_request *req)
{
	switch (status) {
	case 411:
		reply_error(r, 411, "a request body needs Content-Length "
		    "(chunked bodies are not supported)");
		break;
	case 413:
		reply_error(r, 413, "request body larger than %zu bytes",
		    h->body_max);
		break;
	case 431:
		reply_error(r, 431, "request head larger than %zu bytes",
		    h->head_max);
		break;
	default:
		reply_error(r, 400, "malformed HTTP request%s",
		    req->method != NULL ? " headers" : "");
	}
}

/* Is the request one to path (with or without /v1) by method? If the
 * path is right but not the method, r says so. */
static int
route(struct http_response *r, const struct http_request *req,
    const char *path, const char *method)
{
	if (strcmp(req->path, path) != 0 && strcmp(req->path, path + 3) != 0)
		return 0;
	if (strcmp(req->method, method) == 0)
		return 1;
	reply_error(r, 405, "method %s not allowed on %s (use %s)",
	    req->method, req->path, method);
	buf_printf(&r->headers, "Allow: %s\r\n", method);
	return -1;
}

/* Check a chat request's body: 1 when it is a JSON object, else 0 with
 * r saying why. */
static int
chat_body_ok(struct http_response *r, const struct http_request *req,
    jv body)
{
	if (!jv_is_valid(body)) {
		char *m = json_invalid_message(jv_copy(body));

		reply_error(r, 400, "request body is not JSON: %s",
		    req->body.len > 0 ? m : "empty body");
		free(m);
		return 0;
	}
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		reply_error(r, 400, "request body is not a JSON object");
		return 0;
	}
	return 1;
}

/* The answer to chat request n: the next reply, built; a 500 that says
 * why when there is none or it is bad. */
static void
answer_chat(struct mock *m, struct http_response *r, struct faults *f,
    const struct http_request *req, jv body, int n)
{
	struct buf why = {0};
	jv reply = next_reply(m, n, jv_copy(body));
	char *msg;

	if (!jv_is_valid(reply)) {
		msg = json_invalid_message(reply);
		buf_append_str(&why, msg);
		free(msg);
	} else if (reply_build(r, f, reply, body, n, req->body.len,
	    &why) < 0) {
		msg = xstrdup(why.data);
		why.len = 0;
		buf_printf(&why, "bad reply: %s", msg);
		free(msg);
	}
	if (why.len > 0) {
		http_response_free(r);
		http_response_init(r);
		faults_init(f);
		warnx("request %d: %s", n, why.data);
		reply_error(r, 500, "%s", why.data);
	}
	buf_free(&why);
}

/* Route, log and answer one request (an httpd_handler): chat requests
 * are counted; the answer goes out from a child process. */
static int
serve(void *ctx, int fd, struct http_request *req, int status)
{
	struct mock *m = ctx;
	struct http_response r;
	struct faults f;
	jv body = jv_invalid();
	int n = 0;

	http_response_init(&r);
	faults_init(&f);
	if (req->body.len > 0)
		body = json_parse(req->body.data, req->body.len);
	if (status != 0)
		refuse(&m->server, &r, status, req);
	else if (route(&r, req, "/v1/chat/completions", "POST") > 0) {
		if (chat_body_ok(&r, req, body))
			n = ++m->chat_count;
	} else if (route(&r, req, "/v1/models", "GET") > 0)
		http_set_json(&r, 200, JV_OBJECT(jv_string("object"),
		    jv_string("list"), jv_string("data"),
		    JV_ARRAY(JV_OBJECT(jv_string("id"), jv_string("mock"),
		    jv_string("object"), jv_string("model"),
		    jv_string("created"), jv_number(0),
		    jv_string("owned_by"), jv_string("llm-mock")))));
	else if (r.status == 200)
		reply_error(&r, 404, "unknown URL (%s %s)", req->method,
		    req->path);
	if (req->method != NULL)
		log_request(m, req, n, body);
	if (n > 0)
		answer_chat(m, &r, &f, req, body, n);
	dispatch(m, fd, &r, &f);
	jv_free(body);
	http_response_free(&r);
	return HTTPD_TAKEN;
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
	fprintf(f, "usage: %s [-p PORT] [--port-file PORTFILE] [--log LOGFILE] "
	    "[--count COUNT]\n"
	    "       %*s (--script SCRIPT | --jq-file JQFILE | --jq JQPROGRAM)\n",
	    progname,
	    (int)strlen(progname), "");
	if (f == stdout)
		fputs("Answer Chat Completions requests on 127.0.0.1 with "
		    "scripted replies.\n"
		    "  -p, --port PORT         the port (default 0: a free one)\n"
		    "      --port-file FILE    also write the port to FILE\n"
		    "      --log FILE          append one JSON line per request\n"
		    "      --count COUNT       exit after COUNT chat requests\n"
		    "      --script FILE       replies from a JSON array, in "
		    "order\n"
		    "      --jq-file FILE      replies from a jq program ($n: "
		    "the number)\n"
		    "      --jq PROGRAM        the same, the program given here\n"
		    "  -h, --help              show this help\n"
		    "  -V, --version           show the version\n", f);
}

/* The options that have no letter. */
enum { OPT_PORT_FILE = 256, OPT_LOG, OPT_COUNT, OPT_SCRIPT, OPT_JQ_FILE,
	OPT_JQ };

static const struct option longopts[] = {
	{"port", required_argument, NULL, 'p'},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"log", required_argument, NULL, OPT_LOG},
	{"count", required_argument, NULL, OPT_COUNT},
	{"script", required_argument, NULL, OPT_SCRIPT},
	{"jq-file", required_argument, NULL, OPT_JQ_FILE},
	{"jq", required_argument, NULL, OPT_JQ},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* Listen, report the port, and answer until asked to stop or count
 * chat requests are answered. */
static void
run(struct mock *m, long port, const char *port_file, long count)
{
	char why[READ_WHY_MAX];
	struct timespec pause = {0, 100000000L};
	int bound, fd;

	m->server.wake_fd = wake_pipe[0];
	m->server.on_wake = on_wake;
	m->server.wake_ctx = m;
	m->server.stop = &got_term;
	if ((bound = httpd_listen(&m->server, port, why)) < 0)
		die(EXIT_TRANSIENT, "%s", why);
	printf("%d\n", bound);
	if (fflush(stdout) != 0)
		die(EXIT_TRANSIENT, "write error on standard output: %s",
		    strerror(errno));
	if (port_file != NULL)
		write_port_file(port_file, bound);
	while (!got_term && (count == 0 || m->chat_count < count)) {
		reap_children(m);
		if ((fd = httpd_accept(&m->server)) >= 0)
			httpd_serve(&m->server, fd, serve, m);
		else if (fd == -2)
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		else if (errno == EMFILE || errno == ENFILE) {
			warnx_errno("accept");
			nanosleep(&pause, NULL);
		}
	}
	wait_children(m);
}

int
main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL, *script_path = NULL;
	const char *jq_file = NULL, *jq_text = NULL;
	long port = 0, count = 0;
	int ch, sources = 0;
	struct mock m = {0};

	set_progname(argv[0]);
	argv[0] = (char *)progname;
	httpd_init(&m.server);
	m.script = jv_invalid();
	m.log_fd = -1;
	while ((ch = getopt_long(argc, argv, "p:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_long(optarg, 0, 65535, &port) < 0)
				usage_error(usage, "bad port: %s", optarg);
			break;
		case OPT_COUNT:
			if (parse_long(optarg, 1, 1L << 30, &count) < 0)
				usage_error(usage, "bad count: %s", optarg);
			break;
		case OPT_PORT_FILE: port_file = optarg; break;
		case OPT_LOG: log_path = optarg; break;
		case OPT_SCRIPT: script_path = optarg; sources++; break;
		case OPT_JQ_FILE: jq_file = optarg; sources++; break;
		case OPT_JQ: jq_text = optarg; sources++; break;
		case 'h': usage(stdout); finish_stdout(); return 0;
		case 'V':
			printf("llm-mock %s\n", LLM_TOOLS_VERSION);
			finish_stdout();
			return 0;
		default:
			usage_error(usage, NULL);
		}
	}
	if (optind < argc)
		usage_error(usage, "unexpected operand: %s", argv[optind]);
	if (sources != 1)
		usage_error(usage, sources ?
		    "give only one of --script, --jq-file and --jq" :
		    "a reply source is required: --script, --jq-file or --jq");
	if (script_path != NULL)
		load_script(&m, script_path);
	else
		compile_program(&m, jq_file, jq_text);
	if (log_path != NULL && (m.log_fd = open(log_path, O_WRONLY | O_CREAT |
	    O_APPEND | O_CLOEXEC, 0644)) < 0)
		die(EXIT_TRANSIENT, "%s: %s", log_path, strerror(errno));
	setup_signals();
	run(&m, port, port_file, count);

	httpd_close(&m.server);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	if (m.log_fd >= 0)
		close(m.log_fd);
	jv_free(m.script);
	if (m.jq != NULL)
		jq_teardown(&m.jq);
	free(m.children);
	finish_stdout();
	return 0;
}
