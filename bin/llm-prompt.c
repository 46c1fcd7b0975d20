/*
 * llm-prompt: start or continue a Chat Completions request. Writes a
 * request with an optional system message, the tools of a tools file
 * (from tool-run --list) and a user message: text piped in on stdin,
 * the files of -f, then PROMPT; with -c it continues the request or
 * conversation in FILE (or stdin) instead. Without PROMPT and -c, stdin
 * is the request when it starts with { or [, else the prompt; with -c
 * FILE and no PROMPT, stdin is not read.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "request.h"
#include "toolcall.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-IN] [-m MODEL] [-s SYSTEM] [-w TOOLS] "
	    "[-C CHOICE] [-c REQUEST]\n"
	    "                  [-f FILE]... [-o NAME=VALUE]... [-J SCHEMA] "
	    "[-O FILE] [PROMPT]\n", progname);
	if (f == stdout)
		fputs("Write a Chat Completions request with PROMPT as its user message,\n"
		    "after the text piped in on stdin and the files of -f.\n"
		    "  -m, --model MODEL       set the model\n"
		    "  -s, --system TEXT       set the system message\n"
		    "  -w, --tools FILE        add the tools of FILE (tool-run --list)\n"
		    "  -c, --continue REQUEST  continue REQUEST (- for stdin)\n"
		    "  -C, --tool-choice CHOICE  auto, none, required or a function name\n"
		    "  -N, --no-tools          offer no tools: remove tools and tool_choice\n"
		    "  -f, --file FILE         add the text of FILE, with its name (- for stdin;\n"
		    "                          repeatable)\n"
		    "  -I, --no-stdin          do not read piped text from stdin\n"
		    "  -o, --option NAME=VALUE set a request field: VALUE as JSON when it is\n"
		    "                          JSON, else as a string (repeatable)\n"
		    "  -J, --schema SCHEMA     ask for a reply that follows a JSON Schema\n"
		    "                          (a file, or inline JSON)\n"
		    "  -O, --output FILE       write to FILE: all of it, or leave FILE be\n", f);
}

static const struct option longopts[] = {
	{"model", required_argument, NULL, 'm'},
	{"output", required_argument, NULL, 'O'},
	{"system", required_argument, NULL, 's'},
	{"tools", required_argument, NULL, 'w'},
	{"continue", required_argument, NULL, 'c'},
	{"tool-choice", required_argument, NULL, 'C'},
	{"no-tools", no_argument, NULL, 'N'},
	{"file", required_argument, NULL, 'f'},
	{"no-stdin", no_argument, NULL, 'I'},
	{"option", required_argument, NULL, 'o'},
	{"schema", required_argument, NULL, 'J'},
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

/* Append part to the user message text, a blank line after the last. */
static void
add_part(struct buf *text, const char *part, size_t n)
{
	if (n == 0)
		return;
	if (text->len > 0)
		buf_append_str(text, "\n\n");
	buf_append(text, part, n);
}

/* Add the text piped in (b, from stdin) to the user message: its
 * trailing newlines dropped, nothing when that leaves nothing. */
static void
add_piped(struct buf *text, struct buf *b)
{
	size_t n = b->len;

	check_text(b, "standard input");
	while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == '\r'))
		n--;
	if (n > 0)
		add_part(text, b->data, n);
}

/* Add file path (- for stdin) to the user message, framed with its name. */
static void
add_file(struct buf *text, const char *path)
{
	struct buf b = {0}, framed = {0};
	const char *name = strcmp(path, "-") == 0 ? "(standard input)" : path;

	read_file_or_die(path, TEXT_INPUT_MAX, &b, EXIT_INPUT);
	check_text(&b, strcmp(path, "-") == 0 ? "standard input" : path);
	frame_file(&framed, name, b.data ? b.data : "", b.len);
	add_part(text, framed.data, framed.len);
	buf_free(&framed);
	buf_free(&b);
}

/* Does text start with { or [, blanks aside: a request, not a prompt? */
static int
looks_like_request(const struct buf *b)
{
	size_t i = strspn(b->data, " \t\r\n");

	return i < b->len && (b->data[i] == '{' || b->data[i] == '[');
}

/* The request of -c, or the one read from stdin (b, when not NULL). */
static jv
continued_request(const char *cont, struct buf *b)
{
	jv request, messages;

	if (b != NULL) {
		request = json_parse(b->data, b->len);
		if (!jv_is_valid(request)) {
			char *msg = json_invalid_message(request);
			die(EXIT_INPUT, "request (standard input): not a JSON "
			    "document: %s", msg);
		}
		cont = "standard input";
	} else {
		request = json_read_doc(cont, "request");
	}
	if (jv_get_kind(request) == JV_KIND_ARRAY)
		request = JV_OBJECT(jv_string("messages"), request);
	if (jv_get_kind(request) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "request (%s): %s, not an object", cont,
		    json_kind_name(request));
	messages = json_get(request, "messages");
	if (jv_get_kind(messages) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "request (%s): no messages array", cont);
	jv_free(messages);
	return request;
}

/* Is standard input open for reading? A closed descriptor 0, or one
 * open only for writing, holds no piped text. */
static int
stdin_readable(void)
{
	int flags = fcntl(STDIN_FILENO, F_GETFL);

	return flags != -1 && (flags & O_ACCMODE) != O_WRONLY;
}

/* The request fields of every -o NAME=VALUE, in order. */
static jv
option_fields(jv options)
{
	jv request = jv_object();

	jv_array_foreach(options, i, o) {
		request = request_set_option(request, jv_string_value(o));
		jv_free(o);
	}
	return request;
}

/* The system message (replacing one there is) and, when TEXT is not
 * NULL, a user message of TEXT at the end of the conversation. */
static jv
add_messages(jv request, const char *system, const struct buf *text)
{
	jv messages = json_get(request, "messages");

	if (jv_get_kind(messages) != JV_KIND_ARRAY) {
		jv_free(messages);
		messages = jv_array();
	}
	if (system != NULL)
		messages = set_system(messages, system);
	if (text != NULL)
		messages = jv_array_append(messages, text_message("user",
		    text->data != NULL ? text->data : ""));
	return jv_object_set(request, jv_string("messages"), messages);
}

/* The tools of FILE added (or, with NO_TOOLS, all removed), then the
 * tool choice, which the API refuses where no tools are offered: there
 * only "none" is dropped quietly. */
static jv
offer_tools(jv request, const char *file, int no_tools, jv choice)
{
	jv has;

	if (file != NULL)
		request = merge_tools(request, file);
	if (no_tools)
		request = jv_object_delete(jv_object_delete(request,
		    jv_string("tools")), jv_string("tool_choice"));
	if (!jv_is_valid(choice))
		return request;
	has = json_get(request, "tools");
	if (jv_get_kind(has) != JV_KIND_ARRAY) {
		jv_free(has);
		if (jv_get_kind(choice) != JV_KIND_STRING ||
		    strcmp(jv_string_value(choice), "none") != 0)
			die(EXIT_USAGE, "-C: the request offers no tools to "
			    "choose from");
		jv_free(choice);
		return request;
	}
	jv_free(has);
	return jv_object_set(request, jv_string("tool_choice"), choice);
}

/* What the options ask for. */
struct options {
	const char *model, *system, *tools, *cont, *output, *schema;
	jv choice;                 /* -C, or invalid */
	jv fields;                 /* -o NAME=VALUE..., strings */
	int no_tools, no_stdin;
	char **files;              /* -f FILE..., in order */
	int nfiles, file_stdin;
};

/* Parse the options into o; exits on --help, --version and a usage
 * error. */
static void
parse_options(int argc, char *argv[], struct options *o)
{
	int c;

	o->choice = jv_invalid();
	o->fields = jv_array();
	o->files = xmalloc(sizeof *o->files * (size_t)argc);
	while ((c = getopt_long(argc, argv, "m:s:w:c:C:NhVO:f:Io:J:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'O':
			o->output = optarg;
			break;
		case 's':
			o->system = optarg;
			break;
		case 'w':
			o->tools = optarg;
			break;
		case 'c':
			o->cont = optarg;
			break;
		case 'C':
			jv_free(o->choice);
			o->choice = tool_choice_option(optarg);
			break;
		case 'N':
			o->no_tools = 1;
			break;
		case 'f':
			if (strcmp(optarg, "-") == 0 && o->file_stdin++)
				die(EXIT_USAGE, "-f -: standard input given twice");
			o->files[o->nfiles++] = optarg;
			break;
		case 'I':
			o->no_stdin = 1;
			break;
		case 'o':
			o->fields = jv_array_append(o->fields, jv_string(optarg));
			break;
		case 'J':
			o->schema = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			puts("llm-prompt " LLM_TOOLS_VERSION);
			exit(0);
		default:
			usage_error(usage, NULL);
		}
	}
	if (argc - optind > 1)
		usage_error(usage, NULL);
	if (o->file_stdin && o->cont != NULL && strcmp(o->cont, "-") == 0)
		die(EXIT_USAGE, "-f -: standard input is already the "
		    "conversation (-c -)");
}

int
main(int argc, char *argv[])
{
	struct options o = {0};
	const char *prompt;
	jv request, format = jv_invalid();
	struct buf piped = {0}, text = {0};
	int have_piped = 0, i;

	set_progname(argv[0]);
	parse_options(argc, argv, &o);
	prompt = optind < argc ? argv[optind] : NULL;
	/* Every argument is checked before stdin is read. */
	request = option_fields(o.fields);
	if (o.schema != NULL) {
		if (jv_object_has(jv_copy(request), jv_string("response_format")))
			die(EXIT_USAGE, "--schema and -o response_format do not "
			    "go together");
		format = response_format_option(o.schema);
	}
	/* Text piped in, with PROMPT or as the prompt (or request) when
	 * there is no -c; not when stdin is a file of -f, a terminal,
	 * closed, or -I says no. */
	if ((prompt != NULL || o.cont == NULL) && !o.no_stdin && !o.file_stdin &&
	    !(o.cont != NULL && strcmp(o.cont, "-") == 0) &&
	    !isatty(STDIN_FILENO) && stdin_readable()) {
		read_file_or_die("-", JSON_INPUT_MAX, &piped, EXIT_INPUT);
		have_piped = piped.len > strspn(piped.data, " \t\r\n");
	}
	if (prompt == NULL && o.cont == NULL && !have_piped && o.nfiles == 0)
		die(EXIT_USAGE, "no PROMPT: give one, pipe it in, or give -c "
		    "or -f (see --help)");
	if (o.output != NULL)
		output_to(o.output);
	if (o.cont != NULL) {
		request = jv_object_merge(continued_request(o.cont, NULL), request);
	} else if (prompt == NULL && have_piped && looks_like_request(&piped)) {
		request = jv_object_merge(continued_request(NULL, &piped),
		    request);
		have_piped = 0;
	}
	if (jv_is_valid(format))
		request = jv_object_set(request, jv_string("response_format"),
		    format);
	if (o.model != NULL)
		request = jv_object_set(request, jv_string("model"),
		    jv_string(o.model));
	if (have_piped)
		add_piped(&text, &piped);
	for (i = 0; i < o.nfiles; i++)
		add_file(&text, o.files[i]);
	if (prompt != NULL)
		add_part(&text, prompt, strlen(prompt));
	request = add_messages(request, o.system,
	    prompt != NULL || text.len > 0 ? &text : NULL);
	request = offer_tools(request, o.no_tools ? NULL : o.tools, o.no_tools,
	    o.choice);
	o.choice = jv_invalid();
	json_write_stdout(request);
	buf_free(&piped);
	buf_free(&text);
	jv_free(o.fields);
	free(o.files);
	finish_stdout();
	return 0;
}
