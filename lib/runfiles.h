/*
 * The documents of a keep directory that describe a run (llm-tools(7)):
 * settings.json, what the run needs to go on as it was started, and
 * summary.json, how it went, made from the files of its steps.
 */
#ifndef LLM_RUNFILES_H
#define LLM_RUNFILES_H

#include "json.h"

/*
 * settings.json from the loop's option values, given as NAME=VALUE
 * strings (names: dir model base max_turns final timeout retries
 * tool_timeout jobs envs sandbox confirm allow deny guards refusal
 * no_tools text_calls; absent ones are empty). An invalid value with a
 * message for an unknown name or a max_turns that is not a number.
 */
jv run_settings(char *const *pairs, int n);

/*
 * summary.json of the keep directory dir: how the run ended (how, and
 * its exit status), when it started (unless an earlier summary says),
 * when it ended, and model, the model asked for (used when no response
 * names one). An invalid value with a message when a file of the run
 * cannot be read as JSON.
 */
jv run_summary(const char *dir, const char *how, int exit_status,
    const char *started, const char *ended, const char *model);

#endif
