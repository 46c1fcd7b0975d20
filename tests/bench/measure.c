/*
 * measure RUNS INPUT COMMAND [ARG...]: run COMMAND RUNS times (after one
 * warm-up run), its stdin from INPUT ("-" for /dev/null), its output
 * discarded, and print "MIN MEDIAN PEAK": the wall seconds of the
 * fastest and the median run, and the largest peak RSS in KiB, as
 * wait4(2) reports them for that process alone.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
run(char **argv, const char *input, long *peak)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == 0) {
		int in = open(strcmp(input, "-") == 0 ? "/dev/null" : input,
		    O_RDONLY), out = open("/dev/null", O_WRONLY);
		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		exit(2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		fprintf(stderr, "measure: %s failed (status %d)\n", argv[0],
		    status);
		exit(1);
	}
	if (ru.ru_maxrss > *peak)
		*peak = ru.ru_maxrss;
	return (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

int
main(int argc, char *argv[])
{
	long runs, i, peak = 0;
	double *t;

	if (argc < 4 || (runs = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: measure RUNS INPUT COMMAND [ARG...]\n");
		return 2;
	}
	t = malloc((size_t)runs * sizeof *t);
	run(argv + 3, argv[2], &peak);
	for (i = 0; i < runs; i++)
		t[i] = run(argv + 3, argv[2], &peak);
	qsort(t, (size_t)runs, sizeof *t, by_value);
	printf("%.6f %.6f %ld\n", t[0], t[runs / 2], peak);
	free(t);
	return 0;
}
