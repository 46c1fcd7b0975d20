/*
 * tool-extract: read a Chat Completions response (FILE or stdin) and
 * write the JSON array of its tool calls in the OpenAI shape, or with --reply
 * the reply text (escaped when stdout is a terminal). Exit 0 with calls, 1 with none (stdout "[]"), 3 when
 * the input is not a response; with --check, 9 when the reply does not follow
 * the JSON Schema of the request's response_format.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "request.h"
#include "term.h"
#include "textcalls.h"
#include "toolcall.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-W] [--reply [--check REQUEST]] [-O FILE] [FILE]\n", progname);
	if (f == stdout)
		fputs("Write the tool calls of a Chat Completions response as a JSON array.\n"
		    "      --reply        write the reply text instead\n"
		    "      --check REQUEST  with --reply: only a reply that follows the JSON\n"
		    "                     Schema of REQUEST's response_format, else exit 9\n"
		    "  -W, --text-calls   also read tool calls the model wrote as text\n"
		    "  -O, --output FILE  write to FILE: all of it, or leave FILE be\n"
		    "Exit 0 with calls, 1 without (stdout []), 3 on bad input.\n", f);
}

/* The options that have no letter. */
enum { OPT_REPLY = 256, OPT_CHECK };

static const struct option longopts[] = {
	{"reply", no_argument, NULL, OPT_REPLY},
	{"check", required_argument, NULL, OPT_CHECK},
	{"text-calls", no_argument, NULL, 'W'},
	{"output", required_argument, NULL, 'O'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* message[key] when it is a non-empty string (new reference), else
 * jv_invalid(). */
static jv
reply_text(jv message, const char *key)
{
	jv text = json_get(message, key);

	if (jv_get_kind(text) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(text)) > 0)
		return text;
	jv_free(text);
	return jv_invalid();
}

/* Write the reply text (content, else refusal) followed by a newline:
 * every byte into a pipe or a file, escaped for a terminal. */
static int
write_reply(jv message)
{
	jv text = reply_text(message, "content");
	const char *s;
	size_t n;

	if (!jv_is_valid(text))
		text = reply_text(message, "refusal");
	if (!jv_is_valid(text))
		return EXIT_NO;
	s = jv_string_value(text);
	n = (size_t)jv_string_length_bytes(jv_copy(text));
	if (isatty(STDOUT_FILENO))
		term_write(stdout, s, n, TERM_NEWLINES);
	else
		fwrite(s, 1, n, stdout);
	if (s[n - 1] != '\n')
		fputc('\n', stdout);
	jv_free(text);
	return 0;
}

/* Exit 9 unless the reply text of message (borrowed) follows the JSON
 * Schema that the request in path asks for (if it asks for one). */
static void
check_reply(jv message, const char *path)
{
	jv request = json_read_doc(path, "request");
	jv schema = request_reply_schema(request);
	jv text, problems;
	struct buf all = {0};
	int i, n;

	jv_free(request);
	if (!jv_is_valid(schema))
		return;
	text = reply_text(message, "content");
	if (jv_is_valid(text))
		problems = reply_schema_check(schema, jv_string_value(text),
		    (size_t)jv_string_length_bytes(jv_copy(text)));
	else
		problems = JV_ARRAY(jv_string("/: the reply holds no text"));
	n = jv_array_length(jv_copy(problems));
	for (i = 0; i < n; i++) {
		jv p = jv_array_get(jv_copy(problems), i);
		if (i > 0)
			buf_append_str(&all, "; ");
		buf_append_str(&all, jv_string_value(p));
		jv_free(p);
	}
	if (n > 0)
		die(EXIT_SCHEMA, "the reply does not follow the schema: %s",
		    all.data);
	jv_free(problems);
	jv_free(text);
	jv_free(schema);
}

int
main(int argc, char *argv[])
{
	jv response, message, calls;
	const char *output = NULL, *check = NULL;
	int c, reply = 0, text_calls = 0, rc;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "WhVO:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_REPLY:
			reply = 1;
			break;
		case OPT_CHECK:
			check = optarg;
			break;
		case 'W':
			text_calls = 1;
			break;
		case 'O':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("tool-extract " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage_error(usage, NULL);
		}
	}
	if (argc - optind > 1)
		usage_error(usage, NULL);
	if (check != NULL && !reply)
		usage_error(usage, "--check needs --reply");
	if (output != NULL)
		output_to(output);
	response = json_read_doc(argv[optind], "response");
	if (text_calls)
		response = text_calls_response(response);
	message = response_message(response);
	if (!jv_is_valid(message)) {
		char *msg = json_invalid_message(message);
		jv_free(response);
		die(EXIT_INPUT, "%s", msg);
	}
	if (reply) {
		message = message_with_text(message);
		if (check != NULL)
			check_reply(message, check);
		rc = write_reply(message);
	} else {
		calls = normalize_tool_calls(response, message);
		if (!jv_is_valid(calls)) {
			char *msg = json_invalid_message(calls);
			die(EXIT_INPUT, "%s", msg);
		}
		rc = jv_array_length(jv_copy(calls)) > 0 ? 0 : EXIT_NO;
		json_write_stdout(calls);
	}
	jv_free(message);
	jv_free(response);
	finish_stdout();
	return rc;
}
