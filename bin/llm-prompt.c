/*
 * llm-prompt: start or continue a Chat Completions request. Writes a
 * request with an optional system message, the tools of a tools file
 * (from tool-run --list) and PROMPT as a user message; with -c it
 * continues the request or conversation in FILE (or stdin) instead.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "toolcall.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-N] [-m MODEL] [-s SYSTEM] [-T TOOLS] "
	    "[-C CHOICE] [-c REQUEST]\n"
	    "                  [-O FILE] [PROMPT]\n", progname);
	if (f == stdout)
		fputs("Write a Chat Completions request with PROMPT as its user message.\n"
		    "  -m, --model MODEL       set the model\n"
		    "  -s, --system TEXT       set the system message\n"
		    "  -T, --tools FILE        add the tools of FILE (tool-run --list)\n"
		    "  -c, --continue REQUEST  continue REQUEST (- for stdin)\n"
		    "  -C, --tool-choice CHOICE  auto, none, required or a function name\n"
		    "  -N, --no-tools          offer no tools: remove tools and tool_choice\n"
		    "  -O, --output FILE       write to FILE: all of it, or leave FILE be\n", f);
}

static const struct option longopts[] = {
	{"model", required_argument, NULL, 'm'},
	{"output", required_argument, NULL, 'O'},
	{"system", required_argument, NULL, 's'},
	{"tools", required_argument, NULL, 'T'},
	{"continue", required_argument, NULL, 'c'},
	{"tool-choice", required_argument, NULL, 'C'},
	{"no-tools", no_argument, NULL, 'N'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

static jv
text_message(const char *role, const char *text)
{
	return JV_OBJECT(jv_string("role"), jv_string(role),
	    jv_string("content"), jv_string(text));
}

/* Does tools (borrowed) define a function called name? */
static int
has_tool(jv tools, const char *name)
{
	int i, n = jv_array_length(jv_copy(tools)), found = 0;

	for (i = 0; i < n && !found; i++) {
		jv t = jv_array_get(jv_copy(tools), i);
		jv fn = json_get(t, "function");
		const char *s = json_get_str(fn, "name");
		found = s != NULL && strcmp(s, name) == 0;
		jv_free(fn);
		jv_free(t);
	}
	return found;
}

/* Add the tools of path to request; a tool the request already defines
 * keeps the request's definition. */
static jv
merge_tools(jv request, const char *path)
{
	jv extra = json_read_doc(path, "tools");
	jv tools = json_get(request, "tools");
	int i, n;

	if (jv_get_kind(extra) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "tools (%s): %s, not an array", path,
		    json_kind_name(extra));
	if (jv_get_kind(tools) != JV_KIND_ARRAY) {
		jv_free(tools);
		tools = jv_array();
	}
	n = jv_array_length(jv_copy(extra));
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(extra), i);
		jv fn = json_get(t, "function");
		const char *name = json_get_str(fn, "name");

		if (name == NULL)
			die(EXIT_INPUT, "tools (%s): element %d is not "
			    "{\"type\":\"function\",\"function\":{\"name\",...}}",
			    path, i);
		if (!has_tool(tools, name))
			tools = jv_array_append(tools, jv_copy(t));
		jv_free(fn);
		jv_free(t);
	}
	jv_free(extra);
	/* The API rejects an empty tools array. */
	if (jv_array_length(jv_copy(tools)) == 0) {
		jv_free(tools);
		return jv_object_delete(request, jv_string("tools"));
	}
	return jv_object_set(request, jv_string("tools"), tools);
}

/* Make text the system message: replace a leading one or insert it. */
static jv
set_system(jv messages, const char *text)
{
	jv first = jv_array_get(jv_copy(messages), 0);
	const char *role = json_get_str(first, "role");
	int replace = role != NULL && strcmp(role, "system") == 0;
	jv out;

	jv_free(first);
	if (replace)
		return jv_array_set(messages, 0, text_message("system", text));
	out = jv_array_concat(JV_ARRAY(text_message("system", text)), messages);
	return out;
}

int
main(int argc, char *argv[])
{
	const char *model = NULL, *system = NULL, *tools = NULL, *cont = NULL;
	jv choice = jv_invalid(), has;
	int no_tools = 0;
	jv request, messages;
	const char *output = NULL;
	int c;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "m:s:T:c:C:NhVO:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'O':
			output = optarg;
			break;
		case 's':
			system = optarg;
			break;
		case 'T':
			tools = optarg;
			break;
		case 'c':
			cont = optarg;
			break;
		case 'C':
			jv_free(choice);
			choice = tool_choice_option(optarg);
			break;
		case 'N':
			no_tools = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("llm-prompt " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (argc - optind == 0 && cont == NULL)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (output != NULL)
		output_to(output);
	if (cont != NULL) {
		request = json_read_doc(cont, "request");
		if (jv_get_kind(request) == JV_KIND_ARRAY)
			request = JV_OBJECT(jv_string("messages"), request);
		if (jv_get_kind(request) != JV_KIND_OBJECT)
			die(EXIT_INPUT, "request (%s): %s, not an object", cont,
			    json_kind_name(request));
		messages = json_get(request, "messages");
		if (jv_get_kind(messages) != JV_KIND_ARRAY)
			die(EXIT_INPUT, "request (%s): no messages array", cont);
	} else {
		request = jv_object();
		messages = jv_array();
	}
	if (model != NULL)
		request = jv_object_set(request, jv_string("model"),
		    jv_string(model));
	if (system != NULL)
		messages = set_system(messages, system);
	if (optind < argc)
		messages = jv_array_append(messages,
		    text_message("user", argv[optind]));
	request = jv_object_set(request, jv_string("messages"), messages);
	if (tools != NULL && !no_tools)
		request = merge_tools(request, tools);
	if (no_tools)
		request = jv_object_delete(jv_object_delete(request,
		    jv_string("tools")), jv_string("tool_choice"));
	has = json_get(request, "tools");
	if (jv_is_valid(choice) && jv_get_kind(has) != JV_KIND_ARRAY) {
		/* The API rejects a tool_choice without tools. */
		if (jv_get_kind(choice) != JV_KIND_STRING ||
		    strcmp(jv_string_value(choice), "none") != 0)
			die(EXIT_USAGE, "-C: the request offers no tools to "
			    "choose from");
		jv_free(choice);
		choice = jv_invalid();
	}
	jv_free(has);
	if (jv_is_valid(choice))
		request = jv_object_set(request, jv_string("tool_choice"), choice);
	json_write_stdout(request);
	finish_stdout();
	return 0;
}
