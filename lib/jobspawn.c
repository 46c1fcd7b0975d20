/* Starting one tool process: its environment and argv, the child with
 * its limits, descriptors and signals, the init of its namespaces (see
 * jobspawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate.h"
#include "jobs.h"
#include "jobspawn.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

extern char **environ;

/* The variables every tool gets: NAME= entries, and the LC_ prefix. */
static const char *const tool_keep[] = {"PATH=", "HOME=", "LANG=", "TZ=",
    "TMPDIR=", "USER=", "LOGNAME=", "LC_", NULL};

/* Is the environment entry e (NAME=value) one of names (NULL-terminated,
 * bare names)? */
static int
named(const char *e, const char *const *names)
{
	size_t i, len;

	for (i = 0; names != NULL && names[i] != NULL; i++) {
		len = strlen(names[i]);
		if (strncmp(e, names[i], len) == 0 && e[len] == '=')
			return 1;
	}
	return 0;
}

/* May a tool get the environment entry e? */
static int
for_tools(const char *e, const struct job_policy *p)
{
	size_t i;

	if (strncmp(e, "TOOL_", 5) == 0)
		return 0;
	for (i = 0; tool_keep[i] != NULL; i++)
		if (strncmp(e, tool_keep[i], strlen(tool_keep[i])) == 0)
			return 1;
	return named(e, p->pass_env);
}

void
jobs_drop_secrets(const struct job_policy *p, const char *const *keep)
{
	char **from, **to;

	for (from = to = environ; *from != NULL; from++) {
		if (for_tools(*from, p) || named(*from, keep))
			*to++ = *from;
		else    /* /proc/PID/environ shows these bytes: wipe them */
			memset(*from, 0, strlen(*from));
	}
	*to = NULL;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The environment a tool gets: an allowlist, never secrets. */
static char **
tool_environment(const struct job *job, const struct job_policy *p)
{
	size_t n = 0;
	char **env, **e;
	int have_path = 0;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xmalloc((n + 4) * sizeof *env);
	n = 0;
	for (e = environ; *e != NULL; e++) {
		if (!for_tools(*e, p))
			continue;
		have_path |= strncmp(*e, "PATH=", 5) == 0;
		env[n++] = *e;
	}
	if (!have_path)
		env[n++] = "PATH=" DEFAULT_PATH;
	env[n] = xmalloc(strlen(job->name) + sizeof "TOOL_NAME=");
	sprintf(env[n++], "TOOL_NAME=%s", job->name);
	env[n] = xmalloc(strlen(job->id) + sizeof "TOOL_CALL_ID=");
	sprintf(env[n++], "TOOL_CALL_ID=%s", job->id);
	env[n] = NULL;
	return env;
}

/* The argv of a job: the sandbox wrapper, the tool, its one argument. */
static char **
job_argv(const struct job *job, const struct job_policy *p)
{
	size_t n = 0, i;
	char **argv;

	while (p->sandbox != NULL && p->sandbox[n] != NULL)
		n++;
	argv = xmalloc((n + 3) * sizeof *argv);
	for (i = 0; i < n; i++)
		argv[i] = p->sandbox[i];
	argv[n++] = job->path;
	if (job->arg != NULL)
		argv[n++] = (char *)job->arg;
	argv[n] = NULL;
	return argv;
}

/* What a child reports on the report pipe when it cannot go on. */
struct child_report {
	int stage;      /* REPORT_EXEC or REPORT_ISOLATE */
	int code;       /* errno */
};

enum { REPORT_EXEC = 1, REPORT_ISOLATE };

static _Noreturn void
report_and_exit(int report, int stage, int code)
{
	struct child_report r = {stage, code};

	if (write(report, &r, sizeof r) < 0)
		_exit(126);
	_exit(127);
}

/* Free what job_argv and tool_environment gave. */
static void
free_child_args(char **argv, char **env)
{
	size_t i;

	free(argv);
	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], "TOOL_", 5) == 0)
			free(env[i]);
	free(env);
}

/* In the child: limits, descriptors, signals, then exec. Never returns. */
static _Noreturn void
exec_child(char **argv, char **env, const struct job_policy *p, int in,
    int out, int err, int report)
{
	sigset_t none;
	int i;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	for (i = 0; i < 3; i++)
		signal(jobs_stop_signals[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	for (i = 0; i < JOBS_RLIMITS; i++) {
		struct rlimit rl = {p->limits[i].value, p->limits[i].value};
		if (p->limits[i].name != NULL)
			setrlimit(p->limits[i].resource, &rl);
	}
	if (dup2(in, 0) >= 0 && dup2(out, 1) >= 0 && dup2(err, 2) >= 0) {
		/* Nothing but 0-2 (and the close-on-exec report pipe)
		 * crosses into the tool. */
		close_range(3, (unsigned)report - 1, 0);
		close_range((unsigned)report + 1, ~0U, 0);
		if (p->sandbox != NULL && strchr(argv[0], '/') == NULL) {
			environ = env;
			execvp(argv[0], argv);
		} else {
			execve(argv[0], argv, env);
		}
	}
	report_and_exit(report, REPORT_EXEC, errno);
}

/* The child of isolate_clone, PID 1 of the tool's namespaces: set them
 * up, start the tool, reap until it ends, leave its wait status in
 * exit_word. Its end ends whatever the tool left behind. */
static _Noreturn void
init_child(char **argv, char **env, const struct job_policy *p, int in,
    int out, int err, int report, uid_t uid, gid_t gid, int *exit_word)
{
	pid_t tool;
	int code, st;

	/* tool-run killed: the namespace and all in it go too. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The kernel drops a stop signal sent to a namespace's init without
	 * a handler; say so, so that a process that emulates signals (as
	 * valgrind does) drops it too. The tool gets it through the process
	 * group; SIGKILL ends this process. exec_child restores them. */
	for (code = 0; code < 3; code++)
		signal(jobs_stop_signals[code], SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if ((code = isolate_enter(uid, gid)) != 0)
		report_and_exit(report, REPORT_ISOLATE, code);
	/* Only the tool's pipes stay open here: no other job's end may
	 * keep a pipe from reaching its end. */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		report_and_exit(report, REPORT_EXEC, errno);
	close_range(3, (unsigned)report - 1, 0);
	close_range((unsigned)report + 1, ~0U, 0);
	if ((tool = fork()) < 0)
		report_and_exit(report, REPORT_EXEC, errno);
	if (tool == 0)
		exec_child(argv, env, p, 0, 1, 2, report);
	free_child_args(argv, env);
	close(0);
	close(1);
	close(2);
	close(report);
	isolate_reap(tool, &st);
	exit_word[1] = st;
	exit_word[0] = 1;
	_exit(0);
}

static int isolation_off;  /* the kernel refused it once: not again */

/* Open the four pipes of a job; 0, or -1 with errno and none open. */
static int
job_pipes(int fds[8])
{
	int i, e;

	for (i = 0; i < 8; i++)
		fds[i] = -1;
	for (i = 0; i < 8; i += 2) {
		if (pipe2(fds + i, O_CLOEXEC) < 0) {
			e = errno;
			while (i > 0) {
				i -= 2;
				close(fds[i]);
				close(fds[i + 1]);
			}
			errno = e;
			return -1;
		}
	}
	return 0;
}

/* Fork the child of job on the pipes fds (in, out, err, report; its
 * ends are in[0], out[1], err[1], report[1]): the init of its namespaces
 * when isolated, else the tool in a process group of its own. Its pid,
 * or -1 with errno; r tells when the kernel refused the namespaces. */
static pid_t
fork_child(struct job *job, const struct job_policy *p, int isolated,
    const int fds[8], struct child_report *r)
{
	const int *in = fds, *out = fds + 2, *err = fds + 4, *report = fds + 6;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char **argv, **env;
	pid_t pid;
	int e;

	/* Everything the child needs, allocated before it exists. */
	argv = job_argv(job, p);
	env = tool_environment(job, p);
	pid = isolated ? isolate_clone() : fork();
	if (pid < 0 && isolated && isolate_refused(errno)) {
		r->stage = REPORT_ISOLATE;
		r->code = errno;
	}
	if (pid == 0 && isolated)
		init_child(argv, env, p, in[0], out[1], err[1], report[1], uid,
		    gid, job->exit_word);
	if (pid == 0) {
		setpgid(0, 0);
		exec_child(argv, env, p, in[0], out[1], err[1], report[1]);
	}
	e = errno;
	free_child_args(argv, env);
	errno = e;
	return pid;
}

/* In the parent: close the child's ends of the pipes, and read what it
 * reported; nothing (stage 0) once the tool was exec'd. */
static void
read_report(int fds[8], pid_t pid, struct child_report *r)
{
	int *in = fds, *out = fds + 2, *err = fds + 4, *report = fds + 6;
	ssize_t n;

	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(report[1]);
	in[0] = out[1] = err[1] = report[1] = -1;
	while ((n = read(report[0], r, sizeof *r)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof *r)
		r->stage = 0;
}

/* The parent's ends of the pipes become the job's: its stdin (closed at
 * once when there is no input), stdout and stderr. A child whose exec
 * failed (r) is reaped, and the job failed to start. */
static void
take_pipes(struct job *job, const int fds[8], const struct child_report *r)
{
	const int *in = fds, *out = fds + 2, *err = fds + 4, *report = fds + 6;

	job->started = 1;
	job->in = in[1];
	job->out = out[0];
	job->err = err[0];
	close(report[0]);
	fcntl(job->in, F_SETFL, O_NONBLOCK);
	if (r->stage == REPORT_EXEC) {
		/* exec failed: the child is gone or going. */
		job->failed_to_start = r->code;
		close(job->in);
		close(job->out);
		close(job->err);
		job->in = job->out = job->err = -1;
		waitpid(job->pid, &job->status, 0);
		job->exited = 1;
		return;
	}
	if (job->input == NULL || job->input_len == 0) {
		close(job->in);
		job->in = -1;
	}
}

int
job_spawn(struct job *job, const struct job_policy *run)
{
	const struct job_policy *p = job->own != NULL ? job->own : run;
	int fds[8], e, isolated = p->isolate && !isolation_off;
	struct child_report r = {0, 0};
	size_t i;

	if (job_pipes(fds) < 0)
		return -1;
	if (!job->announced && p->on_start != NULL)
		p->on_start(job, p->ctx);
	job->announced = 1;
	job->in = job->out = job->err = -1;
	job->deadline = now_seconds() + p->timeout;
	job->pid = fork_child(job, p, isolated, fds, &r);
	e = errno;
	if (job->pid > 0)
		read_report(fds, job->pid, &r);
	if (r.stage == REPORT_ISOLATE) {
		/* No namespaces here: say so once, and run as we can. */
		for (i = 0; i < 8; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (job->pid > 0)
			waitpid(job->pid, NULL, 0);
		isolation_off = 1;
		warnx("tools run without isolation: the kernel refused a "
		    "namespace (%s); they can read the environment of this "
		    "user's processes", strerror(r.code));
		return job_spawn(job, p);
	}
	if (job->pid < 0) {
		for (i = 0; i < 8; i++)
			close(fds[i]);
		errno = e;
		return -1;
	}
	take_pipes(job, fds, &r);
	return 0;
}
