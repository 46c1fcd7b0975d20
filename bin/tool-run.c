/*
 * tool-run: run the tool calls of a JSON array (FILE or stdin, as written
 * by tool-extract) as executables from a tools directory, at the same
 * time, and write a JSON array of tool messages {"role":"tool",
 * "tool_call_id","content"} in call order. The calls are untrusted input:
 * names are looked up, never joined into paths; arguments are checked
 * against the tool's schema before anything runs; tools run without a
 * shell, without secrets, each in namespaces of its own (no process of
 * the run is visible to it), bounded in time, output and resources. Every
 * call gets a result: a failure becomes content {"error":"..."} that the
 * model can read. With --list, write the "tools" array of a request for
 * every tool in the directory instead; with --new, write a new tool and
 * its sidecar into it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "jobs.h"
#include "json.h"
#include "mcphost.h"
#include "runner.h"
#include "term.h"
#include "toolsdir.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-Av] [-d DIR] [-T SECONDS] [-P JOBS] "
	    "[-b BYTES] [-L LIMIT=VALUE]...\n"
	    "                [-e NAME]... [-B SANDBOX] [-a NAMES] [-x NAMES] "
	    "[--dry-run]\n"
	    "                [--umask MASK] [--journal JOURNAL] [-M FILE]... "
	    "[-O FILE] [FILE]\n"
	    "       %s [-d DIR] [-M FILE]... [-O FILE] -l\n"
	    "       %s [-d DIR] --new NAME [SIGNATURE]\n", progname, progname,
	    progname);
	if (f == stdout)
		fputs("Run the tool calls of a JSON array (from tool-extract) and write\n"
		    "their results as tool messages, in call order.\n"
		    "  -d, --dir DIR           the tools directory (default $LLM_TOOLS_DIR,\n"
		    "                          then ~/.config/llm-tools/tools.d)\n"
		    "  -T, --tool-timeout SECONDS  time allowed to each call (30)\n"
		    "  -P, --jobs N            calls running at once (16)\n"
		    "  -b, --max-output BYTES  stdout kept of each tool (1 MiB)\n"
		    "  -L, --limit NAME=VALUE  cpu=60 as=8G fsize=1G nofile=1024, or unlimited\n"
		    "  -e, --env NAME          pass variable NAME to the tools (repeatable)\n"
		    "      --umask MASK        the umask of the tools (default: tool-run's)\n"
		    "  -B, --sandbox CMD       run each tool under CMD instead of in its own\n"
		    "                          user and PID namespace; 'none': neither;\n"
		    "                          'default': " RUNNER_DEFAULT_SANDBOX "\n"
		    "  -A, --confirm           ask on /dev/tty before each call\n"
		    "  -a, --allow NAMES       run these tools without asking (a,b,c)\n"
		    "  -x, --deny NAMES        never run these tools\n"
		    "      --dry-run           run nothing, say what would run\n"
		    "      --journal FILE      record each call as it starts and ends;\n"
		    "                          calls already there are not run again\n"
		    "  -v, --verbose           show each call and its result on stderr\n"
		    "  -M, --mcp-config FILE   MCP servers whose tools are tools too (repeatable;\n"
		    "                          default $LLM_MCP_CONFIG, else DIR/mcp.json)\n"
		    "  -l, --list              write the tools array of DIR's tools\n"
		    "  -O, --output FILE       write to FILE: all of it, or leave FILE be\n"
		    "      --new NAME          write a new sh tool NAME and its sidecar into\n"
		    "                          DIR from SIGNATURE 'text:string, n:integer? ...'\n", f);
}

/* The options that have no letter. */
enum { OPT_DRY_RUN = 256, OPT_JOURNAL, OPT_NEW };

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"mcp-config", required_argument, NULL, 'M'},
	{"output", required_argument, NULL, 'O'},
	{"tool-timeout", required_argument, NULL, 'T'},
	{"jobs", required_argument, NULL, 'P'},
	{"max-output", required_argument, NULL, 'b'},
	{"limit", required_argument, NULL, 'L'},
	{"env", required_argument, NULL, 'e'},
	{"umask", required_argument, NULL, RUNNER_OPT_UMASK},
	{"sandbox", required_argument, NULL, 'B'},
	{"confirm", no_argument, NULL, 'A'},
	{"allow", required_argument, NULL, 'a'},
	{"deny", required_argument, NULL, 'x'},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"journal", required_argument, NULL, OPT_JOURNAL},
	{"verbose", no_argument, NULL, 'v'},
	{"list", no_argument, NULL, 'l'},
	{"new", required_argument, NULL, OPT_NEW},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* How calls are let through: lists and asking. */
struct gate {
	int confirm, dry_run;
	FILE *tty;                 /* for --confirm; NULL when there is none */
};

static struct runner runner;

/* The MCP servers of the run: their holder, and its listing
 * {"tools", "routes"} once asked (null before). */
static struct mcp_host mcp;
static jv mcp_answer;

/* The function objects of the MCP servers' tools that no executable
 * shadows (each shadowed one said once). Asks the holder the first time:
 * the routes go to the runner, the schemas (inputSchema as it came) to
 * its schema cache. */
static jv
mcp_tools(void)
{
	jv tools, routes, out = jv_array();

	if (jv_get_kind(mcp_answer) == JV_KIND_NULL) {
		if (runner.mcp_program == NULL)
			return out;
		mcp_answer = mcp_host_ask(&mcp, JV_OBJECT(jv_string("op"),
		    jv_string("list")));
		tools = json_get(mcp_answer, "warnings");
		if (jv_get_kind(tools) == JV_KIND_ARRAY)
			jv_array_foreach(tools, k, w) {
				warnx("%s", jv_string_value(w));
				jv_free(w);
			}
		jv_free(tools);
		routes = json_get(mcp_answer, "routes");
		if (jv_get_kind(routes) != JV_KIND_OBJECT) {
			jv_free(routes);
			routes = jv_object();
		}
		jv_free(runner.mcp_routes);
		runner.mcp_routes = jv_copy(routes);
		tools = json_get(mcp_answer, "tools");
		if (jv_get_kind(tools) == JV_KIND_ARRAY)
			jv_array_foreach(tools, k, t) {
				jv fn = json_get(t, "function");
				const char *name = json_get_str(fn, "name");
				jv route = jv_object_get(jv_copy(routes),
				    jv_string(name != NULL ? name : ""));
				jv schema = json_get(route, "inputSchema");
				if (name == NULL) {
					jv_free(schema);
				} else if (toolsdir_is_tool(runner.dir, name)) {
					warnx("MCP tool %s: the executable %s/%s of "
					    "the same name is used instead", name,
					    runner.dir, name);
					jv_free(schema);
				} else {
					runner.schemas = jv_object_set(
					    runner.schemas, jv_string(name),
					    jv_get_kind(schema) == JV_KIND_OBJECT ?
					    schema : (jv_free(schema),
					    json_get(fn, "parameters")));
				}
				jv_free(route);
				jv_free(fn);
				jv_free(t);
			}
		jv_free(tools);
		jv_free(routes);
	}
	tools = json_get(mcp_answer, "tools");
	if (jv_get_kind(tools) == JV_KIND_ARRAY)
		jv_array_foreach(tools, k, t) {
			jv fn = json_get(t, "function");
			const char *name = json_get_str(fn, "name");
			if (name != NULL && !toolsdir_is_tool(runner.dir, name))
				out = jv_array_append(out, jv_copy(t));
			jv_free(fn);
			jv_free(t);
		}
	jv_free(tools);
	return out;
}

/* Stop the holder started here, with its servers. */
static void
mcp_stop(void)
{
	mcp_host_stop(&mcp);
	jv_free(mcp_answer);
	free((char *)runner.mcp_program);
	runner.mcp_program = NULL;
}

/* For the question of --confirm about an MCP tool: " (MCP server:tool;
 * annotations say ..., unverified)", or "" for an executable. malloc'd. */
static char *
mcp_note(const struct job *job)
{
	static const char *hints[][2] = {{"readOnlyHint", "read-only"},
	    {"destructiveHint", "destructive"}, {"idempotentHint",
	    "idempotent"}, {"openWorldHint", "open world"}};
	jv route, ann, note;
	struct buf b = {0};
	size_t i;
	int said = 0;

	if (!runner_is_mcp(&runner, job) ||
	    jv_get_kind(runner.mcp_routes) != JV_KIND_OBJECT)
		return xstrdup("");
	route = jv_object_get(jv_copy(runner.mcp_routes),
	    jv_string(job->name));
	ann = json_get(route, "annotations");
	note = jv_string_fmt(" (MCP %s:%s", json_get_str(route, "server"),
	    json_get_str(route, "tool"));
	for (i = 0; i < sizeof hints / sizeof *hints; i++) {
		jv v = json_get(ann, hints[i][0]);
		if (jv_get_kind(v) == JV_KIND_TRUE) {
			note = jv_string_append_str(note, said++ ? ", " :
			    "; annotations say ");
			note = jv_string_append_str(note, hints[i][1]);
		}
		jv_free(v);
	}
	note = jv_string_append_str(note, said ? ", unverified)" : ")");
	/* The tool's name is the server's: no escapes through. */
	term_escape(&b, jv_string_value(note),
	    (size_t)jv_string_length_bytes(jv_copy(note)), 0);
	buf_append(&b, "", 1);
	jv_free(note);
	jv_free(ann);
	jv_free(route);
	return b.data;
}

static jv
error_content(jv message)
{
	return jv_dump_string(JV_OBJECT(jv_string("error"), message), 0);
}

/* What the model reads as the result of a finished job. */
static jv
job_content(const struct job *job)
{
	int failed;
	jv content = runner_outcome(&runner, job, &failed);

	return failed ? error_content(content) : content;
}

/* Ask on the terminal whether to run a call: what was typed before the
 * question is dropped, the whole answer line is read, and only "y" or
 * "yes" runs it. No terminal: no. */
static int
ask(struct gate *g, const struct job *job)
{
	char *line = NULL, *note;
	size_t cap = 0;
	ssize_t n;
	int yes;

	if (g->tty == NULL)
		return 0;
	tcflush(fileno(g->tty), TCIFLUSH);
	fprintf(g->tty, "%s: run %s ", progname, job->name);
	term_write(g->tty, job->input, job->input_len, 0);
	note = mcp_note(job);
	fprintf(g->tty, "%s? [y/N] ", note);
	free(note);
	fflush(g->tty);
	n = getline(&line, &cap, g->tty);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	yes = n > 0 && (strcasecmp(line, "y") == 0 ||
	    strcasecmp(line, "yes") == 0);
	free(line);
	return yes;
}

/* Why a dry run or the user's answer keeps a call from running, or
 * jv_invalid(). */
static jv
gate_ask(struct gate *g, const struct job *job)
{
	if (g->dry_run) {
		warnx("dry run: would run %s %s", job->path, job->input);
		return jv_string_fmt("not run: this was a dry run; %s was "
		    "not executed", job->name);
	}
	if (runner_allowed(&runner, job->name))
		return jv_invalid();
	if (g->confirm)
		return ask(g, job) ? jv_invalid() : jv_string_fmt(
		    "declined by the user: the call to %s was not run",
		    job->name);
	return jv_invalid();
}

/* The id of call i, whole (after a NUL byte too). */
static jv
call_id(jv calls, size_t i)
{
	jv call = jv_array_get(jv_copy(calls), (int)i);
	jv id = json_get(call, "id");

	jv_free(call);
	return id;
}

static int
call_id_has_nul(jv call)
{
	jv id = json_get(call, "id");
	int has = json_string_has_nul(id);

	jv_free(id);
	return has;
}

/* The journal of a run: one JSON line per event, {"started": ID} before
 * a call runs and its tool message once it is done, each with "time"
 * (seconds since the epoch, to the millisecond), written whole and synced, so that a run killed at any moment can be resumed without
 * running any call twice. */
struct journal {
	int fd;
	int verbose;
	jv done;        /* id -> content, from an earlier run */
	jv started;     /* id -> true */
};

static void
journal_write(struct journal *j, jv line)
{
	struct timespec now;
	char *text;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	line = jv_object_set(line, jv_string("time"), jv_number((double)
	    (now.tv_sec * 1000 + now.tv_nsec / 1000000) / 1000));
	text = json_dump(line);
	n = strlen(text);

	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	if (j->fd >= 0 && (write(j->fd, text, n) != (ssize_t)n ||
	    fsync(j->fd) != 0))
		die(EXIT_TRANSIENT, "journal: %s", strerror(errno));
	free(text);
}

/* Read what an earlier run recorded; a torn last line is ignored. */
static void
journal_open(struct journal *j, const char *path)
{
	struct buf b = {0};
	struct stat st;
	char *line, *next;

	j->done = jv_object();
	j->started = jv_object();
	j->fd = -1;
	if (path == NULL)
		return;
	/* Never through a planted link, never a file others may touch. */
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (j->fd < 0 && errno == ELOOP)
		die(EXIT_INPUT, "journal %s: a symbolic link; refused (the "
		    "journal is written only as a file of its own)", path);
	if (j->fd < 0)
		die(EXIT_INPUT, "journal %s: %s", path, strerror(errno));
	if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode))
		die(EXIT_INPUT, "journal %s: not a regular file; refused", path);
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		die(EXIT_INPUT, "journal %s: %s; refused (fix: chmod 600 %s, "
		    "or remove it)", path, st.st_uid != geteuid() ?
		    "owned by another user" : "writable by others", path);
	if (read_fd_all(j->fd, &b, JSON_INPUT_MAX) != 0)
		die(EXIT_INPUT, "journal %s: %s", path, strerror(errno));
	for (line = b.data; line != NULL && *line != '\0'; line = next) {
		jv v;
		const char *id;

		next = strchr(line, '\n');
		if (next == NULL)
			break;  /* torn: it never got its newline */
		*next++ = '\0';
		v = json_parse(line, strlen(line));
		if ((id = json_get_str(v, "started")) != NULL)
			j->started = jv_object_set(j->started, jv_string(id),
			    jv_true());
		else if ((id = json_get_str(v, "tool_call_id")) != NULL)
			j->done = jv_object_set(j->done, jv_string(id),
			    json_get(v, "content"));
		jv_free(v);
	}
	buf_free(&b);
}

/* A short one-line rendering of text for --verbose, made safe for a
 * terminal, cut on a character boundary. */
static void
show(const char *arrow, const char *name, const char *text, size_t len)
{
	size_t n = len;

	if (n > 200) {
		n = 200;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	fprintf(stderr, "%s ", arrow);
	term_write(stderr, name, strlen(name), 0);
	fputc(' ', stderr);
	term_write(stderr, text, n, 0);
	fprintf(stderr, "%s\n", n < len ? "..." : "");
}

static void
on_job_start(struct job *job, void *ctx)
{
	struct journal *j = ctx;

	if (j->verbose)
		show("->", job->name, job->input, job->input_len);
	journal_write(j, JV_OBJECT(jv_string("started"), jv_string(job->id)));
}

static void
on_job_done(struct job *job, void *ctx)
{
	struct journal *j = ctx;
	jv content = job_content(job);

	if (j->verbose)
		show("<-", job->name, jv_string_value(content),
		    (size_t)jv_string_length_bytes(jv_copy(content)));
	journal_write(j, JV_OBJECT(jv_string("role"), jv_string("tool"),
	    jv_string("tool_call_id"), jv_string(job->id),
	    jv_string("content"), content));
}

/* The answer a call gets without running, or an invalid jv if it is to
 * run: an id answered or started by an earlier run (the journal), a
 * refused name, arguments that break the schema, a user who says no. */
static jv
prepare_call(struct job *job, jv call, size_t i, struct gate *gate,
    struct journal *journal)
{
	const char *name;
	jv early, fn;

	job->id = json_get_str(call, "id");
	if (job->id == NULL || *job->id == '\0')
		die(EXIT_INPUT, "tool call %zu has no id", i);
	if (call_id_has_nul(call)) {
		/* The journal and the tool see ids as C strings. */
		job->name = "?";
		return error_content(jv_string("the call id holds a NUL "
		    "byte; tool calls are answered by id, so it was not run"));
	}
	if (jv_object_has(jv_copy(journal->done), jv_string(job->id))) {
		/* Answered by an earlier run: the answer stands. */
		job->name = "?";
		return jv_object_get(jv_copy(journal->done),
		    jv_string(job->id));
	}
	if (jv_object_has(jv_copy(journal->started), jv_string(job->id))) {
		job->name = "?";
		return error_content(jv_string("interrupted: this call was "
		    "started but its result was lost; it was not run again, "
		    "so that no call runs twice"));
	}
	/* The cheap checks and the user's lists first: a denied tool is
	 * not even asked for its schema. */
	fn = json_get(call, "function");
	name = json_get_str(fn, "name");
	/* The servers are asked for their tools once a call names no
	 * executable. */
	if (name != NULL && runner_unknown(&runner, name))
		jv_free(mcp_tools());
	early = runner_prepare(&runner, job, fn, !gate->dry_run);
	jv_free(fn);
	if (!jv_is_valid(early))
		early = gate_ask(gate, job);
	if (!jv_is_valid(early))
		return early;
	if (journal->verbose)
		show("x>", valid_tool_name(job->name) ? job->name : "?",
		    jv_string_value(early), strlen(jv_string_value(early)));
	return error_content(early);
}

/* The results as tool messages, in call order; the jobs are done with. */
static void
write_results(jv calls, struct job *jobs, jv *early, size_t n)
{
	jv results = jv_array();
	size_t i;

	for (i = 0; i < n; i++) {
		jv content = jv_is_valid(early[i]) ? early[i] :
		    job_content(&jobs[i]);
		results = jv_array_append(results, JV_OBJECT(
		    jv_string("role"), jv_string("tool"),
		    jv_string("tool_call_id"), call_id(calls, i),
		    jv_string("content"), content));
		free((char *)jobs[i].input);
		job_free(&jobs[i]);
	}
	json_write_stdout(results);
}

/* --list: the tools array of the directory's tools and the servers'. */
static void
write_list(void)
{
	jv fns = runner_list(&runner, 0), tools = jv_array();

	jv_array_foreach(fns, k, fn)
		tools = jv_array_append(tools, JV_OBJECT(
		    jv_string("type"), jv_string("function"),
		    jv_string("function"), fn));
	jv_free(fns);
	tools = jv_array_concat(tools, mcp_tools());
	json_write_stdout(tools);
	mcp_stop();
	runner_free(&runner);
	finish_stdout();
}

/* What the options ask for besides the runner's and the gate's. */
struct options {
	const char *journal, *output, *new_tool;
	int list;
};

/* Parse the options into o, the runner, the gate and the journal;
 * exits on --help, --version and a usage error. */
static void
parse_options(int argc, char *argv[], struct options *o, struct gate *gate,
    struct journal *journal)
{
	int c;

	while ((c = getopt_long(argc, argv, RUNNER_OPTIONS "AvlM:hVO:",
	    longopts, NULL)) != -1) {
		if (runner_option(&runner, c, optarg))
			continue;
		switch (c) {
		case 'O':
			o->output = optarg;
			break;
		case 'A':
			gate->confirm = runner.confirm = 1;
			break;
		case OPT_DRY_RUN:
			gate->dry_run = 1;
			break;
		case OPT_JOURNAL:
			o->journal = optarg;
			break;
		case 'v':
			journal->verbose = 1;
			break;
		case 'l':
			o->list = 1;
			break;
		case 'M':
			if (mcp.nconfigs == MCP_HOST_CONFIGS)
				die(EXIT_USAGE, "-M: at most %d files",
				    MCP_HOST_CONFIGS);
			mcp.configs[mcp.nconfigs++] = optarg;
			break;
		case OPT_NEW:
			o->new_tool = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			puts("tool-run " LLM_TOOLS_VERSION);
			exit(0);
		default:
			usage_error(usage, NULL);
		}
	}
	if (argc - optind > 1 || (o->list && argc - optind > 0) ||
	    (o->list && o->new_tool != NULL))
		usage_error(usage, NULL);
}

/* The MCP servers of the run, when it has any: one holder keeps them
 * for every call, which reaches it through the socket. It starts before
 * the secrets go: ${VAR} in its configuration may name one (it keeps
 * what it expands and then drops the rest). */
static void
start_mcp(int verbose)
{
	mcp_answer = jv_null();
	mcp.dir = runner.dir_option;
	mcp.sandbox = runner.sandbox;
	if ((mcp.set_umask = runner.policy.umask >= 0))
		mcp.umask = (mode_t)runner.policy.umask;
	mcp.verbose = verbose;
	if (!mcp_host_configured(&mcp))
		return;
	runner.mcp_program = mcp_host_program();
	mcp_host_start(&mcp, runner.mcp_program);
	jobs_spare(mcp.holder);
	runner_option(&runner, 'e', "LLM_MCP_SOCKET");
}

/* Run the calls (an array, consumed) and write their results. */
static void
run_calls(jv calls, struct gate *gate, struct journal *journal)
{
	struct job *jobs;
	jv *early;
	size_t i, n;

	n = (size_t)jv_array_length(jv_copy(calls));
	jobs = xmalloc((n + 1) * sizeof *jobs);
	early = xmalloc((n + 1) * sizeof *early);
	memset(jobs, 0, (n + 1) * sizeof *jobs);
	runner.policy.on_start = on_job_start;
	runner.policy.on_done = on_job_done;
	runner.policy.ctx = journal;
	if (gate->confirm)
		gate->tty = fopen("/dev/tty", "r+e");
	for (i = 0; i < n; i++) {
		jv call = jv_array_get(jv_copy(calls), (int)i);
		early[i] = prepare_call(&jobs[i], call, i, gate, journal);
		jobs[i].skip = jv_is_valid(early[i]);
		jv_free(call);
	}
	if (gate->tty != NULL)
		fclose(gate->tty);
	jobs_run(jobs, n, &runner.policy);
	write_results(calls, jobs, early, n);
	free(jobs);
	free(early);
	jv_free(calls);
}

int
main(int argc, char *argv[])
{
	static const char *const own_env[] = {"LLM_TOOLS_DIR",
	    "LLM_TOOL_SANDBOX", "XDG_CONFIG_HOME", NULL};
	struct options o = {0};
	struct journal journal = {0};
	struct gate gate = {0};
	jv calls;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	runner_init(&runner);
	parse_options(argc, argv, &o, &gate, &journal);
	if (o.new_tool != NULL) {
		runner_new_tool(&runner, o.new_tool, argv[optind]);
		runner_free(&runner);
		return 0;
	}
	start_mcp(journal.verbose);
	runner_setup(&runner, own_env);
	if (o.output != NULL) {
		output_to(o.output);
		jobs_init();
	}
	if (o.list) {
		write_list();
		return 0;
	}
	calls = json_read_doc(argv[optind], "tool calls");
	if (jv_get_kind(calls) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "tool calls: %s, not an array",
		    json_kind_name(calls));
	journal_open(&journal, o.journal);
	run_calls(calls, &gate, &journal);
	mcp_stop();
	runner_free(&runner);
	jv_free(journal.done);
	jv_free(journal.started);
	if (journal.fd >= 0)
		close(journal.fd);
	finish_stdout();
	return 0;
}
