/*
 * Running untrusted-input tool processes: each in its own process group,
 * fed its input on stdin, its stdout kept up to a cap and its stderr as a
 * tail, bounded in time (SIGTERM to the group, SIGKILL after a grace) and
 * in resources (setrlimit), with an allowlisted environment, no
 * descriptor but 0-2, by default in namespaces of its own (isolate.h),
 * or under a sandbox wrapper, several at once. jobs.c holds the poll
 * loop, the bounds, the reaping and the signals; jobspawn.c (jobspawn.h)
 * starts one process.
 */
#ifndef LLM_JOBS_H
#define LLM_JOBS_H

#include <poll.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common.h"

#define JOBS_RLIMITS 4

struct job;

/* What every job of a run gets. */
struct job_policy {
	double timeout;             /* seconds of wall time */
	size_t max_output;          /* bytes of stdout kept */
	int max_running;            /* jobs at once */
	const char **pass_env;      /* extra variable names, NULL-terminated */
	char **sandbox;             /* wrapper argv prefix, NULL-terminated */
	int isolate;                /* own user and PID namespace, fresh /proc */
	int umask;                  /* the jobs' umask, or -1: this process's */
	struct {
		int resource;       /* RLIMIT_* */
		const char *name;   /* cpu, as, fsize, nofile */
		rlim_t value;       /* RLIM_INFINITY for none */
	} limits[JOBS_RLIMITS];
	/* Called as each job starts and once it is done, when set. */
	void (*on_start)(struct job *job, void *ctx);
	void (*on_done)(struct job *job, void *ctx);
	void *ctx;
};

struct job {
	/* Set by the caller. */
	const char *id, *name;
	char *path;
	const char *arg;           /* argv[1], or NULL */
	const char *input;         /* what to write on its stdin */
	size_t input_len;
	int skip;                  /* do not run: the caller answers */
	/* This job's own policy in place of the run's (its time limit,
	 * output cap, isolation), or NULL; malloc'd, freed by job_free. */
	struct job_policy *own;
	/* Set by jobs_run. */
	pid_t pid;
	int in, out, err;
	size_t input_off;
	struct buf output, errtail;
	int truncated;
	int status;                /* from waitpid, once exited */
	int started, exited, timed_out, killed, failed_to_start, reported;
	int announced;             /* on_start was called */
	int *exit_word;            /* isolated: {set, status} from its init */
	double deadline;
};

/* The default policy: 30 s, 1 MiB, 16 at once, isolated, the limits
 * below. */
void jobs_default_policy(struct job_policy *p);

/* Set limit NAME=VALUE ("cpu=10", "as=2G", "nofile=unlimited");
 * 0, or -1 when the name or the value is not understood. */
int jobs_set_limit(struct job_policy *p, const char *spec);

/* Run the jobs that are not skipped, at most p->max_running at once,
 * each to its end or its deadline. Kills every process they left
 * behind before returning. A job that cannot start for want of
 * descriptors or processes waits for a running one to end; with none
 * running, it fails to start (failed_to_start) and the others still run.
 * Where the kernel refuses namespaces, jobs run without them and a
 * message says so once. */
void jobs_run(struct job *jobs, size_t njobs, const struct job_policy *p);

/* Free what jobs_run kept for a job. */
void job_free(struct job *job);

/* pid is a child of ours that is no tool (the holder of MCP servers):
 * the clean-up of the tools' leftovers leaves it be. */
void jobs_spare(pid_t pid);

/* Call before jobs_run: reaping and adopting orphans, and the signals.
 * SIGTERM, SIGINT and SIGHUP end the program at once with 128 + the
 * signal (its tools stopped, output_to's file removed), unless they were
 * ignored when it started: those stay ignored. Call it again after
 * anything that set handlers of its own (output_to). */
void jobs_init(void);

/* Keep no secret: remove from the environment, and wipe from memory,
 * every variable no tool may get (see tool_environment) and that is not
 * named in keep (NULL-terminated), and make the process undumpable, so
 * that no process of the same user can read or trace it. */
void jobs_drop_secrets(const struct job_policy *p, const char *const *keep);

/*
 * Jobs driven one by one from a program's own poll(2) loop, as a server
 * runs calls that come and go: jobs_init, then jobs_serve; for each job
 * job_start, then poll job_pollfds and jobs_wakeup_fd, pass what poll
 * said to job_io, call jobs_reap when the wake-up descriptor is readable
 * and job_check each time round; job_free once it is done.
 */

/* From now on a stop signal is only noted: jobs_reap stops the jobs it
 * is given and ends the program with 128 + the signal. */
void jobs_serve(void);

/* Readable when a child may have exited or a stop signal came. */
int jobs_wakeup_fd(void);

/* Start job: 0 once it runs or has failed for good (failed_to_start);
 * -1 with errno when descriptors or processes are short for now. */
int job_start(struct job *job, const struct job_policy *p);

/* The descriptors of job to poll, at most 3, in fds; how many. */
size_t job_pollfds(const struct job *job, struct pollfd *fds);

/* Feed and drain job as poll said about the descriptors of job_pollfds. */
void job_io(struct job *job, const struct pollfd *fds, size_t n,
    const struct job_policy *p);

/* Reap the children that exited, jobs among them (NULL entries are
 * skipped); after a stop signal, stop the jobs and end the program. */
void jobs_reap(struct job **jobs, size_t njobs);

/* Enforce job's deadline at time t: 1 when it is done, else 0 with *next
 * lowered to when it must be looked at again (*next < 0: not set). */
int job_check(struct job *job, double t, double *next);

/* Kill job's process group now; it is done once reaped. */
void job_cancel(struct job *job);

/* Kill and reap every child left, such as the orphans of tools. */
void jobs_kill_leftovers(void);

#endif
