/*
 * The schemas of a runner's tools, for runner.c: a tool's schema is its
 * sidecar DIR/name.json, else what "DIR/name --schema" prints, run under
 * the run's sandbox and limits and cached per executable in
 * llm-tools/schemas of the user's cache directory; the x-llm-tools
 * object of a schema sets the tool's own limits. runner_list and
 * runner_describe (runner.h) live here too. Schemas are untrusted
 * input: a bad one is a message, never a crash.
 */
#ifndef LLM_TOOLSCHEMA_H
#define LLM_TOOLSCHEMA_H

#include <jv.h>

#include "jobs.h"
#include "runner.h"

/* The violations of args (borrowed) against name's parameters schema:
 * a string for the model, or jv_invalid() when they conform or the tool
 * has no schema. With may_exec 0, a tool without a sidecar is not run
 * with --schema, and goes unchecked. */
jv runner_check_schema(struct runner *r, const char *name, jv args,
    int may_exec);

/* Give the job the limits of its schema's x-llm-tools, where they are
 * tighter than the run's. Why it must not run (limits that make no
 * sense), or jv_invalid(). */
jv runner_apply_limits(struct runner *r, struct job *job);

#endif
