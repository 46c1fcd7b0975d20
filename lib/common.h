/*
 * Shared by every program: the exit-code table, messages on stderr,
 * growing buffers, whole-input reading and checked number parsing.
 */
#ifndef LLM_COMMON_H
#define LLM_COMMON_H

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

/* The version comes from the Makefile's VERSION, its one home. */
#ifndef LLM_TOOLS_VERSION
#error "LLM_TOOLS_VERSION is set by the Makefile (-DLLM_TOOLS_VERSION)"
#endif

/* The one exit-code table of the project (see llm-tools(7), EXIT STATUS). */
enum {
	EXIT_NO = 1,        /* a "no" answer, only where a program says so */
	EXIT_USAGE = 2,     /* bad options or operands */
	EXIT_INPUT = 3,     /* input not JSON, wrong shape, unreadable */
	EXIT_API = 4,       /* the API refused the request (4xx), or its
	                       certificate does not verify */
	EXIT_TRANSIENT = 5, /* network or server failure, broken response;
	                       llm-loop: the keep directory is in use */
	EXIT_TURNS = 6,     /* llm-loop: turn limit reached, or tools still
	                       called after --final */
	EXIT_GUARD = 7,     /* llm-loop: reply refused by a guard */
	EXIT_PARTIAL = 8,   /* llm-loop: reply cut short (finish_reason
	                       length or content_filter) */
	EXIT_SCHEMA = 9     /* the reply does not follow the JSON Schema
	                       its request asks for (tool-extract --check,
	                       llm-loop) */
};

struct buf {
	char *data;
	size_t len, cap;
};

extern const char *progname;

void set_progname(const char *argv0);
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A usage error: say what is wrong (when fmt is not NULL), show the
 * synopsis with usage(stderr), exit 2. */
_Noreturn void usage_error(void (*usage)(FILE *), const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

void buf_grow(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/* Write all n bytes (EINTR retried); 0, or -1 with errno. */
int write_all(int fd, const char *p, size_t n);

/* Read fd to EOF into b (NUL-terminated). 0, or -1 with errno, or
 * -2 when more than max bytes arrive. */
int read_fd_all(int fd, struct buf *b, size_t max);

/* Room for the reason read_file gives. */
#define READ_WHY_MAX 128

/* The name messages use for path: "standard input" for NULL or "-". */
const char *file_name(const char *path);

/* Read the file at path (standard input when NULL or "-") to its end
 * into b, NUL-terminated, refusing more than max bytes: 0, or -1 with
 * why (READ_WHY_MAX bytes) saying why: strerror's text or "larger than
 * N bytes". Never exits; b holds what was read. */
int read_file(const char *path, size_t max, struct buf *b, char *why);

/* read_file, or say "prog: FILE: why" and exit with code. */
void read_file_or_die(const char *path, size_t max, struct buf *b, int code);

/* Seconds on the monotonic clock. */
double now_seconds(void);

/* Parse a non-negative number of seconds; 0 on success. */
int parse_seconds(const char *s, double *out);
/* Parse a whole number in [min, max]; 0 on success. */
int parse_long(const char *s, long min, long max, long *out);

/* Tool names: ^[A-Za-z0-9_-]{1,64}$ (OpenAI's rule for function names). */
int valid_tool_name(const char *s);

/*
 * The fatal signals (SIGHUP, SIGINT, SIGTERM) have one owner. A signal
 * that was ignored when the program started stays ignored (nohup, a
 * background job of a shell): no handler is ever put over it.
 */
/* Was sig ignored when the program started? */
int signal_ignored_at_start(int sig);
/* Catch the fatal signals with handler, but those ignored at start. */
void fatal_signals_catch(void (*handler)(int));
/* Run fn (async-signal-safe; at most four) when a fatal signal ends the
 * program, then end by that signal. */
void fatal_signals_cleanup(void (*fn)(void));
/* From a handler: run the cleanup functions and end by sig. */
_Noreturn void fatal_signal_exit(int sig);
/* End by sig as if it had not been caught: its default action,
 * unblocked, raised (async-signal-safe); 128 + sig should it return. */
_Noreturn void signal_exit(int sig);

/* Send stdout to a temporary file beside path, which finish_stdout
 * renames to path: path then holds a whole document or is left as it
 * was. The temporary file is removed when the program fails. */
void output_to(const char *path);

/* Remove the temporary file of output_to, if any (async-signal-safe). */
void output_abandon(void);

/* Flush and close stdout (and put it in place after output_to); on a
 * write error say so and exit 5. */
void finish_stdout(void);

#endif
