/*
 * The keywords of JSON Schema for objects (properties, required, the
 * dependent keywords, propertyNames), the combinators (allOf, anyOf,
 * oneOf, not, if/then/else) and unevaluatedProperties/Items.
 */
#include <string.h>

#include "common.h"
#include "json.h"
#include "schemacheck.h"
#include "schemaobject.h"
#include "schemavalue.h"

/* Whether o (consumed) is an object whose values are all schemas. */
static int
is_schema_map(jv o)
{
	int ok = jv_get_kind(o) == JV_KIND_OBJECT;

	if (ok)
		jv_object_foreach(o, key, value) {
			ok = ok && is_schema(value);
			jv_free(key);
			jv_free(value);
		}
	jv_free(o);
	return ok;
}

/* The property key (value v) of an object against properties,
 * patternProperties and additionalProperties. */
static void
check_property(struct check *c, jv schema, jv key, jv v, jv *ev)
{
	jv props = json_get(schema, "properties");
	jv pats = json_get(schema, "patternProperties");
	jv extra = json_get(schema, "additionalProperties"), sub, list;
	int matched = 0, r;

	if (jv_get_kind(props) == JV_KIND_OBJECT) {
		sub = jv_object_get(jv_copy(props), jv_copy(key));
		if ((matched = jv_is_valid(sub)))
			check_value(c, sub, v, NULL);
		jv_free(sub);
	}
	if (jv_get_kind(pats) == JV_KIND_OBJECT)
		jv_object_foreach(pats, pat, psub) {
			r = spend(c, 10) ?
			    pattern_ok(c, pat, key, "patternProperties") : 0;
			if (r > 0)
				check_value(c, psub, v, NULL);
			matched = matched || r > 0;
			jv_free(pat);
			jv_free(psub);
		}
	if (!matched && jv_get_kind(extra) == JV_KIND_FALSE) {
		list = jv_get_kind(props) == JV_KIND_OBJECT ?
		    join_list(jv_keys(jv_copy(props)), 1) : jv_string("");
		violation(c, "is not allowed (%s%s)",
		    jv_string_length_bytes(jv_copy(list)) ?
		    "allowed properties: " : "no properties are allowed",
		    jv_string_value(list));
		jv_free(list);
	} else if (!matched && jv_is_valid(extra)) {
		check_value(c, extra, v, NULL);
		matched = 1;
	}
	if (matched)
		mark(c, ev, jv_copy(key));
	jv_free(props);
	jv_free(pats);
	jv_free(extra);
}

/* Whether list (borrowed) is an array of strings. */
static int
is_string_list(jv list)
{
	int ok = jv_get_kind(list) == JV_KIND_ARRAY, i;
	jv v;

	for (i = 0; ok && i < jv_array_length(jv_copy(list)); i++) {
		v = jv_array_get(jv_copy(list), i);
		ok = jv_get_kind(v) == JV_KIND_STRING;
		jv_free(v);
	}
	return ok;
}

/* The properties that list (borrowed, strings) names and inst lacks,
 * each a violation; when is set, "required when WHEN is present". */
static void
check_required(struct check *c, jv list, jv inst, jv when)
{
	int i;
	jv key, s, w;

	for (i = 0; i < jv_array_length(jv_copy(list)); i++) {
		key = jv_array_get(jv_copy(list), i);
		if (jv_object_has(jv_copy(inst), jv_copy(key))) {
			jv_free(key);
			continue;
		}
		s = shown(key);
		if (jv_is_valid(when)) {
			w = shown(jv_copy(when));
			violation(c, "missing property %s (required when %s is "
			    "present)", jv_string_value(s), jv_string_value(w));
			jv_free(w);
		} else {
			violation(c, "missing required property %s",
			    jv_string_value(s));
		}
		jv_free(s);
	}
}

/* dependentRequired and dependentSchemas (2020-12), dependencies
 * (draft 7): what a property present asks of the object. */
static void
check_dependent(struct check *c, jv schema, jv inst, jv *ev)
{
	static const char *const kws[] = {
		"dependentRequired", "dependentSchemas", "dependencies"
	};
	jv deps;
	int i, ok;

	for (i = c->draft7 ? 2 : 0; i < (c->draft7 ? 3 : 2); i++) {
		deps = json_get(schema, kws[i]);
		if (jv_get_kind(deps) == JV_KIND_INVALID)
			continue;
		ok = jv_get_kind(deps) == JV_KIND_OBJECT;
		if (ok)
			jv_object_foreach(deps, key, dep) {
				if (i != 1 && is_string_list(dep)) {
					if (jv_object_has(jv_copy(inst),
					    jv_copy(key)))
						check_required(c, dep, inst, key);
				} else if (i != 0 && is_schema(dep)) {
					if (jv_object_has(jv_copy(inst),
					    jv_copy(key)))
						check_value(c, dep, inst, ev);
				} else {
					ok = 0;
				}
				jv_free(key);
				jv_free(dep);
			}
		if (!ok)
			invalid_keyword(c, kws[i]);
		jv_free(deps);
	}
}

/* propertyNames: every key of inst, as a string, against a schema. */
static void
check_names(struct check *c, jv schema, jv keys)
{
	jv sub = json_get(schema, "propertyNames"), key, errs, why, s;
	int i;

	if (jv_get_kind(sub) == JV_KIND_INVALID)
		return;
	if (!is_schema(sub))
		invalid_keyword(c, "propertyNames");
	for (i = 0; is_schema(sub) && i < jv_array_length(jv_copy(keys));
	    i++) {
		key = jv_array_get(jv_copy(keys), i);
		errs = check_apart(c, sub, key, NULL);
		if (jv_array_length(jv_copy(errs)) > 0) {
			why = shorten(first_reason(c, errs), 150);
			s = shown(key);
			violation(c, "has a property name that is not allowed: "
			    "%s (%s)", jv_string_value(s), jv_string_value(why));
			jv_free(s);
			jv_free(why);
		} else {
			jv_free(key);
		}
		jv_free(errs);
	}
	jv_free(sub);
}

/* properties, patternProperties, additionalProperties, required,
 * minProperties, maxProperties, propertyNames, dependentRequired,
 * dependentSchemas, dependencies for an object. */
void
check_object(struct check *c, jv schema, jv inst, jv *ev)
{
	static const char *const maps[] = {
		"properties", "patternProperties", "additionalProperties"
	};
	jv req = json_get(schema, "required"), keys, key, v;
	int n = jv_object_length(jv_copy(inst)), i, ok;
	size_t at;

	for (i = 0; i < 3; i++) {
		v = json_get(schema, maps[i]);
		ok = i < 2 ? is_schema_map(jv_copy(v)) : is_schema(v);
		if (jv_get_kind(v) != JV_KIND_INVALID && !ok) {
			invalid_keyword(c, maps[i]);
			jv_free(v);
			jv_free(req);
			return;
		}
		jv_free(v);
	}
	ok = is_string_list(req);
	if (jv_get_kind(req) != JV_KIND_INVALID && !ok)
		invalid_keyword(c, "required");
	check_count(c, schema, "minProperties", n, "have", "property",
	    "properties", "");
	check_count(c, schema, "maxProperties", n, "have", "property",
	    "properties", "");
	if (ok)
		check_required(c, req, inst, jv_invalid());
	keys = jv_keys(jv_copy(inst));
	check_names(c, schema, keys);
	for (i = 0; i < n; i++) {
		key = jv_array_get(jv_copy(keys), i);
		v = jv_object_get(jv_copy(inst), jv_copy(key));
		at = path_push(c, jv_string_value(key),
		    (size_t)jv_string_length_bytes(jv_copy(key)));
		check_property(c, schema, key, v, ev);
		path_pop(c, at);
		jv_free(key);
		jv_free(v);
	}
	check_dependent(c, schema, inst, ev);
	jv_free(keys);
	jv_free(req);
}

/* The list of schemas under kw (allOf, anyOf, oneOf); jv_invalid()
 * when absent or, after saying so, not a non-empty array of schemas. */
static jv
schema_list(struct check *c, jv schema, const char *kw)
{
	jv list = json_get(schema, kw), sub;
	int ok = jv_get_kind(list) == JV_KIND_ARRAY, n = 0, i;

	if (jv_get_kind(list) == JV_KIND_INVALID)
		return list;
	if (ok)
		n = jv_array_length(jv_copy(list));
	for (i = 0; ok && i < n; i++) {
		sub = jv_array_get(jv_copy(list), i);
		ok = is_schema(sub);
		jv_free(sub);
	}
	if (ok && n > 0)
		return list;
	invalid_keyword(c, kw);
	jv_free(list);
	return jv_invalid();
}

/* anyOf and oneOf; the message says why the first few schemas fail.
 * Every schema is tried when what they evaluate matters. */
static void
check_choice(struct check *c, jv schema, jv inst, const char *kw, jv *ev)
{
	jv list = schema_list(c, schema, kw), sub, errs, why, reason;
	int one = kw[0] == 'o', n, i, matched = 0, hit[2] = {0, 0};

	if (!jv_is_valid(list))
		return;
	n = jv_array_length(jv_copy(list));
	why = jv_string("");
	for (i = 0; i < n && (c->track || matched < 1 + one); i++) {
		sub = jv_array_get(jv_copy(list), i);
		errs = check_apart(c, sub, inst, ev);
		if (jv_array_length(jv_copy(errs)) == 0) {
			if (matched < 2)
				hit[matched] = i + 1;
			matched++;
		} else if (i < 4) {
			reason = first_reason(c, errs);
			if (n > 1)
				reason = jv_string_concat(jv_string_fmt("%s%d: ",
				    i ? "; " : "", i + 1), reason);
			why = jv_string_concat(why, shorten(reason, 150));
		} else if (i == 4) {
			why = jv_string_append_str(why, "; ...");
		}
		jv_free(errs);
		jv_free(sub);
	}
	if (matched == 0 && n == 1)
		violation(c, "must match the allowed schema (%s)",
		    jv_string_value(why));
	else if (matched == 0)
		violation(c, "must match %s of the %d allowed schemas (%s)",
		    one ? "exactly one" : "one", n, jv_string_value(why));
	else if (one && matched > 1)
		violation(c, "must match exactly one of the %d allowed "
		    "schemas, but matches schemas %d and %d", n, hit[0],
		    hit[1]);
	jv_free(why);
	jv_free(list);
}

/* if, then, else. */
static void
check_condition(struct check *c, jv schema, jv inst, jv *ev)
{
	jv cond = json_get(schema, "if"), then = json_get(schema, "then");
	jv other = json_get(schema, "else"), branch;
	int i;

	for (i = 0; i < 3; i++) {
		branch = i == 0 ? cond : i == 1 ? then : other;
		if (jv_get_kind(branch) != JV_KIND_INVALID && !is_schema(branch))
			invalid_keyword(c, i == 0 ? "if" : i == 1 ? "then" :
			    "else");
	}
	if (is_schema(cond)) {
		branch = matches(c, cond, inst, ev) ? then : other;
		if (is_schema(branch))
			check_value(c, branch, inst, ev);
	}
	jv_free(cond);
	jv_free(then);
	jv_free(other);
}

/* allOf, anyOf, oneOf, not, if/then/else. */
void
check_combinators(struct check *c, jv schema, jv inst, jv *ev)
{
	jv all = schema_list(c, schema, "allOf"), not, s;
	int i;

	for (i = 0; jv_is_valid(all) && i < jv_array_length(jv_copy(all));
	    i++) {
		s = jv_array_get(jv_copy(all), i);
		check_value(c, s, inst, ev);
		jv_free(s);
	}
	jv_free(all);
	check_choice(c, schema, inst, "anyOf", ev);
	check_choice(c, schema, inst, "oneOf", ev);
	not = json_get(schema, "not");
	if (jv_get_kind(not) != JV_KIND_INVALID && !is_schema(not)) {
		invalid_keyword(c, "not");
	} else if (jv_is_valid(not) && matches(c, not, inst, NULL)) {
		s = shown(jv_copy(not));
		violation(c, "must not match the schema %s",
		    jv_string_value(s));
		jv_free(s);
	}
	jv_free(not);
	check_condition(c, schema, inst, ev);
}

/* unevaluatedProperties, unevaluatedItems: the members of inst that no
 * other keyword of this schema (or the schemas it applies) evaluated. */
void
check_unevaluated(struct check *c, jv schema, jv inst, jv *ev)
{
	int is_obj = jv_get_kind(inst) == JV_KIND_OBJECT, n, i;
	jv sub = json_get(schema, is_obj ? "unevaluatedProperties" :
	    "unevaluatedItems"), keys, key, v;
	size_t at;

	if (c->draft7 || jv_get_kind(sub) == JV_KIND_INVALID) {
		jv_free(sub);
		return;
	}
	if (!is_schema(sub)) {
		invalid_keyword(c, is_obj ? "unevaluatedProperties" :
		    "unevaluatedItems");
		jv_free(sub);
		return;
	}
	keys = is_obj ? jv_keys(jv_copy(inst)) : jv_invalid();
	n = is_obj ? jv_array_length(jv_copy(keys)) :
	    jv_array_length(jv_copy(inst));
	for (i = 0; i < n && spend(c, 1); i++) {
		key = is_obj ? jv_array_get(jv_copy(keys), i) : index_key(i);
		if (jv_object_has(jv_copy(*ev), jv_copy(key))) {
			jv_free(key);
			continue;
		}
		v = is_obj ? jv_object_get(jv_copy(inst), jv_copy(key)) :
		    jv_array_get(jv_copy(inst), i);
		at = path_push(c, jv_string_value(key),
		    (size_t)jv_string_length_bytes(jv_copy(key)));
		if (jv_get_kind(sub) == JV_KIND_FALSE)
			violation(c, "is not allowed (the schema describes no "
			    "such %s)", is_obj ? "property" : "item");
		else
			check_value(c, sub, v, NULL);
		path_pop(c, at);
		jv_free(v);
		mark(c, ev, key);
	}
	jv_free(keys);
	jv_free(sub);
}
