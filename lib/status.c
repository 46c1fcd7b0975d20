/* The status line of a waiting program: see status.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "status.h"
#include "term.h"

#define FIRST_DRAW 0.2  /* seconds: a short wait shows nothing */
#define REDRAW_MS 100

static volatile sig_atomic_t drawn;

/* Erase the status line (async-signal-safe). */
static void
erase_line(void)
{
	if (drawn && write(STDERR_FILENO, "\r\033[K", 4) == 4)
		drawn = 0;
}

/* Erase the line, then end by the signal that stopped it. */
static void
on_stop(int sig)
{
	erase_line();
	signal_exit(sig);
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
draw(const char *text, double waited)
{
	struct winsize ws;
	struct buf line = {0};
	char tail[64];
	size_t cols = 80;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	buf_append_str(&line, "\r");
	buf_append_str(&line, text);
	snprintf(tail, sizeof tail, " \xc2\xb7 %.1f s", waited);
	buf_append_str(&line, tail);
	/* One column fewer than the terminal: the cursor never wraps. */
	line.len = 1 + fit(line.data + 1, line.len - 1, cols - 1);
	buf_append_str(&line, "\033[K");
	/* Marked first: a signal between the two still erases. */
	drawn = 1;
	if (write(STDERR_FILENO, line.data, line.len) < 0)
		drawn = 0;
	buf_free(&line);
}

void
status_run(const char *text, pid_t parent)
{
	double start = now_seconds();

	fatal_signals_catch(on_stop);
	while (getppid() == parent) {
		struct timespec ts = {0, REDRAW_MS * 1000000L};
		double waited = now_seconds() - start;

		if (waited >= FIRST_DRAW)
			draw(text, waited);
		nanosleep(&ts, NULL);
	}
	erase_line();
}

pid_t
status_start(const char *text)
{
	struct buf safe = {0};
	pid_t parent = getpid(), pid;

	if (!isatty(STDERR_FILENO) || signal_ignored_at_start(SIGTERM))
		return -1;
	term_escape(&safe, text, strlen(text), 0);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		status_run(safe.data, parent);
		_exit(0);
	}
	buf_free(&safe);
	return pid < 0 ? -1 : pid;
}

void
status_stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
}
