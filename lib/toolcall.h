/*
 * Tool calls out of a Chat Completions response, normalized to the
 * OpenAI shape: [{id, type:"function", function:{name, arguments}}],
 * arguments always a JSON string, every id present and unique.
 * tool-extract and tool-append share this so that both see the same ids.
 */
#ifndef LLM_TOOLCALL_H
#define LLM_TOOLCALL_H

#include <jv.h>

/* The assistant message of choices[0] (new reference), or an invalid
 * value with a message saying what is wrong. response is borrowed. */
jv response_message(jv response);

/* The normalized tool calls of message (borrowed); response (borrowed)
 * seeds generated ids. An invalid value with a message on bad shape. */
jv normalize_tool_calls(jv response, jv message);

/* The message as it goes back into a request: role, content (null kept),
 * refusal when a string, and calls when there are any. calls consumed. */
jv assistant_message_for_request(jv message, jv calls);

/* The results (tool messages) in the order of calls, both borrowed: an
 * invalid value with a message when a call has no result or more than
 * one, or a result answers no call, as the API would reject that. */
jv results_in_call_order(jv calls, jv results);

/* The tool_choice value of the argument of -C: auto, none, required or
 * a function name; anything else is a usage error (exit 2). */
jv tool_choice_option(const char *text);

#endif
