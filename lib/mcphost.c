/* Starting and asking the holder of MCP servers: see mcphost.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "mcphost.h"
#include "toolsdir.h"

/* How long a caller waits for a holder to listen. */
#define CONNECT_WAIT 10.0

int
mcp_host_configured(const struct mcp_host *h)
{
	const char *env = getenv("LLM_MCP_CONFIG");
	char path[4096];
	struct stat st;

	if (h->nconfigs > 0 || getenv("LLM_MCP_SOCKET") != NULL ||
	    (env != NULL && *env != '\0'))
		return 1;
	{
		/* The tools directory as tool-run finds it. */
		int configured;
		char *dir = toolsdir_find(h->dir, &configured);
		snprintf(path, sizeof path, "%s/mcp.json", dir);
		free(dir);
	}
	return stat(path, &st) == 0;
}

char *
mcp_host_program(void)
{
	char path[4096], *slash;
	const char *dirs = getenv("PATH"), *end;
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);

	/* Beside this program, as llm-loop finds its siblings... */
	if (n > 0) {
		path[n] = '\0';
		if ((slash = strrchr(path, '/')) != NULL) {
			strcpy(slash + 1, "tool-mcp");
			if (access(path, X_OK) == 0)
				return xstrdup(path);
		}
	}
	/* ...else (run by an interpreter such as valgrind) in $PATH. */
	for (; dirs != NULL && *dirs != '\0'; dirs = *end ? end + 1 : end) {
		end = strchr(dirs, ':');
		if (end == NULL)
			end = dirs + strlen(dirs);
		if (end - dirs > 0 && (size_t)(end - dirs) < sizeof path - 16) {
			memcpy(path, dirs, (size_t)(end - dirs));
			strcpy(path + (end - dirs), "/tool-mcp");
			if (path[0] == '/' && access(path, X_OK) == 0)
				return xstrdup(path);
		}
	}
	return xstrdup("tool-mcp");
}

void
mcp_host_start(struct mcp_host *h, const char *program)
{
	/* program --hold DIR --remove-dir, -M FILE each, -d DIR, -B CMD,
	 * -v, NULL */
	const char *argv[4 + 2 * MCP_HOST_CONFIGS + 6];
	const char *tmp = getenv("TMPDIR");
	char sock[300];
	size_t n = 0, i;

	if (getenv("LLM_MCP_SOCKET") != NULL)
		return;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 150)
		tmp = "/tmp";
	/* TMPDIR/llm-mcp.ABCDEF: mkdtemp wants six X to replace. */
	n = (size_t)snprintf(h->holder_dir, sizeof h->holder_dir,
	    "%s/llm-mcp.", tmp);
	memset(h->holder_dir + n, 'X', 6);
	h->holder_dir[n + 6] = '\0';
	n = 0;
	if (mkdtemp(h->holder_dir) == NULL)
		die(EXIT_TRANSIENT, "%s: %s", h->holder_dir, strerror(errno));
	argv[n++] = program;
	argv[n++] = "--hold";
	argv[n++] = h->holder_dir;
	argv[n++] = "--remove-dir";
	for (i = 0; i < h->nconfigs; i++) {
		argv[n++] = "-M";
		argv[n++] = h->configs[i];
	}
	if (h->dir != NULL) {
		argv[n++] = "-d";
		argv[n++] = h->dir;
	}
	if (h->sandbox != NULL) {
		argv[n++] = "-B";
		argv[n++] = h->sandbox;
	}
	if (h->verbose)
		argv[n++] = "-v";
	argv[n] = NULL;
	h->holder = fork();
	if (h->holder < 0)
		die(EXIT_TRANSIENT, "fork: %s", strerror(errno));
	if (h->holder == 0) {
		/* Nothing of ours to read or write but its messages. */
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 2)
				close(null);
		}
		signal(SIGPIPE, SIG_DFL);
		if (h->set_umask)
			umask(h->umask);
		execv(program, (char **)argv);
		fprintf(stderr, "%s: %s: %s\n", progname, program,
		    strerror(errno));
		_exit(EXIT_TRANSIENT);
	}
	snprintf(sock, sizeof sock, "%s/mcp.sock", h->holder_dir);
	setenv("LLM_MCP_SOCKET", sock, 1);
}

void
mcp_host_remove_dir(const char *dir)
{
	char path[4400];
	DIR *d;
	struct dirent *e;

	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, "mcp", 3) != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

void
mcp_host_stop(struct mcp_host *h)
{
	if (h->holder <= 0)
		return;
	kill(h->holder, SIGTERM);
	while (waitpid(h->holder, NULL, 0) < 0 && errno == EINTR)
		;
	h->holder = 0;
	unsetenv("LLM_MCP_SOCKET");
	/* The socket and the servers' logs go with the directory. */
	mcp_host_remove_dir(h->holder_dir);
}

/* Connect to $LLM_MCP_SOCKET, waiting for a holder that is starting. */
static int
connect_holder(struct mcp_host *h)
{
	const char *path = getenv("LLM_MCP_SOCKET");
	struct sockaddr_un a = {0};
	double end = now_seconds() + CONNECT_WAIT;
	int fd, st;

	a.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof a.sun_path)
		die(EXIT_USAGE, "LLM_MCP_SOCKET: not a socket path: %s",
		    path != NULL ? path : "(unset)");
	strcpy(a.sun_path, path);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			die(EXIT_TRANSIENT, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
			return fd;
		close(fd);
		if (h->holder > 0 && waitpid(h->holder, &st, WNOHANG) ==
		    h->holder) {
			h->holder = 0;
			rmdir(h->holder_dir);
			exit(WIFEXITED(st) && WEXITSTATUS(st) != 0 ?
			    WEXITSTATUS(st) : EXIT_TRANSIENT);
		}
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    now_seconds() > end)
			die(EXIT_TRANSIENT, "MCP holder %s: %s", path,
			    strerror(errno));
		usleep(5000);
	}
}

jv
mcp_host_ask(struct mcp_host *h, jv req)
{
	int fd = connect_holder(h);
	char *text = json_dump(req);
	size_t len = strlen(text), off = 0;
	struct buf b = {0};
	ssize_t w;
	jv answer;

	text[len++] = '\n';
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die(EXIT_TRANSIENT, "MCP holder: %s", strerror(errno));
		off += (size_t)w;
	}
	free(text);
	if (read_fd_all(fd, &b, JSON_INPUT_MAX) != 0)
		die(EXIT_TRANSIENT, "MCP holder: %s", strerror(errno));
	close(fd);
	answer = json_parse(b.data ? b.data : "", b.len);
	buf_free(&b);
	if (jv_get_kind(answer) != JV_KIND_OBJECT)
		die(EXIT_TRANSIENT, "MCP holder: no answer");
	return answer;
}

jv
mcp_host_routed_tools(jv answer)
{
	jv tools = json_get(answer, "tools"), routes = json_get(answer,
	    "routes"), out = jv_array();

	jv_array_foreach(tools, i, t) {
		jv fn = json_get(t, "function");
		jv r = jv_object_get(jv_copy(routes), json_get(fn, "name"));
		jv info = JV_OBJECT(jv_string("server"), json_get_or_null(r,
		    "server"), jv_string("tool"), json_get_or_null(r, "tool"),
		    jv_string("inputSchema"), json_get_or_null(r,
		    "inputSchema"));
		jv ann = json_get(r, "annotations");
		if (jv_get_kind(ann) == JV_KIND_OBJECT)
			info = jv_object_set(info, jv_string("annotations"),
			    ann);
		else
			jv_free(ann);
		out = jv_array_append(out, jv_object_set(t, jv_string("mcp"),
		    info));
		jv_free(fn);
		jv_free(r);
	}
	jv_free(tools);
	jv_free(routes);
	return out;
}
