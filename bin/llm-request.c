/*
 * llm-request: send a Chat Completions request (FILE or stdin) to an
 * OpenAI-compatible server and write its response on stdout. The body
 * is checked before it is sent and the response before it is written, so
 * stdout holds one whole JSON document or nothing. Failures that may pass
 * (network errors, timeouts, 408, 409, 429, 5xx) are retried as the
 * official SDKs do. Exit 4 when the API refuses the request, 5 when a
 * transient failure outlives the retries or the response is broken.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "apiheaders.h"
#include "chatcall.h"
#include "common.h"
#include "payload.h"
#include "term.h"

#define DEFAULT_TIMEOUT 600.0
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_IDLE_TIMEOUT 60.0
#define DEFAULT_RETRIES 2
#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-q] [-m MODEL] [-u BASE_URL] [-t SECONDS] "
	    "[-r RETRIES] [-H HEADER]...\n"
	    "                   [--connect-timeout SECONDS] [-i SECONDS] "
	    "[--max-response BYTES]\n"
	    "                   [-S [--show] [--status TEXT]] [-O FILE] "
	    "[-E CAFILE] [FILE]\n", progname);
	if (f == stdout)
		fputs("Send a Chat Completions request and write the response.\n"
		    "  -m, --model MODEL          the model (default: the request's,\n"
		    "                             $LLM_MODEL, " DEFAULT_MODEL ")\n"
		    "  -u, --base-url URL         the API (default $OPENAI_BASE_URL,\n"
		    "                             " DEFAULT_BASE_URL ")\n"
		    "  -t, --timeout SECONDS      time allowed to each attempt (600)\n"
		    "      --connect-timeout SEC  time allowed to connect (10)\n"
		    "  -i, --idle-timeout SEC     cut off a body that stalls (60)\n"
		    "  -r, --retries N            retries of transient failures (2)\n"
		    "  -H, --header 'NAME: VALUE' add a header (repeatable)\n"
		    "      --max-response BYTES   refuse larger responses (64 MiB)\n"
		    "  -E, --cacert FILE          trust the CAs in FILE (default\n"
		    "                             $CURL_CA_BUNDLE, $SSL_CERT_FILE)\n"
		    "  -S, --stream               stream the response; write it whole\n"
		    "      --show                 show the text on stderr as it comes\n"
		    "      --status TEXT          with --show, show TEXT and the time\n"
		    "                             waited until the text comes\n"
		    "                             (the default when stderr is a terminal)\n"
		    "  -q, --quiet                do not report retries\n"
		    "  -O, --output FILE          write to FILE: all of it, or leave FILE be\n"
		    "Exit 4 when the API refuses, 5 on network or server failure.\n", f);
}

/* The options that have no letter. */
enum { OPT_CONNECT_TIMEOUT = 256, OPT_MAX_RESPONSE, OPT_SHOW, OPT_STATUS };

static const struct option longopts[] = {
	{"model", required_argument, NULL, 'm'},
	{"output", required_argument, NULL, 'O'},
	{"base-url", required_argument, NULL, 'u'},
	{"timeout", required_argument, NULL, 't'},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"idle-timeout", required_argument, NULL, 'i'},
	{"retries", required_argument, NULL, 'r'},
	{"header", required_argument, NULL, 'H'},
	{"max-response", required_argument, NULL, OPT_MAX_RESPONSE},
	{"cacert", required_argument, NULL, 'E'},
	{"quiet", no_argument, NULL, 'q'},
	{"stream", no_argument, NULL, 'S'},
	{"show", no_argument, NULL, OPT_SHOW},
	{"status", required_argument, NULL, OPT_STATUS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

/* The response on stdout: on a terminal made safe for it, in a pipe or
 * a file byte for byte. */
static void
write_response(const char *s, size_t n)
{
	if (isatty(STDOUT_FILENO))
		term_write(stdout, s, n, TERM_NEWLINES);
	else
		fwrite(s, 1, n, stdout);
}

/* What the options ask for, besides the call itself. */
struct options {
	const char *model, *base, *output, *cacert;
	struct curl_slist *headers;   /* -H, in order */
};

/* Parse the options into o and call (its timeouts, limits and flags);
 * exits on --help, --version and a usage error. */
static void
parse_options(int argc, char *argv[], struct options *o,
    struct chat_call *call)
{
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "m:u:t:i:r:H:qShVO:E:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'O':
			o->output = optarg;
			break;
		case 'u':
			o->base = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &call->http.timeout) != 0 ||
			    call->http.timeout <= 0)
				die(EXIT_USAGE, "-t: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_seconds(optarg, &call->http.connect_timeout) !=
			    0 || call->http.connect_timeout <= 0)
				die(EXIT_USAGE, "--connect-timeout: not a positive "
				    "number of seconds: %s", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &call->http.idle_timeout) != 0 ||
			    call->http.idle_timeout <= 0)
				die(EXIT_USAGE, "--idle-timeout: not a positive "
				    "number of seconds: %s", optarg);
			break;
		case 'r':
			if (parse_long(optarg, 0, 100, &call->retries) != 0)
				die(EXIT_USAGE, "-r: not a number of retries "
				    "from 0 to 100: %s", optarg);
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL || optarg[0] == ':')
				die(EXIT_USAGE, "-H: not a 'Name: value' header");
			if (!header_value_ok(optarg))
				die(EXIT_USAGE, "-H: holds a control character "
				    "(CR, LF, ...); refused");
			o->headers = curl_slist_append(o->headers, optarg);
			break;
		case OPT_MAX_RESPONSE:
			if (parse_long(optarg, 1, 1L << 40, &n) != 0)
				die(EXIT_USAGE, "--max-response: not a positive "
				    "number of bytes: %s", optarg);
			call->max_response = (size_t)n;
			break;
		case 'E':
			if (access(optarg, R_OK) != 0)
				die(EXIT_USAGE, "--cacert: %s: %s", optarg,
				    strerror(errno));
			o->cacert = optarg;
			break;
		case 'q':
			call->quiet = 1;
			break;
		case 'S':
			call->stream = 1;
			break;
		case OPT_SHOW:
			call->show = 1;
			break;
		case OPT_STATUS:
			call->status_text = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			puts("llm-request " LLM_TOOLS_VERSION);
			exit(0);
		default:
			usage_error(usage, NULL);
		}
	}
	if (argc - optind > 1)
		usage_error(usage, NULL);
}

int
main(int argc, char *argv[])
{
	struct options o = {0};
	struct chat_call call = {
		.http = {.timeout = DEFAULT_TIMEOUT,
		    .connect_timeout = DEFAULT_CONNECT_TIMEOUT,
		    .idle_timeout = DEFAULT_IDLE_TIMEOUT},
		.max_response = DEFAULT_MAX_RESPONSE,
		.retries = DEFAULT_RETRIES,
		.show = -1,
	};
	struct buf input = {0}, response = {0};
	char *url = NULL, *shown = NULL, *payload = NULL, *key;
	int ret;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
	/* The key in memory: no core dump, no ptrace or /proc reading by
	 * other processes of the user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	parse_options(argc, argv, &o, &call);
	if ((ret = api_endpoint(o.base, &url, &shown)) != 0)
		goto out;
	key = take_api_key();

	read_request(argv[optind], &input);
	if (o.output != NULL)
		output_to(o.output);
	payload = request_payload(&input, o.model, &call.stream);
	buf_free(&input);
	if (call.show < 0)
		call.show = call.stream && isatty(STDERR_FILENO);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	call.http.url = url;
	call.http.body = payload;
	call.http.body_len = strlen(payload);
	call.http.headers = request_headers(o.headers, call.stream, key);
	http_ca_choice(o.cacert, &call.http.cainfo, &call.http.capath);
	call.shown_url = shown;
	call.holder = getenv("LLM_HOLDER");
	ret = chat_call_run(&call, &response, isatty(STDOUT_FILENO));
	if (ret == 0) {
		write_response(response.data, response.len);
		finish_stdout();
	}
out:
	free_headers(call.http.headers);
	free_headers(o.headers);
	curl_global_cleanup();
	buf_free(&response);
	free(url);
	free(shown);
	free(payload);
	return ret;
}
