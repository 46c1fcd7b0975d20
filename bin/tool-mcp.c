/*
 * tool-mcp: the tools of Model Context Protocol servers as tools of a
 * tools directory. Run by tool-run as the executable of every MCP tool:
 * the arguments (a JSON object) on stdin, the tool's name in $TOOL_NAME,
 * the result's text on stdout; exit 1 when the server says the call
 * failed. With -l, write the function objects of every server's tools.
 * With --hold DIR, be the holder: the one process that starts the servers of
 * the configuration (mcp.json), keeps them for its lifetime, and serves
 * listings and calls on the Unix socket DIR/mcp.sock, one JSON request
 * per connection (lib/mcphold.c). Without $LLM_MCP_SOCKET a listing or a
 * call starts a holder of its own for its lifetime (lib/mcphost.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "mcphold.h"
#include "mcphost.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-v] [-M FILE]... [-d DIR] [-B SANDBOX]\n"
	    "       %s -l [-v] [--routes] [-M FILE]... [-d DIR] [-B SANDBOX]\n"
	    "       %s --hold DIR [--remove-dir] [-v] [--idle SECONDS] "
	    "[-M FILE]... [-d DIR]\n"
	    "                [-B SANDBOX]\n",
	    progname, progname, progname);
	if (f == stdout)
		fputs("Call a tool of an MCP server: arguments on stdin, the name in\n"
		    "$TOOL_NAME, the result on stdout.\n"
		    "  -l, --list              write the function objects of every server's tools\n"
		    "      --routes            with -l: add each tool's server, name, annotations\n"
		    "      --hold DIR          keep the servers, serve DIR/mcp.sock\n"
		    "      --idle SECONDS      with --hold: exit after this long unused (600)\n"
		    "      --remove-dir        with --hold: DIR is the holder's alone; remove it,\n"
		    "                          its socket and the servers' logs at the end\n"
		    "  -M, --mcp-config FILE   the servers (repeatable; default $LLM_MCP_CONFIG,\n"
		    "                          else DIR/mcp.json)\n"
		    "  -d, --dir DIR           the tools directory holding mcp.json\n"
		    "  -B, --sandbox CMD       start each stdio server under CMD ('default',\n"
		    "                          'none'); a server's \"sandbox\" overrides it\n"
		    "  -v, --verbose           show the servers' progress notifications\n", f);
}

/* The options that have no letter. */
enum { OPT_ROUTES = 256, OPT_HOLD, OPT_IDLE, OPT_REMOVE_DIR };

static const struct option longopts[] = {
	{"list", no_argument, NULL, 'l'},
	{"routes", no_argument, NULL, OPT_ROUTES},
	{"hold", required_argument, NULL, OPT_HOLD},
	{"idle", required_argument, NULL, OPT_IDLE},
	{"remove-dir", no_argument, NULL, OPT_REMOVE_DIR},
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

static void
on_stop(int sig)
{
	if (host.holder > 0)
		kill(host.holder, SIGTERM);
	signal_exit(sig);
}

/* Ask a holder (the one at $LLM_MCP_SOCKET, else one of our own) req
 * (consumed); its answer. */
static jv
ask(const char *self, jv req)
{
	mcp_host_start(&host, self);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	return mcp_host_ask(&host, req);
}

/* -l: the function objects of every server's tools on stdout, with
 * routes their "mcp" too; the servers' warnings on stderr. */
static jv
list_tools(const char *self, int routes)
{
	jv answer = ask(self, JV_OBJECT(jv_string("op"), jv_string("list")));
	jv w = json_get(answer, "warnings");

	if (jv_get_kind(w) == JV_KIND_ARRAY)
		jv_array_foreach(w, i, m) {
			warnx("%s", jv_string_value(m));
			jv_free(m);
		}
	jv_free(w);
	json_write_stdout(routes ? mcp_host_routed_tools(answer) :
	    json_get(answer, "tools"));
	return answer;
}

/* Call the tool $TOOL_NAME with the arguments on stdin: its result on
 * stdout, or why it failed on stderr; the exit code in *code. */
static jv
call_tool(const char *self, int *code)
{
	const char *name = getenv("TOOL_NAME");
	struct buf in = {0};
	jv args, out, answer;

	if (name == NULL || *name == '\0')
		die(EXIT_INPUT, "TOOL_NAME: not set");
	if (read_fd_all(0, &in, JSON_INPUT_MAX) != 0)
		die(EXIT_INPUT, "arguments: %s", strerror(errno));
	args = json_parse(in.data ? in.data : "", in.len);
	buf_free(&in);
	if (jv_get_kind(args) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "arguments: not a JSON object");
	answer = ask(self, JV_OBJECT(jv_string("op"), jv_string("call"),
	    jv_string("name"), jv_string(name), jv_string("arguments"),
	    args));
	out = json_get(answer, "output");
	*code = (int)jv_number_value(json_get(answer, "exit"));
	if (jv_get_kind(out) == JV_KIND_STRING) {
		if (*code == 0 || *code == 1)
			printf("%s\n", jv_string_value(out));
		else
			warnx("%s", jv_string_value(out));
	}
	jv_free(out);
	return answer;
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
		case OPT_REMOVE_DIR:
			host.remove_dir = 1;
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
			host.verbose = 1;
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
		mcp_hold(&host, hold_at, idle);
	self = mcp_host_program();
	answer = list ? list_tools(self, routes) : call_tool(self, &code);
	jv_free(answer);
	mcp_host_stop(&host);
	free(self);
	finish_stdout();
	return code;
}
