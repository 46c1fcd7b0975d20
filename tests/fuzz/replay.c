/*
 * Runs a libFuzzer harness without libFuzzer: calls LLVMFuzzerTestOneInput
 * on every file named (or every file of every directory named), so that
 * the corpora replay under any compiler, with or without sanitizers.
 * Prints "ok - NAME: N inputs" or exits non-zero on the first crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *data;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	data = malloc((size_t)st.st_size + 1);
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		exit(2);
	}
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 1;
}

int
main(int argc, char *argv[])
{
	long count = 0;
	int i;

	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char path[4096];
			while (d != NULL && (e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s", argv[i],
				    e->d_name);
				count += run_file(path);
			}
			if (d != NULL)
				closedir(d);
		} else {
			count += run_file(argv[i]);
		}
	}
	printf("%ld inputs\n", count);
	return 0;
}
