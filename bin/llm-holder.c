/*
 * llm-holder: keep the HTTP connections of many llm-request processes
 * open, as ssh's ControlMaster keeps one connection under many ssh
 * processes. It listens on a Unix socket in a directory only its user
 * can open, serves only processes of that user (checked with
 * SO_PEERCRED), makes each request's transfer with libcurl from one
 * shared connection cache (keep-alive, TLS sessions, HTTP/2 where the
 * server offers it) and hands the headers and the body back as they
 * arrive. It exits after IDLE seconds without a request, when the
 * process it watches exits, or on SIGTERM, SIGINT or SIGHUP, removing
 * its socket (and, with --remove-dir, the socket's directory).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "common.h"
#include "holder.h"
#include "http.h"
#include "jobs.h"

#define DEFAULT_IDLE 10.0

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [--foreground] [--idle SECONDS] [--watch PID] "
	    "[--remove-dir] SOCKET\n", progname);
	if (f == stdout)
		fputs("Keep llm-request's connections open on the Unix socket "
		    "SOCKET, whose\ndirectory must be yours alone (mode 0700); "
		    "print the holder's process id.\n"
		    "      --idle SECONDS  exit after SECONDS without a request "
		    "(10)\n"
		    "      --watch PID     exit when process PID exits\n"
		    "      --foreground    stay in the foreground; print nothing\n"
		    "      --remove-dir    the socket's directory is the holder's alone:\n"
		    "                      remove it too at the end\n"
		    "Use it with: LLM_HOLDER=SOCKET llm-request ...\n", f);
}

/* The options that have no letter: llm-loop's, rarely typed. */
enum { OPT_IDLE = 256, OPT_FOREGROUND, OPT_WATCH, OPT_REMOVE_DIR };

static const struct option longopts[] = {
	{"idle", required_argument, NULL, OPT_IDLE},
	{"foreground", no_argument, NULL, OPT_FOREGROUND},
	{"watch", required_argument, NULL, OPT_WATCH},
	{"remove-dir", no_argument, NULL, OPT_REMOVE_DIR},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};

static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int active;              /* requests being served */
static double last_request;     /* when the last one ended */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = sig;
}

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *u)
{
	(void)h, (void)access, (void)u;
	pthread_mutex_lock(&share_locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *u)
{
	(void)h, (void)u;
	pthread_mutex_unlock(&share_locks[data]);
}

/* One client's request, read from its socket. */
struct client {
	int fd;
	struct http_call call;
	char *url, *body, *cainfo, *capath;
	struct curl_slist *headers;
	struct buf env;         /* the client's "NAME=VALUE\n" lines */
	int informed, stalled;
	double last_byte;
	CURL *curl;
};

/* Read the request records; 0 when whole, -1 else. */
static int
read_request(struct client *c)
{
	struct buf rec = {0};
	char type, **dest;
	double t[3];
	int got, ok = 0, version = 0, timeouts = 0;

	while ((got = holder_recv(c->fd, &type, &rec, HOLDER_RECORD_MAX)) == 1) {
		dest = NULL;
		switch (type) {
		case 'V':
			version = strcmp(rec.data, HOLDER_VERSION) == 0;
			break;
		case 'U':
			dest = &c->url;
			break;
		case 'B':
			dest = &c->body;
			c->call.body_len = rec.len;
			break;
		case 'C':
			dest = &c->cainfo;
			break;
		case 'P':
			dest = &c->capath;
			break;
		case 'H':
			c->headers = curl_slist_append(c->headers, rec.data);
			break;
		case 'T':
			timeouts = sscanf(rec.data, "%lf %lf %lf", &t[0], &t[1],
			    &t[2]) == 3;
			break;
		case 'E':
			buf_append(&c->env, rec.data, rec.len);
			buf_append_str(&c->env, "\n");
			break;
		}
		if (dest != NULL) {
			free(*dest);
			*dest = rec.data;
			rec.data = NULL;
			rec.len = rec.cap = 0;
		}
		if (type == 'Z')
			break;
	}
	if (got == 1 && version && timeouts && c->url != NULL &&
	    c->body != NULL) {
		c->call.url = c->url;
		c->call.body = c->body;
		c->call.headers = c->headers;
		c->call.timeout = t[0] / 1000;
		c->call.connect_timeout = t[1] / 1000;
		c->call.idle_timeout = t[2] / 1000;
		c->call.cainfo = c->cainfo;
		c->call.capath = c->capath;
		ok = 1;
	}
	/* Nothing came (a probe that only connects): nothing to wipe. */
	if (rec.data != NULL)
		memset(rec.data, 0, rec.len);
	buf_free(&rec);
	return ok ? 0 : -1;
}

/* Are the client's proxy variables this process's? libcurl reads them
 * here, so only then is the transfer the one the client would make. */
static int
same_transport(const struct client *c)
{
	struct buf mine = {0};
	const char *const *name;
	const char *v;
	int same;

	for (name = http_transport_env; *name != NULL; name++) {
		if ((v = getenv(*name)) == NULL)
			continue;
		buf_append_str(&mine, *name);
		buf_append_str(&mine, "=");
		buf_append_str(&mine, v);
		buf_append_str(&mine, "\n");
	}
	same = mine.len == c->env.len &&
	    (mine.len == 0 || memcmp(mine.data, c->env.data, mine.len) == 0);
	buf_free(&mine);
	return same;
}

static size_t
on_header(char *data, size_t size, size_t n, void *userp)
{
	struct client *c = userp;

	return holder_send(c->fd, 'h', data, size * n) == 0 ? size * n : 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *userp)
{
	struct client *c = userp;
	char info[320];
	long status = 0;
	char *type = NULL;

	c->last_byte = now_seconds();
	if (!c->informed) {
		c->informed = 1;
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &type);
		snprintf(info, sizeof info, "%ld %s", status, type ? type : "");
		if (holder_send(c->fd, 'i', info, strlen(info)) != 0)
			return 0;
	}
	return holder_send(c->fd, 'b', data, size * n) == 0 ? size * n : 0;
}

/* Cut off a body that stalls, as llm-request does, and a transfer whose
 * client has gone. */
static int
on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct client *c = userp;
	struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (c->last_byte > 0 && now_seconds() - c->last_byte >
	    c->call.idle_timeout) {
		c->stalled = 1;
		return 1;
	}
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP |
	    POLLERR)) != 0;
}

static void
serve(struct client *c)
{
	char errbuf[CURL_ERROR_SIZE], end[64 + CURL_ERROR_SIZE];
	CURLcode rc;
	long status = 0;

	if (read_request(c) != 0)
		return;
	if (!same_transport(c)) {
		holder_send(c->fd, 'R', "proxy settings differ", 21);
		return;
	}
	if ((c->curl = curl_easy_init()) == NULL) {
		holder_send(c->fd, 'R', "out of memory", 13);
		return;
	}
	errbuf[0] = '\0';
	http_setup(c->curl, &c->call, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_SHARE, share);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	snprintf(end, sizeof end, "%d %ld %d\n%s", (int)rc, status, c->stalled,
	    errbuf);
	holder_send(c->fd, 'e', end, strlen(end));
	curl_easy_cleanup(c->curl);
}

static void *
client_thread(void *arg)
{
	struct client *c = arg;
	struct curl_slist *h;

	serve(c);
	close(c->fd);
	/* The key was in these: leave nothing behind in freed memory. */
	for (h = c->headers; h != NULL; h = h->next)
		memset(h->data, 0, strlen(h->data));
	curl_slist_free_all(c->headers);
	if (c->body != NULL)
		memset(c->body, 0, c->call.body_len);
	free(c->url);
	free(c->body);
	free(c->cainfo);
	free(c->capath);
	buf_free(&c->env);
	free(c);
	pthread_mutex_lock(&state_lock);
	active--;
	last_request = now_seconds();
	pthread_mutex_unlock(&state_lock);
	return NULL;
}

/* The directory of path must be a directory of ours that no one else
 * can enter or write, and not a link to one (planted in /tmp, it could
 * lead anywhere): exits 2 when it is not. */
static void
check_private_dir(const char *path)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	struct stat st;

	if (lstat(dir, &st) != 0)
		die(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		die(EXIT_USAGE, "%s: the socket's directory must be yours alone "
		    "(mode 0700), not a link", dir);
	free(copy);
}

/* Listen on path; a socket file nobody answers on is replaced. */
static int
listen_on(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, probe;

	if (strlen(path) >= sizeof addr.sun_path)
		die(EXIT_USAGE, "%s: longer than a socket name can be", path);
	strcpy(addr.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		die(EXIT_TRANSIENT, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		if (errno != EADDRINUSE)
			die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&addr,
		    sizeof addr) == 0)
			die(EXIT_NO, "%s: a holder already listens there", path);
		if (probe >= 0)
			close(probe);
		if (unlink(path) != 0 ||
		    bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
			die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
	}
	if (chmod(path, 0600) != 0 || listen(fd, 64) != 0)
		die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
	return fd;
}

/* Go to the background: the parent prints the holder's pid and exits.
 * The holder keeps no descriptor of its parent's but lfd (a lock held
 * on one would outlive the parent). */
static void
daemonize(int lfd, const char *path)
{
	pid_t pid;
	int null;

	fflush(stdout);
	if ((pid = fork()) < 0)
		die(EXIT_TRANSIENT, "fork: %s", strerror(errno));
	if (pid > 0) {
		printf("%ld\n", (long)pid);
		finish_stdout();
		_exit(0);
	}
	setsid();
	/* It may outlive the directory it was started in: hold none. */
	if (path[0] == '/' && chdir("/") != 0)
		die(EXIT_TRANSIENT, "/: %s", strerror(errno));
	if (lfd > STDERR_FILENO + 1)
		close_range(STDERR_FILENO + 1, (unsigned)lfd - 1, 0);
	close_range((unsigned)lfd + 1, ~0U, 0);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* rmdir the directory of path: it goes only when nothing is left in it. */
static void
remove_socket_dir(const char *path)
{
	char *copy = xstrdup(path);

	rmdir(dirname(copy));
	free(copy);
}

/* Accept and serve until idle or signalled. */
static void
accept_loop(int lfd, double idle, pid_t watch)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct ucred peer;
	socklen_t len;
	pthread_t tid;
	pthread_attr_t attr;
	sigset_t all, old;
	struct client *c;
	int fd, busy;
	double quiet;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	last_request = now_seconds();
	while (!stop) {
		pthread_mutex_lock(&state_lock);
		busy = active;
		quiet = now_seconds() - last_request;
		pthread_mutex_unlock(&state_lock);
		if (busy == 0 && quiet >= idle)
			break;
		if (watch > 0 && kill(watch, 0) != 0 && errno == ESRCH)
			break;
		if (poll(&p, 1, 200) <= 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		len = sizeof peer;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
		    peer.uid != geteuid()) {
			close(fd);
			continue;
		}
		c = xmalloc(sizeof *c);
		memset(c, 0, sizeof *c);
		c->fd = fd;
		pthread_mutex_lock(&state_lock);
		active++;
		pthread_mutex_unlock(&state_lock);
		/* Signals are for this thread: the workers block them all. */
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&tid, &attr, client_thread, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&state_lock);
			active--;
			pthread_mutex_unlock(&state_lock);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
}

int
main(int argc, char *argv[])
{
	double idle = DEFAULT_IDLE;
	int c, lfd, foreground = 0, remove_dir = 0, i;
	long watch = 0;
	struct sigaction sa = {0};
	struct stat bound, now;
	struct job_policy policy;
	const char *path;

	set_progname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
	/* Keys pass through here as through llm-request: no core dump, no
	 * ptrace or /proc reading by other processes of the user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_IDLE:
			if (parse_seconds(optarg, &idle) != 0 || idle <= 0)
				die(EXIT_USAGE, "--idle: not a positive number of "
				    "seconds: %s", optarg);
			break;
		case OPT_FOREGROUND:
			foreground = 1;
			break;
		case OPT_REMOVE_DIR:
			remove_dir = 1;
			break;
		case OPT_WATCH:
			if (parse_long(optarg, 1, INT_MAX, &watch) != 0)
				die(EXIT_USAGE, "--watch: not a process id: %s", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("llm-holder " LLM_TOOLS_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];
	check_private_dir(path);
	lfd = listen_on(path);
	if (stat(path, &bound) != 0)
		die(EXIT_TRANSIENT, "%s: %s", path, strerror(errno));
	if (!foreground)
		daemonize(lfd, path);
	/* The key comes with each request; the one in the environment of
	 * whoever started it (llm-loop's, say) stays out of this process,
	 * which may outlive them. Only libcurl's proxy variables stay. */
	jobs_default_policy(&policy);
	jobs_drop_secrets(&policy, http_transport_env);

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (share = curl_share_init()) == NULL)
		die(EXIT_TRANSIENT, "cannot initialize libcurl");
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);

	accept_loop(lfd, idle, (pid_t)watch);

	/* Remove the socket if it is still the one bound here, and with
	 * --remove-dir its directory: whoever made it for us may be gone. */
	if (stat(path, &now) == 0 && now.st_ino == bound.st_ino &&
	    now.st_dev == bound.st_dev)
		unlink(path);
	if (remove_dir)
		remove_socket_dir(path);
	close(lfd);
	pthread_mutex_lock(&state_lock);
	i = active;
	pthread_mutex_unlock(&state_lock);
	if (i == 0) {
		curl_share_cleanup(share);
		curl_global_cleanup();
	}
	return 0;
}
