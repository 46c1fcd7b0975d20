/*
 * Inside the JSON Schema checker: base URIs, the index of resources and
 * anchors, "$ref" and "$dynamicRef" (lib/schemaref.c).
 */
#ifndef LLM_SCHEMAREF_H
#define LLM_SCHEMAREF_H

#include <jv.h>

#include "schemacheck.h"

/* schema's (borrowed) base URI: base (consumed), or its "$id" resolved
 * against base. */
jv schema_base(struct check *c, jv schema, jv base);
/* Record the resources and anchors of schema (borrowed) and its
 * subschemas in c->index, schema being at base (consumed), depth
 * levels down. */
void index_schema(struct check *c, jv schema, jv base, int depth);
/* "$ref" and "$dynamicRef": the schema they name applied to inst. */
void check_ref(struct check *c, jv schema, jv inst, jv *ev);

#endif
