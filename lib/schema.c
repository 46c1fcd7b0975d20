/*
 * Checking tool-call arguments against a tool's JSON Schema.
 *
 * schema_check() applies JSON Schema draft 2020-12, or draft 7 when the
 * schema's "$schema" names draft 7 or older, and returns every violation
 * as a string "PATH: what is wrong", PATH being the JSON Pointer of the
 * offending value ("/" for the root), worded for the model to correct
 * its call. Every assertion and applicator keyword of the two drafts is
 * applied (format and the content keywords are annotations, as both
 * drafts have them by default); unknown keywords are ignored; a
 * malformed keyword is reported (when it applies to the value's type),
 * never skipped. Older forms are accepted too: "items" as an array with
 * "additionalItems", boolean "exclusiveMinimum"/"exclusiveMaximum",
 * OpenAPI 3.0's "nullable".
 *
 * "$ref" and "$dynamicRef" resolve inside the schema: JSON Pointers
 * (through arrays too, percent-encoded or not), "$anchor",
 * "$dynamicAnchor", draft 7's "$id": "#name", and URIs that an "$id"
 * defines; nothing is fetched. "pattern" and "patternProperties" are
 * ECMA-262 (lib/pattern.c). "multipleOf" allows for floating-point
 * rounding.
 *
 * Nested schemas are limited to 64 levels and the work to a fixed
 * budget; each pattern match is bounded (lib/pattern.c), and all of them
 * together to MAX_PATTERN_TIME, so no schema or instance can exhaust the
 * stack or hang the caller.
 *
 * This file walks a schema over a value; schemacheck.c keeps the state
 * of a check and its messages, schemavalue.c the keywords of types,
 * numbers, strings and arrays, schemaobject.c those of objects and the
 * combinators, schemaref.c base URIs and references.
 */
#include <string.h>

#include "common.h"
#include "json.h"
#include "schema.h"
#include "schemacheck.h"
#include "schemaobject.h"
#include "schemaref.h"
#include "schemavalue.h"

/* Every keyword of schema against inst (both borrowed); when inst is
 * valid, the properties or items evaluated are added to *ev. */
void
check_value(struct check *c, jv schema, jv inst, jv *ev)
{
	jv nullable, saved, local;
	int before = c->nerr, n;

	if (!spend(c, 1) || jv_get_kind(schema) == JV_KIND_TRUE)
		return;
	if (jv_get_kind(schema) == JV_KIND_FALSE) {
		violation(c, "is not allowed");
		return;
	}
	if (jv_get_kind(schema) != JV_KIND_OBJECT) {
		violation(c, "the schema is invalid (%s, not an object)",
		    jv_kind_name(jv_get_kind(schema)));
		return;
	}
	if (c->depth >= MAX_DEPTH) {
		violation(c, "the schema nests too deeply to check (over %d "
		    "levels)", MAX_DEPTH);
		return;
	}
	nullable = json_get(schema, "nullable");
	if (jv_get_kind(nullable) == JV_KIND_TRUE &&
	    jv_get_kind(inst) == JV_KIND_NULL)
		return;
	if (jv_get_kind(nullable) != JV_KIND_INVALID &&
	    jv_get_kind(nullable) != JV_KIND_TRUE &&
	    jv_get_kind(nullable) != JV_KIND_FALSE)
		invalid_keyword(c, "nullable");
	jv_free(nullable);
	c->depth++;
	local = c->track ? jv_object() : jv_invalid();
	saved = c->base;
	c->base = schema_base(c, schema, jv_copy(saved));
	n = jv_array_length(jv_copy(c->scope));
	if (n == 0 || !jv_equal(jv_array_get(jv_copy(c->scope), n - 1),
	    jv_copy(c->base)))	/* a schema resource entered */
		c->scope = jv_array_append(c->scope, jv_copy(c->base));
	if (c->draft7 && jv_object_has(jv_copy(schema), jv_string("$ref"))) {
		check_ref(c, schema, inst, &local);	/* siblings ignored */
	} else if (check_type(c, schema, inst)) {
		check_enum(c, schema, inst);
		switch (jv_get_kind(inst)) {
		case JV_KIND_NUMBER: check_number(c, schema, inst); break;
		case JV_KIND_STRING: check_string(c, schema, inst); break;
		case JV_KIND_ARRAY: check_array(c, schema, inst, &local); break;
		case JV_KIND_OBJECT: check_object(c, schema, inst, &local); break;
		default: break;
		}
		check_ref(c, schema, inst, &local);
		check_combinators(c, schema, inst, &local);
		if (jv_get_kind(inst) == JV_KIND_OBJECT ||
		    jv_get_kind(inst) == JV_KIND_ARRAY)
			check_unevaluated(c, schema, inst, &local);
	}
	if (jv_array_length(jv_copy(c->scope)) > n)
		c->scope = jv_array_slice(c->scope, 0, n);
	jv_free(c->base);
	c->base = saved;
	c->depth--;
	if (ev != NULL && c->track && c->nerr == before)
		*ev = jv_object_merge(*ev, local);
	else
		jv_free(local);
}

/* Whether the schema (borrowed) names draft 7 or an older draft. */
static int
is_old_draft(jv schema)
{
	const char *s = json_get_str(schema, "$schema");

	return s != NULL && strstr(s, "json-schema.org/draft-0") != NULL;
}

jv
schema_check(jv schema, jv instance)
{
	struct check c = {0};

	c.out = jv_array();
	c.steps = MAX_STEPS;
	c.draft7 = jv_get_kind(schema) == JV_KIND_OBJECT &&
	    is_old_draft(schema);
	c.index = jv_object();
	c.base = jv_string("");
	c.scope = jv_array();
	index_schema(&c, schema, jv_string(""), 0);
	if (jv_get_kind(schema) == JV_KIND_OBJECT)
		c.base = schema_base(&c, schema, c.base);
	c.scope = jv_array_append(c.scope, jv_copy(c.base));
	check_value(&c, schema, instance, NULL);
	if (c.steps < 0)
		c.out = jv_array_append(c.out, jv_string("/: the arguments "
		    "are too large or too complex to check"));
	else if (c.too_many)
		c.out = jv_array_append(c.out, jv_string_fmt("/: more "
		    "violations not listed (only the first %d are)",
		    MAX_VIOLATIONS));
	jv_free(c.index);
	jv_free(c.base);
	jv_free(c.scope);
	buf_free(&c.path);
	return c.out;
}
