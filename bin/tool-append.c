/*
 * tool-append: write the next request of the conversation. Reads
 * tool-run's results (a JSON array of tool messages) on stdin and writes
 * REQUEST with the response's assistant message and those results
 * appended, in call order. Refuses (exit 3, nothing on stdout) when a call
 * has no result or a result answers no call: the API would reject that.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "textcalls.h"
#include "toolcall.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-W] [--user TEXT] [-C CHOICE] [-O FILE] REQUEST RESPONSE\n",
	    progname);
	if (f == stdout)
		fputs("Write the next request: REQUEST, the assistant message of RESPONSE\n"
		    "and the tool results read on stdin, in call order.\n"
		    "      --user TEXT          then append a user message\n"
		    "  -C, --tool-choice CHOICE set tool_choice: auto, none, required\n"
		    "                           or a function name\n"
		    "  -W, --text-calls         also read tool calls the model wrote as text\n"
		    "  -O, --output FILE        write to FILE: all of it, or leave FILE be\n"
		    "Exit 3 when a call has no result or a result answers no call.\n", f);
}

/* The option that has no letter. */
enum { OPT_USER = 256 };

static const struct option longopts[] = {
	{"user", required_argument, NULL, OPT_USER},
	{"output", required_argument, NULL, 'O'},
	{"tool-choice", required_argument, NULL, 'C'},
	{"text-calls", no_argument, NULL, 'W'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* Set tool_choice (consumed); without tools the API rejects any. */
static jv
set_tool_choice(jv request, jv choice)
{
	jv tools = json_get(request, "tools");
	int has_tools = jv_get_kind(tools) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(tools)) > 0;

	jv_free(tools);
	if (has_tools)
		return jv_object_set(request, jv_string("tool_choice"), choice);
	jv_free(choice);
	return jv_object_delete(request, jv_string("tool_choice"));
}

/* The results on stdin: an array of tool messages, or [] when stdin is
 * empty or a terminal. Exits 3 on anything else. */
static jv
read_results(void)
{
	struct buf b = {0};
	jv results;
	int i, n;

	if (isatty(STDIN_FILENO))
		return jv_array();
	read_file_or_die(NULL, JSON_INPUT_MAX, &b, EXIT_INPUT);
	if (b.len == strspn(b.data, " \t\r\n")) {
		buf_free(&b);
		return jv_array();
	}
	results = json_parse(b.data, b.len);
	buf_free(&b);
	if (!jv_is_valid(results))
		die(EXIT_INPUT, "results (standard input): not a JSON document: %s",
		    json_invalid_message(results));
	if (jv_get_kind(results) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "results (standard input): %s, not an array",
		    json_kind_name(results));
	n = jv_array_length(jv_copy(results));
	for (i = 0; i < n; i++) {
		jv r = jv_array_get(jv_copy(results), i);
		const char *role = json_get_str(r, "role");
		jv content = json_get(r, "content");
		int ok = role != NULL && strcmp(role, "tool") == 0 &&
		    json_get_str(r, "tool_call_id") != NULL &&
		    (jv_get_kind(content) == JV_KIND_STRING ||
		     jv_get_kind(content) == JV_KIND_ARRAY);
		jv_free(content);
		jv_free(r);
		if (!ok)
			die(EXIT_INPUT, "result %d is not a tool message "
			    "{\"role\":\"tool\",\"tool_call_id\",\"content\"}", i);
	}
	return results;
}

int
main(int argc, char *argv[])
{
	const char *user_text = NULL;
	jv choice = jv_invalid();
	jv request, response, message, calls, results, messages, ordered;
	const char *output = NULL;
	int c, text_calls = 0;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "C:WhVO:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_USER:
			user_text = optarg;
			break;
		case 'W':
			text_calls = 1;
			break;
		case 'O':
			output = optarg;
			break;
		case 'C':
			jv_free(choice);
			choice = tool_choice_option(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-append " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage_error(usage, NULL);
		}
	}
	if (argc - optind != 2)
		usage_error(usage, NULL);
	if (strcmp(argv[optind], "-") == 0 || strcmp(argv[optind + 1], "-") == 0)
		die(EXIT_USAGE, "REQUEST and RESPONSE must be files: "
		    "standard input carries the results");
	if (output != NULL)
		output_to(output);
	request = json_read_doc(argv[optind], "request");
	response = json_read_doc(argv[optind + 1], "response");
	if (text_calls)
		response = text_calls_response(response);
	messages = json_get(request, "messages");
	if (jv_get_kind(messages) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "request (%s): no messages array", argv[optind]);
	message = response_message(response);
	if (!jv_is_valid(message))
		die(EXIT_INPUT, "response (%s): %s", argv[optind + 1],
		    json_invalid_message(message));
	calls = normalize_tool_calls(response, message);
	if (!jv_is_valid(calls))
		die(EXIT_INPUT, "response (%s): %s", argv[optind + 1],
		    json_invalid_message(calls));
	results = read_results();

	ordered = results_in_call_order(calls, results);
	if (!jv_is_valid(ordered))
		die(EXIT_INPUT, "%s", json_invalid_message(ordered));
	messages = jv_array_append(messages,
	    assistant_message_for_request(message, jv_copy(calls)));
	messages = jv_array_concat(messages, ordered);
	if (user_text != NULL)
		messages = jv_array_append(messages, JV_OBJECT(
		    jv_string("role"), jv_string("user"),
		    jv_string("content"), jv_string(user_text)));
	request = jv_object_set(request, jv_string("messages"), messages);
	if (jv_is_valid(choice))
		request = set_tool_choice(request, choice);
	json_write_stdout(request);
	jv_free(calls);
	jv_free(results);
	jv_free(message);
	jv_free(response);
	finish_stdout();
	return 0;
}
