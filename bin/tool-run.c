/*
 * tool-run: run the tool calls of a JSON array (FILE or stdin, as written
 * by tool-extract) as executables from a tools directory, all at once,
 * and write a JSON array of tool messages {"role":"tool","tool_call_id",
 * "content"} in call order. Every call gets a result: a failure becomes
 * content {"error":"..."} that the model can read. With --list, write the
 * "tools" array of a request for every tool in the directory instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "json.h"

#define DEFAULT_TIMEOUT 30.0
#define SCHEMA_TIMEOUT 5.0
#define KILL_GRACE 1.0
#define OUTPUT_MAX ((size_t)1 << 20)
#define STDERR_TAIL 2048
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-d DIR] [-t SECONDS] [FILE]\n"
	    "       %s [-d DIR] --list\n", progname, progname);
	if (f == stdout)
		fputs("Run the tool calls of a JSON array (from tool-extract) and write\n"
		    "their results as tool messages, in call order.\n"
		    "  -d, --dir DIR          the tools directory (default $LLM_TOOLS_DIR,\n"
		    "                         ./tools.d, then the installed example tools)\n"
		    "  -t, --timeout SECONDS  time allowed to each call (default 30)\n"
		    "  -l, --list             write the tools array of DIR's tools\n", f);
}

static const struct option longopts[] = {
	{"dir", required_argument, NULL, 'd'},
	{"timeout", required_argument, NULL, 't'},
	{"list", no_argument, NULL, 'l'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* One tool process and what flows in and out of it. */
struct job {
	const char *id, *name;
	char *path;
	pid_t pid;
	int in, out, err;          /* our ends of its pipes, -1 when closed */
	const char *input;         /* what to write on its stdin */
	size_t input_len, input_off;
	struct buf output, errtail;
	int truncated;
	int status;                /* from waitpid, valid once exited */
	int exited, timed_out, killed, failed_to_start;
	double deadline;
};

static int sigchld_pipe[2] = {-1, -1};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(sigchld_pipe[1], "", 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	errno = saved;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The tools directory: -d, $LLM_TOOLS_DIR, ./tools.d, or the example
 * tools installed beside this program (BINDIR/../share/llm-tools/tools.d,
 * so that a staged or moved installation finds its own), or LLM_DATADIR. */
static const char *
find_tools_dir(const char *opt)
{
	static char beside[4096];
	const char *env = getenv("LLM_TOOLS_DIR");
	ssize_t n;
	char *slash;

	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	if (is_dir("tools.d"))
		return "tools.d";
	n = readlink("/proc/self/exe", beside, sizeof beside - 64);
	if (n > 0) {
		beside[n] = '\0';
		if ((slash = strrchr(beside, '/')) != NULL) {
			strcpy(slash, "/../share/llm-tools/tools.d");
			if (is_dir(beside))
				return beside;
		}
	}
	return LLM_DATADIR "/tools.d";
}

static char *
tool_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Is DIR/name a tool: a valid name for a regular executable file?
 * Symbolic links are followed: what the directory holds is the user's
 * choice; the model only picks among its names. */
static int
is_tool(const char *dir, const char *name)
{
	struct stat st;
	char *path;
	int ok;

	if (!valid_tool_name(name))
		return 0;
	path = tool_path(dir, name);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
	free(path);
	return ok;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the tools in dir; NULL-terminated. NULL when the
 * directory cannot be read. */
static char **
tool_names(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names;
	size_t n = 0, cap = 16;

	if (d == NULL)
		return NULL;
	names = xmalloc(cap * sizeof *names);
	while ((e = readdir(d)) != NULL) {
		if (!is_tool(dir, e->d_name))
			continue;
		if (n + 1 >= cap)
			names = xrealloc(names, (cap *= 2) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	names[n] = NULL;
	qsort(names, n, sizeof *names, by_name);
	return names;
}

static void
free_names(char **names)
{
	char **p;

	for (p = names; p != NULL && *p != NULL; p++)
		free(*p);
	free(names);
}

/* The environment a tool gets: an allowlist, never secrets. */
static char **
tool_environment(const char *name, const char *id)
{
	static const char *keep[] = {"PATH=", "HOME=", "LANG=", "TZ=",
	    "TMPDIR=", "USER=", "LOGNAME=", "LC_", NULL};
	size_t n = 0, i;
	char **env, **e;
	int have_path = 0;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xmalloc((n + 4) * sizeof *env);
	n = 0;
	for (e = environ; *e != NULL; e++) {
		for (i = 0; keep[i] != NULL; i++) {
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0) {
				env[n++] = *e;
				have_path |= i == 0;
				break;
			}
		}
	}
	if (!have_path)
		env[n++] = xstrdup("PATH=" DEFAULT_PATH);
	env[n] = xmalloc(strlen(name) + sizeof "TOOL_NAME=");
	sprintf(env[n++], "TOOL_NAME=%s", name);
	env[n] = xmalloc(strlen(id) + sizeof "TOOL_CALL_ID=");
	sprintf(env[n++], "TOOL_CALL_ID=%s", id);
	env[n] = NULL;
	return env;
}

/* Fork and exec job->path with pipes on 0, 1 and 2, in a process group
 * of its own. Returns 0, or errno when it could not be started. */
static int
start_job(struct job *job, char *const argv[])
{
	int in[2], out[2], err[2], report[2], code = 0;
	ssize_t n;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	job->pid = fork();
	if (job->pid < 0)
		die(EXIT_TRANSIENT, "fork: %s", strerror(errno));
	if (job->pid == 0) {
		sigset_t none;

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) >= 0 && dup2(out[1], 1) >= 0 &&
		    dup2(err[1], 2) >= 0) {
			/* Nothing but 0-2 (and the close-on-exec report
			 * pipe) crosses into the tool. */
			close_range(3, (unsigned)report[1] - 1, 0);
			close_range((unsigned)report[1] + 1, ~0U, 0);
			execve(job->path, argv,
			    tool_environment(job->name, job->id));
		}
		code = errno;
		n = write(report[1], &code, sizeof code);
		_exit(n < 0 ? 126 : 127);
	}
	setpgid(job->pid, job->pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(report[1]);
	while ((n = read(report[0], &code, sizeof code)) < 0 && errno == EINTR)
		;
	close(report[0]);
	job->in = in[1];
	job->out = out[0];
	job->err = err[0];
	fcntl(job->in, F_SETFL, O_NONBLOCK);
	return n == (ssize_t)sizeof code ? code : 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Read what is there on job's stdout or stderr. */
static void
drain(struct job *job, int *fd, int is_stdout)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof chunk);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	if (is_stdout) {
		size_t room = OUTPUT_MAX - job->output.len;
		if ((size_t)n > room) {
			job->truncated = 1;
			n = (ssize_t)room;
		}
		buf_append(&job->output, chunk, (size_t)n);
		return;
	}
	buf_append(&job->errtail, chunk, (size_t)n);
	if (job->errtail.len > 2 * STDERR_TAIL) {
		size_t cut = job->errtail.len - STDERR_TAIL;
		memmove(job->errtail.data, job->errtail.data + cut,
		    STDERR_TAIL + 1);
		job->errtail.len = STDERR_TAIL;
	}
}

static void
feed(struct job *job)
{
	ssize_t n = write(job->in, job->input + job->input_off,
	    job->input_len - job->input_off);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		/* The tool closed its stdin: it does not want the rest. */
		close_fd(&job->in);
		return;
	}
	job->input_off += (size_t)n;
	if (job->input_off == job->input_len)
		close_fd(&job->in);
}

/* Reap the jobs that have exited; kill what their process group left. */
static void
reap(struct job *jobs, size_t njobs)
{
	char sink[64];
	size_t i;
	int st;

	while (read(sigchld_pipe[0], sink, sizeof sink) > 0)
		;
	for (i = 0; i < njobs; i++) {
		if (jobs[i].pid <= 0 || jobs[i].exited)
			continue;
		if (waitpid(jobs[i].pid, &st, WNOHANG) == jobs[i].pid) {
			jobs[i].exited = 1;
			jobs[i].status = st;
			kill(-jobs[i].pid, SIGKILL);
		}
	}
}

static int
job_done(const struct job *job)
{
	return job->pid <= 0 || (job->exited && job->in < 0 && job->out < 0 &&
	    job->err < 0);
}

/* Run the started jobs to completion, each within its deadline: SIGTERM
 * to the process group when it passes, SIGKILL after a grace period. */
static void
run_jobs(struct job *jobs, size_t njobs)
{
	struct pollfd *fds = xmalloc((3 * njobs + 1) * sizeof *fds);
	struct job **owner = xmalloc((3 * njobs + 1) * sizeof *owner);
	int **which = xmalloc((3 * njobs + 1) * sizeof *which);

	for (;;) {
		double t = now(), next = -1;
		size_t i, nfds = 0, pending = 0;
		int timeout_ms;

		reap(jobs, njobs);
		for (i = 0; i < njobs; i++) {
			struct job *job = &jobs[i];

			if (job_done(job))
				continue;
			if (t >= job->deadline) {
				if (job->exited) {
					/* Exited, but something outside its
					 * group still holds the pipes. */
					close_fd(&job->in);
					close_fd(&job->out);
					close_fd(&job->err);
					continue;
				}
				if (!job->timed_out) {
					job->timed_out = 1;
					kill(-job->pid, SIGTERM);
				} else if (!job->killed) {
					job->killed = 1;
					kill(-job->pid, SIGKILL);
				}
				job->deadline = t + KILL_GRACE;
			}
			pending++;
			if (next < 0 || job->deadline < next)
				next = job->deadline;
			if (job->in >= 0) {
				fds[nfds] = (struct pollfd){job->in, POLLOUT, 0};
				owner[nfds] = job;
				which[nfds++] = &job->in;
			}
			if (job->out >= 0) {
				fds[nfds] = (struct pollfd){job->out, POLLIN, 0};
				owner[nfds] = job;
				which[nfds++] = &job->out;
			}
			if (job->err >= 0) {
				fds[nfds] = (struct pollfd){job->err, POLLIN, 0};
				owner[nfds] = job;
				which[nfds++] = &job->err;
			}
		}
		if (pending == 0)
			break;
		fds[nfds] = (struct pollfd){sigchld_pipe[0], POLLIN, 0};
		owner[nfds] = NULL;
		which[nfds] = NULL;
		timeout_ms = (int)((next - t) * 1000) + 1;
		if (poll(fds, nfds + 1, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		for (i = 0; i < nfds; i++) {
			struct job *job = owner[i];

			if (fds[i].revents == 0 || *which[i] != fds[i].fd)
				continue;
			if (which[i] == &job->in) {
				if (fds[i].revents & (POLLERR | POLLHUP))
					close_fd(&job->in);
				else
					feed(job);
			} else {
				drain(job, which[i], which[i] == &job->out);
			}
		}
	}
	free(fds);
	free(owner);
	free(which);
}

/* Start job on its input; a job that cannot start is marked so. */
static void
launch(struct job *job, double timeout)
{
	char *argv[3] = {job->path, NULL, NULL};
	int code;

	if (job->input == NULL)
		argv[1] = "--schema";
	job->in = job->out = job->err = -1;
	job->deadline = now() + timeout;
	code = start_job(job, argv);
	if (code != 0) {
		job->failed_to_start = code;
		close_fd(&job->in);
		close_fd(&job->out);
		close_fd(&job->err);
		waitpid(job->pid, NULL, 0);
		job->pid = -1;
		return;
	}
	if (job->input == NULL || job->input_len == 0)
		close_fd(&job->in);
}

static jv
error_content(jv message)
{
	return jv_dump_string(JV_OBJECT(jv_string("error"), message), 0);
}

/* The last line-ish part of a tool's stderr, trimmed, for a message. */
static jv
stderr_summary(const struct buf *b)
{
	size_t start = 0, end = b->len;

	while (end > 0 && (b->data[end - 1] == '\n' || b->data[end - 1] == ' '))
		end--;
	if (end > 500)
		start = end - 500;
	return jv_string_sized(b->data + start, (int)(end - start));
}

/* What the model reads as the result of a finished job. */
static jv
job_content(const struct job *job, double timeout)
{
	jv msg;

	if (job->failed_to_start)
		return error_content(jv_string_fmt("tool %s could not be "
		    "started: %s", job->name, strerror(job->failed_to_start)));
	if (job->timed_out)
		return error_content(jv_string_fmt("tool %s timed out after "
		    "%g s and was stopped", job->name, timeout));
	if (WIFSIGNALED(job->status))
		msg = jv_string_fmt("tool %s was killed by signal %d",
		    job->name, WTERMSIG(job->status));
	else if (WEXITSTATUS(job->status) != 0)
		msg = jv_string_fmt("tool %s failed with exit status %d",
		    job->name, WEXITSTATUS(job->status));
	else {
		size_t len = job->output.len;

		/* Like $(...) in the shell: trailing newlines are dropped. */
		while (!job->truncated && len > 0 &&
		    job->output.data[len - 1] == '\n')
			len--;
		jv out = jv_string_sized(job->output.data ? job->output.data :
		    "", (int)len);
		if (job->truncated)
			out = jv_string_concat(out, jv_string_fmt(
			    "\n[output truncated at %zu bytes]", OUTPUT_MAX));
		return out;
	}
	if (job->errtail.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->errtail));
	} else if (job->output.len > 0) {
		msg = jv_string_append_str(msg, ": ");
		msg = jv_string_concat(msg, stderr_summary(&job->output));
	}
	return error_content(msg);
}

/* The function object of a schema document (a function object, or a
 * whole tool), reduced to what a request may carry, named after the
 * file. Invalid with a message on a bad shape. doc consumed. */
static jv
function_of(jv doc, const char *name)
{
	static const char *fields[] = {"description", "parameters", "strict",
	    NULL};
	jv fn = json_get(doc, "function"), out;
	const char *doc_name;
	int i;

	if (jv_get_kind(fn) == JV_KIND_OBJECT) {
		jv_free(doc);
		doc = fn;
	} else {
		jv_free(fn);
	}
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv e = jv_invalid_with_msg(jv_string_fmt("schema is %s, not an "
		    "object", json_kind_name(doc)));
		jv_free(doc);
		return e;
	}
	doc_name = json_get_str(doc, "name");
	if (doc_name != NULL && strcmp(doc_name, name) != 0)
		warnx("%s: schema names the function \"%s\"; using the file "
		    "name", name, doc_name);
	out = JV_OBJECT(jv_string("name"), jv_string(name));
	for (i = 0; fields[i] != NULL; i++) {
		jv v = json_get(doc, fields[i]);
		if (jv_is_valid(v))
			out = jv_object_set(out, jv_string(fields[i]), v);
		else
			jv_free(v);
	}
	jv_free(doc);
	return out;
}

/* The schema of tool name: DIR/name.json, else DIR/name --schema. */
static jv
tool_schema(const char *dir, const char *name)
{
	char *sidecar = xmalloc(strlen(dir) + strlen(name) + 7);
	struct job job = {0};
	struct stat st;
	jv doc;

	sprintf(sidecar, "%s/%s.json", dir, name);
	if (stat(sidecar, &st) == 0) {
		struct buf b = {0};
		int fd = open(sidecar, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_fd_all(fd, &b, JSON_INPUT_MAX) != 0)
			doc = jv_invalid_with_msg(jv_string_fmt("%s: %s",
			    sidecar, strerror(errno)));
		else
			doc = json_parse(b.data, b.len);
		if (fd >= 0)
			close(fd);
		buf_free(&b);
		if (!jv_is_valid(doc)) {
			char *m = json_invalid_message(doc);
			doc = jv_invalid_with_msg(jv_string_fmt("%s: %s",
			    sidecar, m));
			free(m);
		}
		free(sidecar);
		return doc;
	}
	free(sidecar);
	job.name = name;
	job.id = "schema";
	job.path = tool_path(dir, name);
	launch(&job, SCHEMA_TIMEOUT);
	run_jobs(&job, 1);
	if (job.failed_to_start || job.timed_out || !WIFEXITED(job.status) ||
	    WEXITSTATUS(job.status) != 0)
		doc = jv_invalid_with_msg(jv_string_fmt("no %s.json and "
		    "\"%s --schema\" failed", name, job.path));
	else
		doc = json_parse(job.output.data ? job.output.data : "",
		    job.output.len);
	free(job.path);
	buf_free(&job.output);
	buf_free(&job.errtail);
	return doc;
}

/* --list: the tools array for every tool in dir. */
static int
list_tools(const char *dir)
{
	char **names = tool_names(dir), **p;
	jv tools = jv_array();

	if (names == NULL)
		die(EXIT_INPUT, "%s: %s", dir, strerror(errno));
	for (p = names; *p != NULL; p++) {
		jv fn = tool_schema(dir, *p);
		if (jv_is_valid(fn))
			fn = function_of(fn, *p);
		if (!jv_is_valid(fn)) {
			char *m = json_invalid_message(fn);
			warnx("%s/%s: skipped: %s", dir, *p, m);
			free(m);
			continue;
		}
		tools = jv_array_append(tools, JV_OBJECT(jv_string("type"),
		    jv_string("function"), jv_string("function"), fn));
	}
	free_names(names);
	json_write_stdout(tools);
	return 0;
}

/* Why a call cannot run, as a message for the model, or NULL when it can.
 * Sets job->input to the arguments text. */
static jv
check_call(struct job *job, jv call, const char *dir)
{
	jv fn = json_get(call, "function"), args, parsed;
	jv problem = jv_invalid();

	job->name = json_get_str(fn, "name");
	args = json_get(fn, "arguments");
	jv_free(fn);
	if (job->name == NULL) {
		job->name = "?";
		problem = jv_string("the call has no function name");
	} else if (!valid_tool_name(job->name)) {
		problem = jv_string_fmt("invalid tool name \"%.80s\": a name "
		    "matches ^[A-Za-z0-9_-]{1,64}$", job->name);
	} else if (!is_tool(dir, job->name)) {
		char **names = tool_names(dir), **p;
		problem = jv_string_fmt("unknown tool \"%s\"; available tools:",
		    job->name);
		for (p = names; p != NULL && *p != NULL; p++)
			problem = jv_string_concat(problem,
			    jv_string_fmt("%s %s", p == names ? "" : ",", *p));
		if (names == NULL || *names == NULL)
			problem = jv_string_append_str(problem, " none");
		free_names(names);
	}
	if (jv_is_valid(problem)) {
		jv_free(args);
		return problem;
	}
	if (jv_get_kind(args) == JV_KIND_INVALID || jv_get_kind(args) ==
	    JV_KIND_NULL || (jv_get_kind(args) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(args)) == 0)) {
		/* No arguments at all, as tool-extract reads them: {}. */
		jv_free(args);
		args = jv_string("{}");
	}
	if (jv_get_kind(args) != JV_KIND_STRING) {
		/* Arguments given as an object rather than a string. */
		args = jv_dump_string(args, 0);
	}
	parsed = json_parse(jv_string_value(args),
	    (size_t)jv_string_length_bytes(jv_copy(args)));
	if (!jv_is_valid(parsed)) {
		char *m = json_invalid_message(parsed);
		problem = jv_string_fmt("the arguments are not valid JSON (%s); "
		    "send a JSON object", m);
		free(m);
		parsed = jv_null();
	} else if (jv_get_kind(parsed) != JV_KIND_OBJECT) {
		problem = jv_string_fmt("the arguments must be a JSON object "
		    "(got %s)", json_kind_name(parsed));
	}
	jv_free(parsed);
	if (jv_is_valid(problem)) {
		jv_free(args);
		return problem;
	}
	job->input_len = (size_t)jv_string_length_bytes(jv_copy(args));
	job->input = xmalloc(job->input_len + 1);
	memcpy((char *)job->input, jv_string_value(args), job->input_len + 1);
	jv_free(args);
	job->path = tool_path(dir, job->name);
	return jv_invalid();
}

int
main(int argc, char *argv[])
{
	const char *dir = NULL;
	double timeout = DEFAULT_TIMEOUT;
	struct job *jobs;
	jv calls, results, *early;
	size_t i, n;
	int c, list = 0;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "d:t:lhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout) != 0 || timeout <= 0)
				die(EXIT_USAGE, "-t: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case 'l':
			list = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-run " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (list && argc - optind > 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	dir = find_tools_dir(dir);
	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	signal(SIGCHLD, on_sigchld);
	if (list) {
		list_tools(dir);
		finish_stdout();
		return 0;
	}

	calls = json_read_doc(argv[optind], "tool calls");
	if (jv_get_kind(calls) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "tool calls: %s, not an array",
		    json_kind_name(calls));
	n = (size_t)jv_array_length(jv_copy(calls));
	jobs = xmalloc((n + 1) * sizeof *jobs);
	early = xmalloc((n + 1) * sizeof *early);
	memset(jobs, 0, (n + 1) * sizeof *jobs);
	for (i = 0; i < n; i++) {
		jv call = jv_array_get(jv_copy(calls), (int)i);
		jobs[i].id = json_get_str(call, "id");
		if (jobs[i].id == NULL || *jobs[i].id == '\0')
			die(EXIT_INPUT, "tool call %zu has no id", i);
		early[i] = check_call(&jobs[i], call, dir);
		jv_free(call);
		if (!jv_is_valid(early[i]))
			launch(&jobs[i], timeout);
		else
			jobs[i].pid = -1;
	}
	run_jobs(jobs, n);

	results = jv_array();
	for (i = 0; i < n; i++) {
		jv content = jv_is_valid(early[i]) ? error_content(early[i]) :
		    job_content(&jobs[i], timeout);
		results = jv_array_append(results, JV_OBJECT(
		    jv_string("role"), jv_string("tool"),
		    jv_string("tool_call_id"), jv_string(jobs[i].id),
		    jv_string("content"), content));
		free(jobs[i].path);
		free((char *)jobs[i].input);
		buf_free(&jobs[i].output);
		buf_free(&jobs[i].errtail);
	}
	json_write_stdout(results);
	free(jobs);
	free(early);
	jv_free(calls);
	finish_stdout();
	return 0;
}
