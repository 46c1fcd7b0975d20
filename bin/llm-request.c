/*
 * llm-request: send a Chat Completions request (FILE or stdin) to an
 * OpenAI-compatible server and write its response on stdout. The body
 * is checked before it is sent and the response before it is written, so
 * stdout holds one whole JSON document or nothing. Exit 4 when the API
 * refuses the request, 5 on network failures and broken responses.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "json.h"

#define DEFAULT_BASE_URL "https://api.openai.com/v1"
#define DEFAULT_MODEL "gpt-4.1-mini"
#define DEFAULT_TIMEOUT 600.0
#define CONNECT_TIMEOUT 10L
#define RESPONSE_MAX ((size_t)64 << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-m MODEL] [-u BASE_URL] [-t SECONDS] [FILE]\n",
	    progname);
	if (f == stdout)
		fputs("Send a Chat Completions request and write the response.\n"
		    "  -m, --model MODEL       the model (default: the request's,\n"
		    "                          $LLM_MODEL, " DEFAULT_MODEL ")\n"
		    "  -u, --base-url URL      the API (default $OPENAI_BASE_URL,\n"
		    "                          " DEFAULT_BASE_URL ")\n"
		    "  -t, --timeout SECONDS   total time allowed (default 600)\n"
		    "Exit 4 when the API refuses, 5 on network or server failure.\n", f);
}

static const struct option longopts[] = {
	{"model", required_argument, NULL, 'm'},
	{"base-url", required_argument, NULL, 'u'},
	{"timeout", required_argument, NULL, 't'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

struct reply {
	struct buf body;
	int too_big;
	char request_id[128];
};

static size_t
on_body(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;

	if (r->body.len + size * n > RESPONSE_MAX) {
		r->too_big = 1;
		return 0;
	}
	buf_append(&r->body, data, size * n);
	return size * n;
}

/* Keep the x-request-id header for error messages. */
static size_t
on_header(char *data, size_t size, size_t n, void *userp)
{
	struct reply *r = userp;
	size_t len = size * n, name = sizeof "x-request-id:" - 1, i;

	if (len > name && strncasecmp(data, "x-request-id:", name) == 0) {
		data += name;
		len -= name;
		while (len > 0 && (*data == ' ' || *data == '\t'))
			data++, len--;
		while (len > 0 && isspace((unsigned char)data[len - 1]))
			len--;
		if (len >= sizeof r->request_id)
			len = sizeof r->request_id - 1;
		for (i = 0; i < len; i++)
			r->request_id[i] = isprint((unsigned char)data[i]) ?
			    data[i] : '?';
		r->request_id[len] = '\0';
	}
	return size * n;
}

/* Text as a short printable line: control characters dropped, white
 * space folded, at most 200 bytes; with html, tags become spaces. */
static char *
printable_excerpt(const char *s, int html)
{
	char *out = xmalloc(204), *p = out;
	int in_tag = 0, space = 1;

	for (; *s != '\0' && p - out < 200; s++) {
		unsigned char c = (unsigned char)*s;
		int was_tag = in_tag;

		if (html && c == '<')
			in_tag = was_tag = 1;
		else if (html && c == '>' && in_tag)
			in_tag = 0;
		if (was_tag || isspace(c) || c < 0x20 || c == 0x7f) {
			if (!space)
				*p++ = ' ';
			space = 1;
		} else {
			*p++ = (char)c;
			space = 0;
		}
	}
	if (*s != '\0')
		p += sprintf(p, "...");
	while (p > out && p[-1] == ' ')
		p--;
	*p = '\0';
	return out;
}

/* The server's error message in any of the shapes servers use:
 * {"error":{"message"}}, {"error":"..."}, {"message"}, {"detail"}, or
 * not JSON at all. Sets *code to error.code when it is a string. */
static char *
error_message(const struct buf *body, char *code, size_t codesz)
{
	jv v = json_parse(body->data ? body->data : "", body->len);
	jv err;
	const char *m = NULL;
	char *out;

	*code = '\0';
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		out = printable_excerpt(body->data ? body->data : "", 1);
		if (*out == '\0') {
			free(out);
			out = xstrdup("(empty body)");
		}
		return out;
	}
	err = json_get(v, "error");
	if (jv_get_kind(err) == JV_KIND_OBJECT) {
		const char *c = json_get_str(err, "code");
		m = json_get_str(err, "message");
		if (c != NULL)
			snprintf(code, codesz, "%s", c);
	} else if (jv_get_kind(err) == JV_KIND_STRING) {
		m = jv_string_value(err);
	}
	if (m == NULL)
		m = json_get_str(v, "message");
	if (m == NULL)
		m = json_get_str(v, "detail");
	if (m != NULL) {
		out = printable_excerpt(m, 0);
	} else {
		char *dump = json_dump(jv_copy(v));
		out = printable_excerpt(dump, 0);
		free(dump);
	}
	jv_free(err);
	jv_free(v);
	return out;
}

/* Some servers answer 200 with {"error":{...}}. v is borrowed. */
static int
has_error_object(jv v)
{
	jv err = json_get(v, "error");
	int yes = jv_get_kind(err) == JV_KIND_OBJECT;

	jv_free(err);
	return yes;
}

/* Check the request and settle its model. Exits 3 on a bad shape. */
static jv
prepare_body(jv body, const char *model)
{
	jv messages;

	if (jv_get_kind(body) != JV_KIND_OBJECT)
		die(EXIT_INPUT, "request: %s, not an object",
		    json_kind_name(body));
	messages = json_get(body, "messages");
	if (jv_get_kind(messages) != JV_KIND_ARRAY)
		die(EXIT_INPUT, "request: no messages array");
	jv_free(messages);
	messages = json_get(body, "stream");
	if (jv_get_kind(messages) == JV_KIND_TRUE)
		die(EXIT_INPUT, "request: \"stream\": true is not supported; "
		    "llm-request writes whole responses");
	jv_free(messages);
	if (model == NULL && json_get_str(body, "model") == NULL) {
		model = getenv("LLM_MODEL");
		if (model == NULL || *model == '\0')
			model = DEFAULT_MODEL;
	}
	if (model != NULL)
		body = jv_object_set(body, jv_string("model"), jv_string(model));
	return body;
}

static struct curl_slist *
request_headers(void)
{
	struct curl_slist *h = NULL;
	const char *key = getenv("OPENAI_API_KEY");
	const char *org = getenv("OPENAI_ORG_ID");
	const char *project = getenv("OPENAI_PROJECT_ID");
	struct buf line = {0};

	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	if (key != NULL && *key != '\0') {
		buf_append_str(&line, "Authorization: Bearer ");
		buf_append_str(&line, key);
		h = curl_slist_append(h, line.data);
		/* Do not leave the key in freed memory. */
		memset(line.data, 0, line.len);
		line.len = 0;
	}
	if (org != NULL && *org != '\0') {
		buf_append_str(&line, "OpenAI-Organization: ");
		buf_append_str(&line, org);
		h = curl_slist_append(h, line.data);
		line.len = 0;
	}
	if (project != NULL && *project != '\0') {
		buf_append_str(&line, "OpenAI-Project: ");
		buf_append_str(&line, project);
		h = curl_slist_append(h, line.data);
	}
	buf_free(&line);
	return h;
}

/* Strip trailing slashes and add the endpoint. */
static char *
endpoint_url(const char *base)
{
	size_t n = strlen(base);
	char *url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	url = xmalloc(n + sizeof "/chat/completions");
	memcpy(url, base, n);
	strcpy(url + n, "/chat/completions");
	return url;
}

/* Exit code for a finished transfer that got an HTTP status. */
static int
status_exit(long status, const char *code)
{
	if (status == 408 || status == 409 || status >= 500)
		return EXIT_TRANSIENT;
	if (status == 429)
		return strcmp(code, "insufficient_quota") == 0 ? EXIT_API :
		    EXIT_TRANSIENT;
	return EXIT_API;
}

static int
curl_exit(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return EXIT_USAGE;
	default:
		return EXIT_TRANSIENT;
	}
}

int
main(int argc, char *argv[])
{
	const char *model = NULL, *base = NULL;
	double timeout = DEFAULT_TIMEOUT;
	char errbuf[CURL_ERROR_SIZE] = "", code[64];
	struct reply reply = {0};
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	CURLcode rc;
	char *url = NULL, *payload = NULL, *msg;
	long status = 0;
	int c, ret = 0;
	jv body, response;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "m:u:t:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'u':
			base = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout) != 0 || timeout <= 0)
				die(EXIT_USAGE, "-t: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("llm-request " LLM_TOOLS_VERSION);
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
	if (base == NULL)
		base = getenv("OPENAI_BASE_URL");
	if (base == NULL || *base == '\0')
		base = DEFAULT_BASE_URL;
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
		die(EXIT_USAGE, "base URL must start with http:// or https://: %s",
		    base);

	body = prepare_body(json_read_doc(argv[optind], "request"), model);
	payload = json_dump(body);
	url = endpoint_url(base);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	curl = curl_easy_init();
	if (curl == NULL)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	headers = request_headers();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "llm-tools/" LLM_TOOLS_VERSION);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(payload));
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		if (reply.too_big)
			warnx("%s: response larger than %zu bytes", url,
			    RESPONSE_MAX);
		else
			warnx("%s: %s", url, *errbuf ? errbuf :
			    curl_easy_strerror(rc));
		ret = reply.too_big ? EXIT_TRANSIENT : curl_exit(rc);
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		msg = error_message(&reply.body, code, sizeof code);
		warnx("HTTP %ld: %s%s%s%s", status, msg,
		    *reply.request_id ? " (request id " : "", reply.request_id,
		    *reply.request_id ? ")" : "");
		free(msg);
		ret = status_exit(status, code);
		goto out;
	}
	response = json_parse(reply.body.data ? reply.body.data : "",
	    reply.body.len);
	if (!jv_is_valid(response) || jv_get_kind(response) != JV_KIND_OBJECT) {
		msg = jv_is_valid(response) ? xstrdup("not an object") :
		    json_invalid_message(jv_copy(response));
		warnx("HTTP %ld: the response is not a JSON object: %s", status,
		    msg);
		free(msg);
		jv_free(response);
		ret = EXIT_TRANSIENT;
		goto out;
	}
	if (has_error_object(response)) {
		msg = error_message(&reply.body, code, sizeof code);
		warnx("HTTP %ld with an error: %s", status, msg);
		free(msg);
		jv_free(response);
		ret = EXIT_TRANSIENT;
		goto out;
	}
	jv_free(response);
	/* The body as the server sent it: numbers keep every digit. */
	fwrite(reply.body.data, 1, reply.body.len, stdout);
	if (reply.body.data[reply.body.len - 1] != '\n')
		fputc('\n', stdout);
	finish_stdout();
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	buf_free(&reply.body);
	free(url);
	free(payload);
	return ret;
}
