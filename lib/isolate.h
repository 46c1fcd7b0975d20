/*
 * The light isolation of a tool process: its own user, PID and mount
 * namespace with a fresh /proc, as "unshare --user --map-current-user
 * --pid --fork --mount-proc" gives. The tool keeps the user's files,
 * network and identity, but sees no process outside its own call: no
 * /proc/PID/environ and no ptrace of the programs that started it.
 */
#ifndef LLM_ISOLATE_H
#define LLM_ISOLATE_H

#include <sys/types.h>

/* Fork into new user, PID and mount namespaces: like fork(2), the child
 * gets 0 and is PID 1 of its namespace. -1 with errno when the kernel
 * refuses (see isolate_refused). */
pid_t isolate_clone(void);

/* Is errno from isolate_clone or isolate_enter a refusal of the kernel
 * (namespaces disabled or not allowed here), not a lack of resources? */
int isolate_refused(int err);

/* In the child of isolate_clone: map uid and gid (the caller's, read
 * before the clone) to themselves, mount a fresh /proc, and give up
 * every capability for what the child will exec. 0, or an errno. */
int isolate_enter(uid_t uid, gid_t gid);

/* As PID 1 of the namespace: reap every process until tool ends; its
 * wait status in *status. The caller then exits, and the kernel ends
 * whatever the tool left running in the namespace. */
void isolate_reap(pid_t tool, int *status);

#endif
