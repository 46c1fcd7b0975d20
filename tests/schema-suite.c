/*
 * The JSON Schema Test Suite (tests/fixtures/JSON-Schema-Test-Suite)
 * against lib/schema.c.
 *
 *	schema-suite [-q] DRAFT FILE...
 *	schema-suite -t DIR DRAFT FILE...
 *
 * DRAFT is draft7 or draft2020-12; a schema that names no "$schema" is
 * given that draft's. The first form checks every instance of every
 * FILE and prints "not ok" for each wrong verdict (-q: only those), then
 * "DRAFT: N passed, N failed, N skipped"; it exits 1 when one failed.
 * The second writes, for tool-run, DIR/tools.d/gN and gN.json (one tool
 * per object schema, which prints "ran", its parameters), DIR/calls.json (every object
 * instance as a call of its group's tool, id "N.M") and
 * DIR/expected.json (id -> whether the call is valid).
 *
 * Left out of tests/fixtures: refRemote.json (remote references: a
 * tool's schema is checked on its own and nothing is fetched) and
 * vocabulary.json (custom metaschemas and vocabularies: "$vocabulary" is
 * not read). The groups of other files left out, and why, are in the
 * table skipped[]: they need a remote document (the metaschema, or one
 * of http://localhost:1234/). Of the optional tests, the ECMA-262
 * regular expression ones are run (ecmascript-regex.json,
 * non-bmp-regex.json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "json.h"
#include "schema.h"

/* Tests not run: a file (group NULL), or one group of a file. */
static const struct {
	const char *draft, *file, *group, *why;
} skipped[] = {
	{"draft7", "definitions.json", "validate definition against metaschema",
	    "the metaschema, a remote document"},
	{"draft2020-12", "defs.json", "validate definition against metaschema",
	    "the metaschema, a remote document"},
	{NULL, "ref.json", "remote ref, containing refs itself",
	    "the metaschema, a remote document"},
	{"draft2020-12", "dynamicRef.json",
	    "strict-tree schema, guards against misspelled properties",
	    "a remote document (tree.json)"},
	{"draft2020-12", "dynamicRef.json",
	    "tests for implementation dynamic anchor and reference link",
	    "a remote document (extendible-dynamic-ref.json)"},
	{"draft2020-12", "dynamicRef.json",
	    "$ref and $dynamicAnchor are independent of order - $defs first",
	    "a remote document (extendible-dynamic-ref.json)"},
	{"draft2020-12", "dynamicRef.json",
	    "$ref and $dynamicAnchor are independent of order - $ref first",
	    "a remote document (extendible-dynamic-ref.json)"},
	{"draft2020-12", "dynamicRef.json",
	    "$ref to $dynamicRef finds detached $dynamicAnchor",
	    "a remote document (detached-dynamicref.json)"},
};

static const char *
skip_reason(const char *draft, const char *file, const char *group)
{
	size_t i;

	for (i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
		if ((skipped[i].draft == NULL ||
		    strcmp(skipped[i].draft, draft) == 0) &&
		    strcmp(skipped[i].file, file) == 0 &&
		    (skipped[i].group == NULL ||
		    strcmp(skipped[i].group, group) == 0))
			return skipped[i].why;
	return NULL;
}

static jv
read_json_file(const char *path)
{
	struct buf b = {0};
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "re");
	jv v;

	if (f == NULL)
		return jv_invalid_with_msg(jv_string("cannot open"));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	buf_append(&b, "", 0);
	v = jv_parse_sized(b.data, (int)b.len);
	buf_free(&b);
	return v;
}

/* The schema with the draft's "$schema" when it names none. */
static jv
with_draft(jv schema, const char *draft)
{
	const char *uri = strcmp(draft, "draft7") == 0 ?
	    "http://json-schema.org/draft-07/schema#" :
	    "https://json-schema.org/draft/2020-12/schema";

	if (jv_get_kind(schema) == JV_KIND_OBJECT &&
	    !jv_object_has(jv_copy(schema), jv_string("$schema")))
		schema = jv_object_set(schema, jv_string("$schema"),
		    jv_string(uri));
	return schema;
}

static int
write_json(const char *dir, const char *name, jv v)
{
	char path[4096];
	FILE *f;
	jv s = jv_dump_string(v, 0);

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "we")) == NULL) {
		perror(path);
		jv_free(s);
		return -1;
	}
	fprintf(f, "%s\n", jv_string_value(s));
	jv_free(s);
	return fclose(f) == 0 ? 0 : -1;
}

/* DIR/tools.d/NAME, a tool that says "ran". */
static int
write_tool(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/tools.d/%s", dir, name);
	if ((f = fopen(path, "we")) == NULL) {
		perror(path);
		return -1;
	}
	fputs("#!/bin/sh\necho ran\n", f);
	return fclose(f) == 0 && chmod(path, 0755) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *draft, *file, *why, *tooldir = NULL;
	int quiet = 0, i, g, t, ng, nt, pass = 0, fail = 0, skip = 0, ok;
	jv groups, group, tests, test, schema, data, errs, calls, expected,
	    s, desc;
	char name[64], id[128], path[4096];

	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		quiet = 1;
		argv++, argc--;
	} else if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		tooldir = argv[2];
		argv += 2, argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: schema-suite [-q | -t DIR] DRAFT "
		    "FILE...\n");
		return 2;
	}
	draft = argv[1];
	calls = jv_array();
	expected = jv_object();
	if (tooldir != NULL) {
		snprintf(path, sizeof path, "%s/tools.d", tooldir);
		mkdir(tooldir, 0777);
		mkdir(path, 0777);
	}
	for (i = 2; i < argc; i++) {
		file = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 :
		    argv[i];
		groups = read_json_file(argv[i]);
		if (jv_get_kind(groups) != JV_KIND_ARRAY) {
			fprintf(stderr, "schema-suite: %s: not a test file\n",
			    argv[i]);
			return 2;
		}
		ng = jv_array_length(jv_copy(groups));
		for (g = 0; g < ng; g++) {
			group = jv_array_get(jv_copy(groups), g);
			desc = json_get(group, "description");
			schema = with_draft(json_get(group, "schema"), draft);
			tests = json_get(group, "tests");
			nt = jv_array_length(jv_copy(tests));
			why = skip_reason(draft, file, jv_string_value(desc));
			snprintf(name, sizeof name, "g%d_%d", i - 1, g);
			if (tooldir != NULL && why == NULL &&
			    jv_get_kind(schema) == JV_KIND_OBJECT) {
				snprintf(path, sizeof path, "%s/tools.d/%s.json",
				    tooldir, name);
				snprintf(id, sizeof id, "tools.d/%s.json", name);
				if (write_json(tooldir, id, JV_OBJECT(
				    jv_string("name"), jv_string(name),
				    jv_string("parameters"), jv_copy(schema))) ||
				    write_tool(tooldir, name))
					return 2;
			}
			for (t = 0; t < nt; t++) {
				test = jv_array_get(jv_copy(tests), t);
				data = json_get(test, "data");
				ok = jv_get_kind(json_get(test, "valid")) ==
				    JV_KIND_TRUE;
				if (why != NULL) {
					skip++;
				} else if (tooldir != NULL) {
					if (jv_get_kind(data) == JV_KIND_OBJECT &&
					    jv_get_kind(schema) ==
					    JV_KIND_OBJECT) {
						snprintf(id, sizeof id, "%d.%d.%d",
						    i - 1, g, t);
						calls = jv_array_append(calls,
						    JV_OBJECT(jv_string("id"),
						    jv_string(id), jv_string("type"),
						    jv_string("function"),
						    jv_string("function"), JV_OBJECT(
						    jv_string("name"), jv_string(name),
						    jv_string("arguments"),
						    jv_dump_string(jv_copy(data), 0))));
						expected = jv_object_set(expected,
						    jv_string(id), ok ? jv_true() :
						    jv_false());
					}
				} else {
					errs = schema_check(schema, data);
					if ((jv_array_length(jv_copy(errs)) == 0)
					    == ok) {
						pass++;
						if (!quiet)
							printf("ok - %s: %s: %s\n",
							    file, jv_string_value(desc),
							    json_get_str(test,
							    "description"));
					} else {
						fail++;
						s = jv_dump_string(jv_copy(errs), 0);
						printf("not ok - %s: %s: %s: "
						    "expected %s, got %s\n", file,
						    jv_string_value(desc),
						    json_get_str(test, "description"),
						    ok ? "valid" : "invalid",
						    jv_string_value(s));
						jv_free(s);
					}
					jv_free(errs);
				}
				jv_free(data);
				jv_free(test);
			}
			jv_free(tests);
			jv_free(schema);
			jv_free(desc);
			jv_free(group);
		}
		jv_free(groups);
	}
	if (tooldir != NULL) {
		ok = write_json(tooldir, "calls.json", calls) == 0 &&
		    write_json(tooldir, "expected.json", expected) == 0;
		return ok ? 0 : 2;
	}
	jv_free(calls);
	jv_free(expected);
	printf("%s: %d passed, %d failed, %d skipped\n", draft, pass, fail,
	    skip);
	return fail ? 1 : 0;
}
