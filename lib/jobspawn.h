/*
 * Starting one tool process, for jobs.c: the tool's environment (an
 * allowlist), its argv (under the sandbox wrapper, if any), the child
 * with its resource limits, no descriptor but 0-2 and the signals as a
 * tool expects them, and, when isolated, the init of its namespaces
 * (isolate.h), which reaps in there and leaves the tool's wait status
 * in job->exit_word. jobs.c owns the signals; this file only resets
 * them in the child.
 */
#ifndef LLM_JOBSPAWN_H
#define LLM_JOBSPAWN_H

#include "jobs.h"

/* The signals that stop a run: SIGTERM, SIGINT, SIGHUP (jobs.c). */
extern const int jobs_stop_signals[3];

/* Fork and exec job with pipes on 0, 1 and 2, isolated when its policy
 * (job->own, else run) says so and the kernel lets us. 0 once it runs or
 * has failed for good (failed_to_start); -1 with errno when it could
 * not start for want of descriptors or processes, nothing of it left
 * open. */
int job_spawn(struct job *job, const struct job_policy *run);

#endif
