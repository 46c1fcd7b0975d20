/* Tool processes: run them, feed, drain, bound and reap them, and own
 * the signals that stop a run; starting one is jobspawn.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "jobspawn.h"

#define KILL_GRACE 1.0
#define EXIT_GRACE 0.2
#define STDERR_TAIL 2048

static int sigchld_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_signal, in_run;
static int ignored_at_start[3];  /* SIGTERM, SIGINT, SIGHUP */
const int jobs_stop_signals[3] = {SIGTERM, SIGINT, SIGHUP};
static pid_t spared;

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

/* Stopped while tools run: jobs_run stops them and ends the program.
 * Stopped in any other phase (a schema check, reading input, asking the
 * user): nothing runs, so end at once. */
static void
on_stop(int sig)
{
	char msg[80];
	size_t n;

	if (in_run) {
		stop_signal = sig;
		on_sigchld(sig);
		return;
	}
	output_abandon();
	n = strlen(progname);
	if (n > 40)
		n = 40;
	memcpy(msg, progname, n);
	memcpy(msg + n, ": stopped by signal ", 20);
	n += 20;
	if (sig >= 10)
		msg[n++] = (char)('0' + sig / 10);
	msg[n++] = (char)('0' + sig % 10);
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* Nothing more to say. */
	}
	_exit(128 + sig);
}

void
jobs_init(void)
{
	struct sigaction sa, old;
	int i;

	if (sigchld_pipe[0] < 0) {
		if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
		for (i = 0; i < 3; i++)
			ignored_at_start[i] = sigaction(jobs_stop_signals[i],
			    NULL, &old) == 0 && old.sa_handler == SIG_IGN;
		/* Orphans of a tool (a daemon it started) become our
		 * children, so that none outlives the run. */
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	/* Stopped, we stop our tools too: none outlives us. Under nohup
	 * (or started in the background by a shell) we stay as deaf as we
	 * were started. */
	sa.sa_handler = on_stop;
	for (i = 0; i < 3; i++)
		sigaction(jobs_stop_signals[i], ignored_at_start[i] ? NULL :
		    &sa, NULL);
	for (i = 0; i < 3; i++)
		if (ignored_at_start[i])
			signal(jobs_stop_signals[i], SIG_IGN);
}

void
jobs_spare(pid_t pid)
{
	spared = pid;
}

void
jobs_default_policy(struct job_policy *p)
{
	memset(p, 0, sizeof *p);
	p->timeout = 30;
	p->max_output = (size_t)1 << 20;
	p->max_running = 16;
	p->isolate = 1;
	p->umask = -1;
	p->limits[0].resource = RLIMIT_CPU;
	p->limits[0].name = "cpu";
	p->limits[0].value = 60;
	p->limits[1].resource = RLIMIT_AS;
	p->limits[1].name = "as";
	p->limits[1].value = (rlim_t)8 << 30;
	p->limits[2].resource = RLIMIT_FSIZE;
	p->limits[2].name = "fsize";
	p->limits[2].value = (rlim_t)1 << 30;
	p->limits[3].resource = RLIMIT_NOFILE;
	p->limits[3].name = "nofile";
	p->limits[3].value = 1024;
}

int
jobs_set_limit(struct job_policy *p, const char *spec)
{
	const char *eq = strchr(spec, '=');
	unsigned long long v;
	char *end;
	int i;

	if (eq == NULL)
		return -1;
	for (i = 0; i < JOBS_RLIMITS; i++)
		if (strlen(p->limits[i].name) == (size_t)(eq - spec) &&
		    strncmp(spec, p->limits[i].name, (size_t)(eq - spec)) == 0)
			break;
	if (i == JOBS_RLIMITS)
		return -1;
	if (strcmp(eq + 1, "unlimited") == 0) {
		p->limits[i].value = RLIM_INFINITY;
		return 0;
	}
	if (eq[1] < '0' || eq[1] > '9')
		return -1;
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	if (*end != '\0' || v == 0 || v > (1ULL << 50))
		return -1;
	p->limits[i].value = (rlim_t)v;
	return 0;
}


static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* How much of a job's stdout is kept: its own cap, else the run's. */
static size_t
output_cap(const struct job *job, const struct job_policy *p)
{
	return job->own != NULL ? job->own->max_output : p->max_output;
}

/* Read what is there on a job's stdout or stderr. */
static void
drain(struct job *job, int *fd, size_t max_output)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof chunk);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	if (fd == &job->out) {
		size_t room = max_output - job->output.len;
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

/* Whether a read of fd would not block. */
static int
readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 0) > 0;
}

/* Read what a job that exited left in its pipes, as far as it is there
 * now (a process outside its group may still hold them). */
static void
drain_exited(struct job *job, size_t max_output)
{
	int i;

	for (i = 0; i < 64 && (job->out >= 0 || job->err >= 0); i++) {
		size_t had = job->output.len + job->errtail.len;

		if (job->out >= 0 && readable(job->out))
			drain(job, &job->out, max_output);
		if (job->err >= 0 && readable(job->err))
			drain(job, &job->err, max_output);
		if (job->output.len + job->errtail.len == had)
			break;
	}
}

/* Reap whatever exited: our jobs (then kill what is left of their
 * process group, and wait only briefly for their pipes) and adopted
 * orphans. */
static void
reap(struct job **jobs, size_t njobs)
{
	char sink[64];
	size_t i;
	pid_t pid;
	int st;

	while (read(sigchld_pipe[0], sink, sizeof sink) > 0)
		;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < njobs; i++) {
			struct job *job = jobs[i];
			if (job == NULL || job->pid != pid || job->exited)
				continue;
			job->exited = 1;
			/* An isolated job's status is its tool's, as its
			 * init left it. */
			job->status = job->exit_word != NULL &&
			    job->exit_word[0] ? job->exit_word[1] : st;
			kill(-pid, SIGKILL);
			if (now_seconds() + EXIT_GRACE < job->deadline)
				job->deadline = now_seconds() + EXIT_GRACE;
		}
	}
}

static int
job_done(const struct job *job)
{
	return job->skip || !job->started || (job->exited && job->in < 0 &&
	    job->out < 0 && job->err < 0);
}

/* Past its deadline: a job that exited loses its pipes (something
 * outside its group holds them); one that runs gets SIGTERM, then
 * SIGKILL. */
static void
enforce_deadline(struct job *job, double t)
{
	if (job->exited) {
		close_fd(&job->in);
		close_fd(&job->out);
		close_fd(&job->err);
		return;
	}
	if (!job->timed_out) {
		job->timed_out = 1;
		kill(-job->pid, SIGTERM);
		kill(job->pid, SIGTERM);
	} else if (!job->killed) {
		job->killed = 1;
		kill(-job->pid, SIGKILL);
		kill(job->pid, SIGKILL);
	}
	job->deadline = t + KILL_GRACE;
}

/* Kill our children listed in /proc/self/task/PID/children: 1 when
 * some were found, 0 when none, -1 when the kernel does not list them. */
static int
kill_listed_children(void)
{
	char path[64];
	FILE *f;
	long pid;
	int found = 0;

	snprintf(path, sizeof path, "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fscanf(f, "%ld", &pid) == 1) {
		if ((pid_t)pid == spared)
			continue;
		kill((pid_t)pid, SIGKILL);
		found = 1;
	}
	fclose(f);
	return found;
}

/* Kill and reap every process left that is our child: tools' orphans. */
static void
kill_leftovers(void)
{
	char path[300], line[512];
	struct dirent *e;
	int found, rounds, listed;
	pid_t self = getpid();

	for (rounds = 0; rounds < 50; rounds++) {
		if ((listed = kill_listed_children()) != 1)
			break;
		usleep(1000);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	if (listed != -1)
		return;
	for (rounds = 0; rounds < 50; rounds++) {
		DIR *d = opendir("/proc");
		found = 0;
		if (d == NULL)
			return;
		while ((e = readdir(d)) != NULL) {
			FILE *f;
			char *paren;
			long ppid;

			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
			if ((f = fopen(path, "re")) == NULL)
				continue;
			if (fgets(line, sizeof line, f) != NULL &&
			    (paren = strrchr(line, ')')) != NULL &&
			    sscanf(paren + 1, " %*c %ld", &ppid) == 1 &&
			    ppid == (long)self && atol(e->d_name) != (long)spared) {
				kill((pid_t)atol(e->d_name), SIGKILL);
				found = 1;
			}
			fclose(f);
		}
		closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			return;
		usleep(1000);
	}
}

/* A signal stopped us: stop every tool and its leftovers, write nothing,
 * and end as the signal would, 128 + its number. */
static void
stop_all(struct job **jobs, size_t njobs)
{
	size_t i;
	int sig = stop_signal;

	for (i = 0; i < njobs; i++)
		if (jobs[i] != NULL && jobs[i]->started && !jobs[i]->exited) {
			kill(-jobs[i]->pid, SIGKILL);
			kill(jobs[i]->pid, SIGKILL);
		}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	kill_leftovers();
	output_abandon();
	warnx("stopped by signal %d", sig);
	_exit(128 + sig);
}

/* The descriptors of one round of jobs_run's poll, and whose they are. */
struct poll_set {
	struct pollfd *fds;
	int **which;         /* the field of the job that holds fds[i].fd */
	struct job **owner;
	size_t n;
};

/* Start jobs from next_start on while fewer than p->max_running run;
 * the index of the first job not looked at yet. */
static size_t
start_more(struct job *jobs, size_t njobs, size_t next_start,
    const struct job_policy *p)
{
	size_t i, running = 0;

	for (i = 0; i < njobs; i++)
		running += jobs[i].started && !job_done(&jobs[i]);
	while (next_start < njobs && (int)running < p->max_running) {
		struct job *job = &jobs[next_start];
		if (job->skip) {
			next_start++;
			continue;
		}
		if (job_spawn(job, p) < 0) {
			if (running > 0 && (errno == EMFILE ||
			    errno == ENFILE || errno == EAGAIN ||
			    errno == ENOMEM))
				break;  /* again when one ends */
			job->started = job->exited = 1;
			job->failed_to_start = errno;
		} else {
			running++;
		}
		next_start++;
	}
	return next_start;
}

/* Look at every job at time t: past its deadline, bound it; done, report
 * it once; else add its open ends to set. How many jobs are pending;
 * *next is the nearest deadline of those (-1: none). */
static size_t
watch_jobs(struct job *jobs, size_t njobs, const struct job_policy *p,
    double t, struct poll_set *set, double *next)
{
	size_t i, pending = 0;

	for (i = 0; i < njobs; i++) {
		struct job *job = &jobs[i];
		int *ends[3] = {&job->in, &job->out, &job->err};
		int k;

		if (!job_done(job) && t >= job->deadline) {
			if (job->exited)	/* what it wrote first */
				drain_exited(job, output_cap(job, p));
			enforce_deadline(job, t);
		}
		if (job_done(job)) {
			if (job->started && !job->reported &&
			    p->on_done != NULL)
				p->on_done(job, p->ctx);
			job->reported = 1;
			continue;
		}
		pending++;
		if (*next < 0 || job->deadline < *next)
			*next = job->deadline;
		for (k = 0; k < 3; k++) {
			if (*ends[k] < 0)
				continue;
			set->fds[set->n] = (struct pollfd){*ends[k],
			    k == 0 ? POLLOUT : POLLIN, 0};
			set->owner[set->n] = job;
			set->which[set->n++] = ends[k];
		}
	}
	return pending;
}

/* Feed and drain the jobs as poll said of the ends in set. */
static void
serve_polled(const struct poll_set *set, const struct job_policy *p)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		struct job *job = set->owner[i];

		if (set->fds[i].revents == 0 ||
		    *set->which[i] != set->fds[i].fd)
			continue;
		if (set->which[i] != &job->in)
			drain(job, set->which[i], output_cap(job, p));
		else if (set->fds[i].revents & (POLLERR | POLLHUP))
			close_fd(&job->in);
		else
			feed(job);
	}
}

void
jobs_run(struct job *jobs, size_t njobs, const struct job_policy *p)
{
	struct poll_set set;
	struct job **all = xmalloc((njobs + 1) * sizeof *all);
	size_t next_start = 0, i, words = 2 * (njobs + 1) * sizeof(int);
	/* Where each isolated job's init leaves its tool's wait status. */
	int *exit_words = mmap(NULL, words, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (exit_words == MAP_FAILED)
		die(EXIT_TRANSIENT, "mmap: %s", strerror(errno));
	set.fds = xmalloc((3 * njobs + 1) * sizeof *set.fds);
	set.which = xmalloc((3 * njobs + 1) * sizeof *set.which);
	set.owner = xmalloc((3 * njobs + 1) * sizeof *set.owner);
	for (i = 0; i < njobs; i++) {
		jobs[i].exit_word = exit_words + 2 * i;
		all[i] = &jobs[i];
	}
	in_run = 1;
	for (;;) {
		double t, next = -1;

		reap(all, njobs);
		if (stop_signal)
			stop_all(all, njobs);
		next_start = start_more(jobs, njobs, next_start, p);
		t = now_seconds();
		set.n = 0;
		if (watch_jobs(jobs, njobs, p, t, &set, &next) == 0 &&
		    next_start >= njobs)
			break;
		set.fds[set.n] = (struct pollfd){sigchld_pipe[0], POLLIN, 0};
		if (poll(set.fds, set.n + 1, next < 0 ? 100 :
		    (int)((next - t) * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_TRANSIENT, "poll: %s", strerror(errno));
		}
		serve_polled(&set, p);
	}
	kill_leftovers();
	in_run = 0;
	for (i = 0; i < njobs; i++)
		jobs[i].exit_word = NULL;
	munmap(exit_words, words);
	free(set.fds);
	free(set.which);
	free(set.owner);
	free(all);
}

void
job_free(struct job *job)
{
	/* Mapped by job_start; jobs_run unmaps its own. */
	if (job->exit_word != NULL)
		munmap(job->exit_word, 2 * sizeof(int));
	job->exit_word = NULL;
	free(job->path);
	free(job->own);
	job->own = NULL;
	buf_free(&job->output);
	buf_free(&job->errtail);
}

void
jobs_serve(void)
{
	in_run = 1;
}

int
jobs_wakeup_fd(void)
{
	return sigchld_pipe[0];
}

int
job_start(struct job *job, const struct job_policy *p)
{
	if (job->exit_word == NULL) {
		void *w = mmap(NULL, 2 * sizeof(int), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (w == MAP_FAILED)
			return -1;
		job->exit_word = w;
	}
	if (job_spawn(job, p) < 0) {
		int e = errno;
		if (e == EMFILE || e == ENFILE || e == EAGAIN || e == ENOMEM)
			return -1;
		job->started = job->exited = 1;
		job->failed_to_start = e;
	}
	return 0;
}

size_t
job_pollfds(const struct job *job, struct pollfd *fds)
{
	const int ends[3] = {job->in, job->out, job->err};
	size_t n = 0;
	int k;

	for (k = 0; k < 3; k++)
		if (ends[k] >= 0)
			fds[n++] = (struct pollfd){ends[k], k == 0 ? POLLOUT :
			    POLLIN, 0};
	return n;
}

void
job_io(struct job *job, const struct pollfd *fds, size_t n,
    const struct job_policy *p)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fds[i].revents == 0)
			continue;
		if (fds[i].fd == job->out)
			drain(job, &job->out, output_cap(job, p));
		else if (fds[i].fd == job->err)
			drain(job, &job->err, output_cap(job, p));
		else if (fds[i].fd != job->in)
			continue;
		else if (fds[i].revents & (POLLERR | POLLHUP))
			close_fd(&job->in);
		else
			feed(job);
	}
}

void
jobs_reap(struct job **jobs, size_t njobs)
{
	reap(jobs, njobs);
	if (stop_signal)
		stop_all(jobs, njobs);
}

int
job_check(struct job *job, double t, double *next)
{
	if (!job_done(job) && t >= job->deadline)
		enforce_deadline(job, t);
	if (job_done(job))
		return 1;
	if (*next < 0 || job->deadline < *next)
		*next = job->deadline;
	return 0;
}

void
job_cancel(struct job *job)
{
	if (!job->started || job->exited || job->pid <= 0)
		return;
	job->killed = 1;
	kill(-job->pid, SIGKILL);
	kill(job->pid, SIGKILL);
}

void
jobs_kill_leftovers(void)
{
	kill_leftovers();
}
