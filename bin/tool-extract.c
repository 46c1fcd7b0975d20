/*
 * tool-extract: read a Chat Completions response (FILE or stdin) and
 * write the JSON array of its tool calls in the OpenAI shape, or with -r
 * the reply text. Exit 0 with calls, 1 with none (stdout "[]"), 3 when
 * the input is not a response.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "textcalls.h"
#include "toolcall.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-rW] [-O FILE] [FILE]\n", progname);
	if (f == stdout)
		fputs("Write the tool calls of a Chat Completions response as a JSON array.\n"
		    "  -r, --reply        write the reply text instead\n"
		    "  -W, --text-calls   also read tool calls the model wrote as text\n"
		    "  -O, --output FILE  write to FILE: all of it, or leave FILE be\n"
		    "Exit 0 with calls, 1 without (stdout []), 3 on bad input.\n", f);
}

static const struct option longopts[] = {
	{"reply", no_argument, NULL, 'r'},
	{"text-calls", no_argument, NULL, 'W'},
	{"output", required_argument, NULL, 'O'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* Write the reply text (content, else refusal) followed by a newline. */
static int
write_reply(jv message)
{
	const char *text = json_get_str(message, "content");
	size_t n;

	if (text == NULL || *text == '\0')
		text = json_get_str(message, "refusal");
	if (text == NULL || *text == '\0')
		return EXIT_NO;
	n = strlen(text);
	fwrite(text, 1, n, stdout);
	if (text[n - 1] != '\n')
		fputc('\n', stdout);
	return 0;
}

int
main(int argc, char *argv[])
{
	jv response, message, calls;
	const char *output = NULL;
	int c, reply = 0, text_calls = 0, rc;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "rWhVO:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			reply = 1;
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
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
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
