/*
 * add: a tool that adds two numbers.
 *
 * stdin:  the call's arguments, a JSON object {"a": number, "b": number}
 * stdout: the sum, printed as jq prints numbers (9, 0.5, -1.25)
 * exit:   0 on success; 1 with a one-line message on stderr when the
 *         input is not a JSON object or a or b is missing or not a number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#define MAX_INPUT (1 << 20)

/* Reads all of stdin into a NUL-terminated buffer; NULL on error. */
static char *
read_stdin(size_t *len)
{
	char *buf = NULL, *p;
	size_t cap = 0, n;

	*len = 0;
	do {
		if (cap - *len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > MAX_INPUT || !(p = realloc(buf, cap + 1))) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + *len, 1, cap - *len, stdin);
		*len += n;
	} while (n > 0);
	if (ferror(stdin)) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* Gets the number named key from args into *out; 0 on success. */
static int
get_number(jv args, const char *key, double *out)
{
	jv v = jv_object_get(jv_copy(args), jv_string(key));
	int kind = jv_get_kind(v);

	if (kind == JV_KIND_NUMBER)
		*out = jv_number_value(v);
	else if (kind == JV_KIND_INVALID)
		fprintf(stderr, "add: missing argument: %s\n", key);
	else
		fprintf(stderr, "add: argument %s must be a number, not %s\n",
		    key, jv_kind_name(kind));
	jv_free(v);
	return kind == JV_KIND_NUMBER ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	jv args, sum;
	char *input;
	size_t len;
	double a, b;
	int status = 1;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: add < arguments.json\n");
		return 1;
	}
	if (!(input = read_stdin(&len))) {
		fprintf(stderr, "add: cannot read arguments: %s\n",
		    "stdin unreadable or over 1 MiB");
		return 1;
	}
	args = jv_parse_sized(input, (int)len);
	free(input);
	if (!jv_is_valid(args)) {
		fprintf(stderr, "add: arguments are not valid JSON\n");
		goto out;
	}
	if (jv_get_kind(args) != JV_KIND_OBJECT) {
		fprintf(stderr, "add: arguments must be a JSON object, "
		    "not %s\n", jv_kind_name(jv_get_kind(args)));
		goto out;
	}
	if (get_number(args, "a", &a) || get_number(args, "b", &b))
		goto out;

	sum = jv_dump_string(jv_number(a + b), 0);
	printf("%s\n", jv_string_value(sum));
	jv_free(sum);
	if (fclose(stdout) != 0) {
		fprintf(stderr, "add: cannot write result\n");
		goto out;
	}
	status = 0;
out:
	jv_free(args);
	return status;
}
