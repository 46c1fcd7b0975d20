/*
 * llm-status: a one-line status on a terminal while something runs.
 * Draws TEXT (or, with --calls, the tools of a calls file) and the time it
 * has been waiting on standard error, redrawn in place, until it gets
 * SIGTERM, SIGINT or SIGHUP or its parent goes away; then erases the
 * line. Reads nothing, writes nothing on stdout. When standard error
 * is not a terminal it exits at once.
 *
 * For llm-loop it also writes, on stdout, the documents of a keep
 * directory that describe a run (llm-tools(7)): settings.json from
 * NAME=VALUE settings (--settings), summary.json from the files of the
 * run (--summary).
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "runfiles.h"
#include "status.h"
#include "term.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [--calls CALLS] [TEXT]\n"
	    "       %s --settings [-O FILE] [NAME=VALUE ...]\n"
	    "       %s --summary [-O FILE] DIR HOW STATUS STARTED [MODEL]\n",
	    progname, progname, progname);
	if (f == stdout)
		fputs("Show TEXT and the time waited on stderr, a terminal, until stopped.\n"
		    "      --calls CALLS  show the tools of the calls file CALLS\n"
		    "      --settings     write the settings.json of these settings\n"
		    "      --summary      write the summary.json of the run in DIR\n"
		    "  -O, --output FILE  write to FILE: all of it, or leave FILE be\n", f);
}

/* The options that have no letter: llm-loop's, rarely typed. */
enum { OPT_CALLS = 256, OPT_SETTINGS, OPT_SUMMARY };

static const struct option longopts[] = {
	{"calls", required_argument, NULL, OPT_CALLS},
	{"settings", no_argument, NULL, OPT_SETTINGS},
	{"summary", no_argument, NULL, OPT_SUMMARY},
	{"output", required_argument, NULL, 'O'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* "2 tools running: get_weather, search_products", from a calls file;
 * every name made safe for the terminal. */
static void
tools_text(struct buf *out, const char *path)
{
	jv calls = json_read_doc(path, "tool calls");
	int i, n;

	if (jv_get_kind(calls) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "tool calls (%s): not an array", path);
	n = jv_array_length(jv_copy(calls));
	buf_append_str(out, n == 1 ? "1 tool running: " : "");
	if (n != 1) {
		char count[32];

		snprintf(count, sizeof count, "%d tools running: ", n);
		buf_append_str(out, count);
	}
	for (i = 0; i < n; i++) {
		jv call = jv_array_get(jv_copy(calls), i);
		jv fn = json_get(call, "function");
		const char *name = json_get_str(fn, "name");

		if (i > 0)
			buf_append_str(out, ", ");
		if (name == NULL)
			buf_append_str(out, "?");
		else
			term_escape(out, name, strlen(name), 0);
		jv_free(fn);
		jv_free(call);
	}
	jv_free(calls);
}

/* Write a document of the run (consumed) on stdout as jq writes it. */
static int
write_doc(jv doc, int code)
{
	if (!jv_is_valid(doc)) {
		char *msg = json_invalid_message(doc);

		warnx("%s", msg);
		free(msg);
		return code;
	}
	jv_dumpf(doc, stdout, JV_PRINT_INDENT_FLAGS(2));
	putchar('\n');
	finish_stdout();
	return 0;
}

/* --summary DIR HOW STATUS STARTED [MODEL]: summary.json, ended now. */
static int
summary(char **args, int n)
{
	char ended[32], *end;
	time_t now = time(NULL);
	long status;

	if (n < 4 || n > 5)
		return -1;
	status = strtol(args[2], &end, 10);
	if (end == args[2] || *end != '\0' || status < 0 || status > 255)
		return -1;
	strftime(ended, sizeof ended, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	return write_doc(run_summary(args[0], args[1], (int)status, args[3],
	    ended, n == 5 ? args[4] : ""), EXIT_INPUT);
}

int
main(int argc, char *argv[])
{
	const char *calls = NULL, *output = NULL;
	struct buf text = {0};
	pid_t parent = getppid();
	int c, mode = 0, ret;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "hVO:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CALLS:
			calls = optarg;
			break;
		case OPT_SETTINGS:
		case OPT_SUMMARY:
			mode = c;
			break;
		case 'O':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", progname, LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (mode != 0 && calls == NULL) {
		if (output != NULL)
			output_to(output);
		ret = mode == OPT_SETTINGS ? write_doc(run_settings(argv + optind,
		    argc - optind), EXIT_USAGE) :
		    summary(argv + optind, argc - optind);
		if (ret < 0)
			usage(stderr);
		return ret < 0 ? EXIT_USAGE : ret;
	}
	if (mode != 0 || output != NULL || argc - optind > 1 ||
	    (calls != NULL) == (argc - optind == 1)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* Only a terminal gets a status, and only one that can stop it. */
	if (!isatty(STDERR_FILENO) || signal_ignored_at_start(SIGTERM))
		return 0;
	if (calls != NULL)
		tools_text(&text, calls);
	else
		term_escape(&text, argv[optind], strlen(argv[optind]), 0);
	status_run(text.data, parent);
	buf_free(&text);
	return 0;
}
