/*
 * A tool call as tool-run runs it, for every program that runs calls
 * (tool-run, tool-serve): the options that set the policy, the tools
 * directory and its listing, the checks before a call runs (name,
 * arguments, trust, allow and deny lists, schema), and the words of its
 * outcome. The calls are untrusted input: names are looked up, never
 * joined into paths; arguments are checked before anything runs.
 * runner.c holds the policy, the checks and the outcome; toolschema.c
 * (toolschema.h) the tools' schemas, their cache and limits, and the
 * listing (runner_list, runner_describe).
 */
#ifndef LLM_RUNNER_H
#define LLM_RUNNER_H

#include <jv.h>

#include "jobs.h"

/* The sandbox of --sandbox default: bubblewrap, read-only root, private
 * /tmp, no network, no other namespace shared, a session of its own. */
#define RUNNER_DEFAULT_SANDBOX "bwrap --ro-bind / / --dev /dev " \
	"--proc /proc --tmpfs /tmp --setenv TMPDIR /tmp --unshare-all " \
	"--die-with-parent --new-session --"

/* The argv of sandbox cmd, the words of cmd split on blanks, NULL when
 * there are none: for "default", RUNNER_DEFAULT_SANDBOX with cwd (NULL:
 * the current directory) and dir (or NULL) visible, read-only, over
 * its private /tmp, starting in cwd. argv[0] holds every word: free it,
 * then argv. */
char **runner_sandbox_argv(const char *cmd, const char *cwd,
    const char *dir);

/* The short options runner_option takes, for getopt, and the code of
 * its long-only one, --umask MASK. */
#define RUNNER_OPTIONS "d:T:P:b:L:e:B:a:x:"
#define RUNNER_OPT_UMASK 0x200

struct runner {
	struct job_policy policy;
	const char *dir;            /* the tools directory, once set up */
	int configured;             /* found in the configuration directory */
	const char *allow, *deny;   /* comma-separated names, or NULL */
	int confirm;                /* the allow list only skips asking */
	/* Kept by the runner. */
	const char *dir_option, *sandbox;
	const char *pass_env[65];
	size_t npass;
	char *dir_found, *abs_dir;
	char *cache_base;           /* $XDG_CACHE_HOME or ~/.cache, or NULL */
	jv schemas;                 /* name -> parameters, as checked */
	jv limits;                  /* name -> x-llm-tools, or what is wrong */
	char **job_sandbox;         /* --sandbox default, for a tool that asks */
	char *job_sandbox_dir;
	/* The tools of MCP servers (tool-run): name -> route {server, tool,
	 * annotations, ...}, called through mcp_program (tool-mcp), which
	 * runs with a policy of its own: no sandbox, no limits; null when there are none. */
	jv mcp_routes;
	const char *mcp_program;
};

/* Defaults: jobs_default_policy, $LLM_TOOL_SANDBOX. */
void runner_init(struct runner *r);

/* Take option c (one of RUNNER_OPTIONS, or RUNNER_OPT_UMASK) with its argument: 1 when it was
 * one of them; a bad value is a usage error (exit 2). */
int runner_option(struct runner *r, int c, const char *arg);

/* Drop every secret from this process (keeping the variables named in
 * own_env), install the job signals, find the tools directory and refuse
 * one that others could change (exit 3), set up the sandbox. */
void runner_setup(struct runner *r, const char *const *own_env);

void runner_free(struct runner *r);

/* The function objects {name, description, parameters, strict} of every
 * tool, in name order; with mcp, also the sidecar's title, annotations
 * and outputSchema. A tool without a usable schema is skipped with a
 * message on stderr. Exits 3 when the directory cannot be read. */
jv runner_list(struct runner *r, int mcp);

/* The sidecar document of tool name as a function object with the MCP
 * fields (see runner_list), or jv_invalid(). */
jv runner_describe(struct runner *r, const char *name);

/* Why call fn ({name, arguments}, arguments a JSON string or a value;
 * borrowed, and job->name points into it) must not run, as a message for
 * the model, or jv_invalid() when it may: then the job's name, path and
 * input are set. With may_exec 0, a tool without a sidecar is not run
 * with --schema to check its arguments. */
jv runner_prepare(struct runner *r, struct job *job, jv fn, int may_exec);

/* Does job run an MCP tool (through mcp_program)? */
int runner_is_mcp(const struct runner *r, const struct job *job);

/* Is name on the allow list (-a)? */
int runner_allowed(const struct runner *r, const char *name);

/* Is name unknown: not a tool of the directory (a valid name or not)
 * nor an MCP tool? */
int runner_unknown(const struct runner *r, const char *name);

/* What the model reads of a finished job: its output, or with *failed
 * set, why it failed. */
jv runner_outcome(const struct runner *r, const struct job *job,
    int *failed);

/* Write a new sh tool and its sidecar into the tools directory (made
 * if it is not there) from signature (NULL: no parameters); see
 * toolsdir_new_tool. */
void runner_new_tool(struct runner *r, const char *name,
    const char *signature);

#endif
