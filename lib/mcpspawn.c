/* The process of a stdio MCP server: see mcpspawn.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "isolate.h"
#include "json.h"
#include "mcpspawn.h"
#include "runner.h"

extern char **environ;

static int isolation_off;  /* the kernel refused namespaces once */

/* The environment of a server: the tools' allowlist and its "env". */
static char **
server_environment(const struct mcp_server *s)
{
	static const char *keep[] = {"PATH=", "HOME=", "LANG=", "TZ=",
	    "TMPDIR=", "USER=", "LOGNAME=", "LC_", NULL};
	jv env = json_get(s->conf, "env");
	size_t n = 0, i;
	char **out, **e;
	int it;

	for (e = environ; *e != NULL; e++)
		n++;
	if (jv_get_kind(env) == JV_KIND_OBJECT)
		n += (size_t)jv_object_length(jv_copy(env));
	out = xmalloc((n + 1) * sizeof *out);
	n = 0;
	for (e = environ; *e != NULL; e++)
		for (i = 0; keep[i] != NULL; i++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0) {
				out[n++] = xstrdup(*e);
				break;
			}
	if (jv_get_kind(env) == JV_KIND_OBJECT)
		for (it = jv_object_iter(env); jv_object_iter_valid(env, it);
		    it = jv_object_iter_next(env, it)) {
			jv k = jv_object_iter_key(env, it);
			jv v = jv_object_iter_value(env, it);
			if (jv_get_kind(v) == JV_KIND_STRING) {
				jv line = jv_string_fmt("%s=%s",
				    jv_string_value(k), jv_string_value(v));
				out[n++] = xstrdup(jv_string_value(line));
				jv_free(line);
			}
			jv_free(k);
			jv_free(v);
		}
	out[n] = NULL;
	jv_free(env);
	return out;
}

/* The argv of a server: its sandbox ("default" is tool-run's profile
 * with the server's directory visible, read-only), "command", "args";
 * what comes before the command in *nwrap. Freed by free_server_argv. */
static char **
server_argv(const struct mcp_server *s, size_t *nwrap)
{
	jv args = json_get(s->conf, "args");
	const char *sb = s->sandbox;
	char **wrap = NULL, **argv;
	size_t n = 0, i, nargs = 0;

	if (sb != NULL && *sb != '\0' && strcmp(sb, "none") != 0)
		wrap = runner_sandbox_argv(sb, json_get_str(s->conf, "cwd"),
		    NULL);
	while (wrap != NULL && wrap[n] != NULL)
		n++;
	if (jv_get_kind(args) == JV_KIND_ARRAY)
		nargs = (size_t)jv_array_length(jv_copy(args));
	argv = xmalloc((n + nargs + 2) * sizeof *argv);
	for (i = 0; i < n; i++)
		argv[i] = wrap[i];
	free(wrap);
	*nwrap = n;
	argv[n++] = xstrdup(json_get_str(s->conf, "command"));
	for (i = 0; i < nargs; i++) {
		jv a = jv_array_get(jv_copy(args), (int)i);
		jv x = jv_get_kind(a) == JV_KIND_STRING ? jv_copy(a) :
		    jv_dump_string(jv_copy(a), 0);
		argv[n++] = xstrdup(jv_string_value(x));
		jv_free(x);
		jv_free(a);
	}
	argv[n] = NULL;
	jv_free(args);
	return argv;
}

static void
free_server_argv(char **argv, size_t nwrap)
{
	size_t i;

	if (nwrap > 0)
		free(argv[0]);      /* the sandbox's first word holds them all */
	for (i = nwrap; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static void
free_environment(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* Does s run in namespaces of its own, as tool-run runs a tool: unless
 * a sandbox wrapper isolates it instead, or "none" says not to? */
static int
server_isolated(const struct mcp_server *s)
{
	return !isolation_off && (s->sandbox == NULL || *s->sandbox == '\0');
}

/* The log of s's stderr, log_dir/mcp-KEY.log with "/" in KEY made "_",
 * opened for appending; -1 when it cannot be. */
static int
open_log(const struct mcp_server *s, const char *log_dir)
{
	char path[4096];
	size_t i;

	snprintf(path, sizeof path, "%s/mcp-%s.log", log_dir, s->key);
	for (i = strlen(log_dir) + 5; path[i] != '\0'; i++)
		if (path[i] == '/')
			path[i] = '_';
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* In the child of isolate_clone, PID 1 of the server's namespaces: enter
 * them, start the server (this returns in its process) and wait for it;
 * its end ends all it left in the namespace. */
static void
be_init(uid_t uid, gid_t gid)
{
	pid_t server;
	int code, st;

	if ((code = isolate_enter(uid, gid)) != 0) {
		fprintf(stderr, "tool-mcp: namespaces: %s\n", strerror(code));
		_exit(127);
	}
	if ((server = fork()) < 0)
		_exit(127);
	if (server == 0)
		return;
	/* Only the server holds the pipes: its end is their end. */
	close(0);
	close(1);
	isolate_reap(server, &st);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* What a server's process is started with. */
struct launch {
	char **argv, **env;
	const char *cwd;
	int in, out, log;         /* its stdin, stdout, stderr */
	pid_t parent;
	uid_t uid;
	gid_t gid;
	int isolated;
};

/* In the child: the default signals, the limits and descriptors of a
 * tool, the server's directory and environment, then exec. */
static _Noreturn void
be_server(const struct launch *l)
{
	struct rlimit rl;
	sigset_t none;

	if (!l->isolated)
		setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (!l->isolated && getppid() != l->parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	rl.rlim_cur = rl.rlim_max = (rlim_t)1 << 30;
	setrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max = 1024;
	setrlimit(RLIMIT_NOFILE, &rl);
	dup2(l->in, 0);
	dup2(l->out, 1);
	dup2(l->log >= 0 ? l->log : open("/dev/null", O_WRONLY), 2);
	close_range(3, ~0U, 0);
	if (l->cwd != NULL && chdir(l->cwd) != 0) {
		fprintf(stderr, "tool-mcp: %s: %s\n", l->cwd, strerror(errno));
		_exit(127);
	}
	if (l->isolated)
		be_init(l->uid, l->gid);
	environ = l->env;
	execvp(l->argv[0], l->argv);
	fprintf(stderr, "tool-mcp: %s: %s\n", l->argv[0], strerror(errno));
	_exit(127);
}

/* A process for l: in namespaces of its own when l asks and the kernel
 * allows, else a plain fork. */
static pid_t
fork_server(struct launch *l)
{
	pid_t pid = l->isolated ? isolate_clone() : fork();

	if (pid < 0 && l->isolated && isolate_refused(errno)) {
		warnx("MCP servers run without namespaces of their own: the "
		    "kernel refuses them (%s)", strerror(errno));
		isolation_off = 1;
		l->isolated = 0;
		pid = fork();
	}
	if (pid < 0)
		die(EXIT_TRANSIENT, "fork: %s", strerror(errno));
	return pid;
}

void
mcp_spawn(struct mcp_server *s, const char *log_dir)
{
	struct launch l;
	int in[2], out[2];
	size_t nwrap;

	l.argv = server_argv(s, &nwrap);
	l.env = server_environment(s);
	l.cwd = json_get_str(s->conf, "cwd");
	l.parent = getpid();
	l.uid = geteuid();
	l.gid = getegid();
	l.isolated = server_isolated(s);
	l.log = open_log(s, log_dir);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die(EXIT_TRANSIENT, "pipe: %s", strerror(errno));
	l.in = in[0];
	l.out = out[1];
	if ((s->pid = fork_server(&l)) == 0)
		be_server(&l);
	if (!l.isolated)
		setpgid(s->pid, s->pid);
	free_environment(l.env);
	free_server_argv(l.argv, nwrap);
	if (l.log >= 0)
		close(l.log);
	close(in[0]);
	close(out[1]);
	s->in = in[1];
	s->out = out[0];
	fcntl(s->out, F_SETFL, O_NONBLOCK);
}

void
mcp_spawn_end(pid_t pid, double grace)
{
	double end = now_seconds() + grace;
	int st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_seconds() > end + grace) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		if (now_seconds() > end) {
			kill(-pid, SIGTERM);
			kill(pid, SIGTERM);
		}
		usleep(10000);
	}
	/* What it left in its group goes with it. */
	kill(-pid, SIGKILL);
}
