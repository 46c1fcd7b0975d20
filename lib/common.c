/* Messages, buffers, numbers: the small helpers every program uses. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "term.h"

/* The umask, read without changing it for long. */
static mode_t
current_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

const char *progname = "llm-tools";

void
set_progname(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

/* One message line on stderr: what it quotes from outside (a server's
 * message, a file name, a tool's words) cannot drive the terminal or
 * start a line of its own. */
static void
vwarn(const char *fmt, va_list ap, int errnum)
{
	struct buf line = {0}, shown = {0};

	buf_vprintf(&line, fmt, ap);
	if (errnum) {
		buf_append_str(&line, ": ");
		buf_append_str(&line, strerror(errnum));
	}
	term_escape(&shown, line.data, line.len, 0);
	fprintf(stderr, "%s: %s\n", progname, shown.data);
	buf_free(&line);
	buf_free(&shown);
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap, 0);
	va_end(ap);
}

void
warnx_errno(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vwarn(fmt, ap, saved);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void
usage_error(void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarn(fmt, ap, 0);
		va_end(ap);
	}
	usage(stderr);
	exit(EXIT_USAGE);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		die(EXIT_TRANSIENT, "out of memory");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 4096;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *data, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	buf_grow(b, n > 0 ? (size_t)n : 0);
	if (n > 0)
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += n > 0 ? (size_t)n : 0;
	b->data[b->len] = '\0';
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
read_fd_all(int fd, struct buf *b, size_t max)
{
	ssize_t n;

	buf_grow(b, 0);
	for (;;) {
		buf_grow(b, 65536);
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
		if (b->len > max)
			return -2;
	}
	b->data[b->len] = '\0';
	return 0;
}

const char *
file_name(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0 ? "standard input" :
	    path;
}

int
read_file(const char *path, size_t max, struct buf *b, char *why)
{
	int fd = STDIN_FILENO, rc;

	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, READ_WHY_MAX, "%s", strerror(errno));
		return -1;
	}
	rc = read_fd_all(fd, b, max);
	if (rc == -1)
		snprintf(why, READ_WHY_MAX, "%s", strerror(errno));
	else if (rc == -2)
		snprintf(why, READ_WHY_MAX, "larger than %zu bytes", max);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc == 0 ? 0 : -1;
}

void
read_file_or_die(const char *path, size_t max, struct buf *b, int code)
{
	char why[READ_WHY_MAX];

	if (read_file(path, max, b, why) < 0)
		die(code, "%s: %s", file_name(path), why);
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 ||
	    v > 1e9)
		return -1;
	*out = v;
	return 0;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
valid_tool_name(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
		if (n >= 64)
			return 0;
	}
	return n >= 1;
}

/* The fatal signals and how each was disposed of when the program
 * started: 1 when ignored (nohup, a background job of a shell). */
static const int fatal_signals[] = {SIGHUP, SIGINT, SIGTERM};
static signed char ignored_at_start[3] = {-1, -1, -1};
static void (*fatal_cleanups[4])(void);
static volatile sig_atomic_t fatal_cleanup_count;

int
signal_ignored_at_start(int sig)
{
	struct sigaction old;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (fatal_signals[i] != sig)
			continue;
		if (ignored_at_start[i] < 0) {
			sigaction(sig, NULL, &old);
			ignored_at_start[i] = !(old.sa_flags & SA_SIGINFO) &&
			    old.sa_handler == SIG_IGN;
		}
		return ignored_at_start[i];
	}
	return 0;
}

void
fatal_signals_catch(void (*handler)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaddset(&sa.sa_mask, fatal_signals[i]);
	for (i = 0; i < 3; i++)
		if (!signal_ignored_at_start(fatal_signals[i]))
			sigaction(fatal_signals[i], &sa, NULL);
}

void
signal_exit(int sig)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

void
fatal_signal_exit(int sig)
{
	int i;

	for (i = fatal_cleanup_count - 1; i >= 0; i--)
		fatal_cleanups[i]();
	signal_exit(sig);
}

void
fatal_signals_cleanup(void (*fn)(void))
{
	if (fatal_cleanup_count < 4)
		fatal_cleanups[fatal_cleanup_count++] = fn;
	fatal_signals_catch(fatal_signal_exit);
}

static char *output_path, *output_tmp;

void
output_abandon(void)
{
	if (output_tmp != NULL)
		unlink(output_tmp);
}

void
output_to(const char *path)
{
	size_t n = strlen(path);
	struct stat old;
	int fd;

	output_path = xstrdup(path);
	/* path.ABCDEF: mkostemp wants six X to replace. */
	output_tmp = xmalloc(n + 8);
	memcpy(output_tmp, path, n);
	output_tmp[n] = '.';
	memset(output_tmp + n + 1, 'X', 6);
	output_tmp[n + 7] = '\0';
	if ((fd = mkostemp(output_tmp, O_CLOEXEC)) < 0) {
		free(output_tmp);
		output_tmp = NULL;
		die(EXIT_INPUT, "%s: %s", path, strerror(errno));
	}
	/* The file it replaces keeps its mode: a private file stays so. */
	if (stat(path, &old) == 0 && S_ISREG(old.st_mode))
		fchmod(fd, old.st_mode & 0777);
	else
		fchmod(fd, 0644 & ~current_umask());
	if (dup2(fd, STDOUT_FILENO) < 0)
		die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
	close(fd);
	atexit(output_abandon);
	fatal_signals_cleanup(output_abandon);
}

void
finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0)
		die(EXIT_TRANSIENT, "write error on %s: %s", output_path ?
		    output_path : "standard output", strerror(errno ? errno : EIO));
	if (output_tmp != NULL) {
		if (rename(output_tmp, output_path) != 0)
			die(EXIT_TRANSIENT, "%s: %s", output_path,
			    strerror(errno));
		free(output_tmp);
		output_tmp = NULL;
	}
}
