/*
 * A one-line status on a terminal while a program waits: what it waits
 * for and for how long, redrawn in place on standard error and erased
 * when the wait ends. Never drawn when standard error is not a terminal.
 */
#ifndef LLM_STATUS_H
#define LLM_STATUS_H

#include <sys/types.h>

/*
 * Draw text (already made safe for a terminal) and the time waited,
 * until SIGTERM, SIGINT or SIGHUP (those not ignored at start) or until
 * the process parent is no longer the parent; then erase the line.
 */
void status_run(const char *text, pid_t parent);

/*
 * Draw text (any bytes; made safe here) in a child process while the
 * caller waits; its process id, or -1 when standard error is not a
 * terminal or no child could be started.
 */
pid_t status_start(const char *text);

/* Erase the line of status_start and wait until it is gone, so that
 * what the caller writes next comes after it; *pid becomes -1. */
void status_stop(pid_t *pid);

#endif
