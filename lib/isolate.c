/* A tool in its own user, PID and mount namespace: see isolate.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate.h"

pid_t
isolate_clone(void)
{
	/* clone(2) without a new stack behaves as fork(2) does. */
	return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER |
	    CLONE_NEWPID | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, NULL);
}

int
isolate_refused(int err)
{
	return err == EPERM || err == EACCES || err == EINVAL ||
	    err == ENOSYS || err == ENOSPC || err == EUSERS || err == EROFS;
}

/* Write text to the file path whole; 0 or an errno. */
static int
write_file(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, text, n) != (ssize_t)n)
		e = errno ? errno : EIO;
	close(fd);
	return e;
}

int
isolate_enter(uid_t uid, gid_t gid)
{
	char map[64];
	int e, cap;

	/* Only a dumpable process may write its own maps; it stays
	 * dumpable no longer than that, so that no tool can trace it. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	e = write_file("/proc/self/setgroups", "deny");
	if (e == ENOENT)
		e = 0;  /* kernels before 3.19 */
	snprintf(map, sizeof map, "%lu %lu 1\n", (unsigned long)uid,
	    (unsigned long)uid);
	if (e == 0)
		e = write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof map, "%lu %lu 1\n", (unsigned long)gid,
	    (unsigned long)gid);
	if (e == 0)
		e = write_file("/proc/self/gid_map", map);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (e != 0)
		return e;
	/* The mounts came from a namespace of another user namespace: they
	 * are slaves already, so this /proc is seen by no one else. */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) != 0)
		return errno;
	/* Root in the namespace could unmount that /proc and see the one
	 * beneath: what is exec'd gets no capability at all. */
	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL)
			break;
	return 0;
}

void
isolate_reap(pid_t tool, int *status)
{
	pid_t pid;
	int st;

	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (pid == tool) {
			*status = st;
			return;
		}
	}
	*status = 127 << 8;
}
