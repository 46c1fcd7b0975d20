/*
 * A server on lib/httpd.c for its tests: prints its port, then answers
 * each request with {n, method, path, body} (the body's length), on a
 * connection kept open as the client allows; /stream answers with three
 * events in chunks; a refused request gets its status. Exits after
 * COUNT requests (the operand) or on SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "httpd.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
answer(void *ctx, int fd, struct http_request *req, int status)
{
	static const char *events[] = {"data: 1\n\n", "data: 2\n\n",
	    "data: [DONE]\n\n"};
	struct http_response r;
	int *count = ctx, keep = status == 0 && http_request_keep_alive(req);
	size_t i;

	++*count;
	http_response_init(&r);
	if (status != 0) {
		http_set_body(&r, status, "text/plain", "refused\n", 8);
		http_send(fd, &r, 0);
	} else if (strcmp(req->path, "/stream") == 0) {
		r.ctype = "text/event-stream";
		if (http_send_head(fd, &r, 1, keep) == 0)
			for (i = 0; i <= 3; i++)
				if (http_send_chunk(fd, i < 3 ? events[i] : "",
				    i < 3 ? strlen(events[i]) : 0) < 0)
					break;
	} else {
		http_set_json(&r, 200, JV_OBJECT(jv_string("n"),
		    jv_number(*count), jv_string("method"),
		    jv_string(req->method), jv_string("path"),
		    jv_string(req->path), jv_string("body"),
		    jv_number((double)req->body.len)));
		http_send(fd, &r, keep);
	}
	http_response_free(&r);
	return keep ? HTTPD_KEEP : HTTPD_CLOSE;
}

int
main(int argc, char **argv)
{
	struct httpd h;
	struct sigaction sa;
	char why[READ_WHY_MAX];
	long count = 0;
	int port, fd, served = 0;

	set_progname(argv[0]);
	if (argc != 2 || parse_long(argv[1], 1, 1000, &count) < 0)
		die(EXIT_USAGE, "usage: echo COUNT");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	httpd_init(&h);
	h.stop = &stop;
	h.idle_ms = 2000;
	h.body_max = 1024;
	if ((port = httpd_listen(&h, 0, why)) < 0)
		die(EXIT_TRANSIENT, "%s", why);
	printf("%d\n", port);
	fflush(stdout);
	while (!stop && served < count)
		if ((fd = httpd_accept(&h)) >= 0)
			httpd_serve(&h, fd, answer, &served);
	httpd_close(&h);
	return 0;
}
