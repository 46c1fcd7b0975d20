/*
 * llm-status: a one-line status on a terminal while something runs.
 * Draws TEXT (or, with -c, the tools of a calls file) and the time it
 * has been waiting on standard error, redrawn in place, until it gets
 * SIGTERM, SIGINT or SIGHUP or its parent goes away; then erases the
 * line. Reads nothing, writes nothing on stdout. When standard error
 * is not a terminal it exits at once.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "term.h"

#define FIRST_DRAW 0.2  /* seconds: a short wait shows nothing */
#define REDRAW_MS 100

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-c CALLS] [TEXT]\n", progname);
	if (f == stdout)
		fputs("Show TEXT and the time waited on stderr, a terminal, until stopped.\n"
		    "  -c, --calls CALLS  show the tools of the calls file CALLS\n", f);
}

static const struct option longopts[] = {
	{"calls", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

static volatile sig_atomic_t drawn;

/* Erase the status line (async-signal-safe). */
static void
erase_line(void)
{
	if (drawn && write(STDERR_FILENO, "\r\033[K", 4) < 0)
		drawn = 0;
}

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

/* The bytes of text that fit in cols columns, a column a code point. */
static size_t
fit(const char *text, size_t len, size_t cols)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue;
		if (n++ == cols)
			return i;
	}
	return len;
}

static void
draw(const struct buf *text, double waited)
{
	struct winsize ws;
	struct buf line = {0};
	char tail[64];
	size_t cols = 80;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	buf_append_str(&line, "\r");
	buf_append(&line, text->data, text->len);
	snprintf(tail, sizeof tail, " \xc2\xb7 %.1f s", waited);
	buf_append_str(&line, tail);
	/* One column fewer than the terminal: the cursor never wraps. */
	line.len = 1 + fit(line.data + 1, line.len - 1, cols - 1);
	buf_append_str(&line, "\033[K");
	if (write(STDERR_FILENO, line.data, line.len) == (ssize_t)line.len)
		drawn = 1;
	buf_free(&line);
}

int
main(int argc, char *argv[])
{
	const char *calls = NULL;
	struct buf text = {0};
	pid_t parent = getppid();
	double start = now_seconds();
	int c;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			calls = optarg;
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
	if (argc - optind > 1 || (calls != NULL) == (argc - optind == 1)) {
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
	fatal_signals_cleanup(erase_line);
	while (getppid() == parent) {
		struct timespec ts = {0, REDRAW_MS * 1000000L};
		double waited = now_seconds() - start;

		if (waited >= FIRST_DRAW)
			draw(&text, waited);
		nanosleep(&ts, NULL);
	}
	erase_line();
	buf_free(&text);
	return 0;
}
