/*
 * tool-serve: serve a tools directory as a Model Context Protocol server.
 * JSON-RPC messages arrive one per line on stdin and answers leave one
 * per line on stdout (nothing else is written there; messages go to
 * stderr). Both protocol eras are spoken: the initialize handshake of
 * 2025-11-25 and older, and the per-request _meta of 2026-07-28
 * (server/discover). tools/list is the listing of tool-run --list;
 * tools/call runs the tool as tool-run runs it (lib/runner.c), several
 * at once; notifications/cancelled stops a call without an answer. At
 * the end of input every running tool is stopped and the server exits 0.
 * With --http, the same messages come as HTTP POSTs to /mcp
 * (lib/mcpfront.c), one per request, answered in the response; closing a
 * request cancels its call. The protocol lives in lib/mcpserve.c.
 */
#include <getopt.h>
#include <signal.h>

#include "common.h"
#include "jobs.h"
#include "mcpfront.h"
#include "mcpserve.h"
#include "runner.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DIR] [-T SECONDS] [-P JOBS] [-b BYTES] "
	    "[-L LIMIT=VALUE]...\n"
	    "                  [-e NAME]... [--umask MASK] [-B SANDBOX] "
	    "[-a NAMES] [-x NAMES]\n"
	    "                  [--http ADDRESS:PORT [-K TOKENFILE]]\n", progname);
	if (f == stdout)
		fputs("Serve the tools of a directory to MCP hosts: JSON-RPC "
		    "lines on stdin and\nstdout; each call runs as tool-run "
		    "runs it.\n"
		    "  -d, --dir DIR           the tools directory (default "
		    "$LLM_TOOLS_DIR, then\n"
		    "                          ~/.config/llm-tools/tools.d)\n"
		    "  -T, --tool-timeout SECONDS  time allowed to each call (30)\n"
		    "  -P, --jobs N            calls running at once (16)\n"
		    "  -b, --max-output BYTES  stdout kept of each tool (1 MiB)\n"
		    "  -L, --limit NAME=VALUE  cpu=60 as=8G fsize=1G "
		    "nofile=1024, or unlimited\n"
		    "  -e, --env NAME          pass variable NAME to the tools "
		    "(repeatable)\n"
		    "      --umask MASK        the umask of the tools (default: "
		    "tool-serve's)\n"
		    "  -B, --sandbox CMD       run each tool under CMD instead "
		    "of in its own\n"
		    "                          user and PID namespace; 'none': "
		    "neither;\n"
		    "                          'default': " RUNNER_DEFAULT_SANDBOX
		    "\n"
		    "  -a, --allow NAMES       serve only these tools' calls "
		    "(a,b,c)\n"
		    "  -x, --deny NAMES        never run these tools\n"
		    "      --http ADDRESS:PORT serve MCP over HTTP at "
		    "http://ADDRESS:PORT/mcp\n"
		    "                          instead of stdio (loopback; port 0: "
		    "a free one)\n"
		    "  -K, --token-file FILE   require the bearer token of FILE's "
		    "first line;\n"
		    "                          needed for an address other than "
		    "loopback\n", f);
}

/* The options that have no letter. */
enum { OPT_CONFIRM = 256, OPT_HTTP };

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"tool-timeout", required_argument, NULL, 'T'},
	{"jobs", required_argument, NULL, 'P'},
	{"max-output", required_argument, NULL, 'b'},
	{"limit", required_argument, NULL, 'L'},
	{"env", required_argument, NULL, 'e'},
	{"umask", required_argument, NULL, RUNNER_OPT_UMASK},
	{"sandbox", required_argument, NULL, 'B'},
	{"confirm", no_argument, NULL, OPT_CONFIRM},
	{"http", required_argument, NULL, OPT_HTTP},
	{"token-file", required_argument, NULL, 'K'},
	{"allow", required_argument, NULL, 'a'},
	{"deny", required_argument, NULL, 'x'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

static struct runner runner;

int
main(int argc, char *argv[])
{
	static const char *const own_env[] = {"LLM_TOOLS_DIR",
	    "LLM_TOOL_SANDBOX", "XDG_CONFIG_HOME", NULL};
	const char *http_spec = NULL, *token_file = NULL;
	int c;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	runner_init(&runner);
	while ((c = getopt_long(argc, argv, RUNNER_OPTIONS "K:hV", longopts,
	    NULL)) != -1) {
		if (runner_option(&runner, c, optarg))
			continue;
		switch (c) {
		case OPT_CONFIRM:
			die(EXIT_USAGE, "--confirm: the host asks the user before a "
			    "call; tool-serve has no terminal to ask on");
			break;
		case OPT_HTTP:
			http_spec = optarg;
			break;
		case 'K':
			token_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-serve " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (token_file != NULL && http_spec == NULL)
		die(EXIT_USAGE, "--token-file: only with --http");
	runner_setup(&runner, own_env);
	mcp_serve_init(&runner);
	if (http_spec != NULL)
		mcp_front_listen(http_spec, token_file);
	jobs_serve();
	mcp_serve_run();
	jobs_kill_leftovers();
	mcp_serve_free();
	runner_free(&runner);
	mcp_front_close();
	return 0;
}
