/*
 * Inside the JSON Schema checker: the keywords of objects, the
 * combinators and unevaluated* (lib/schemaobject.c). schema and inst
 * are borrowed; *ev as in schemacheck.h.
 */
#ifndef LLM_SCHEMAOBJECT_H
#define LLM_SCHEMAOBJECT_H

#include <jv.h>

#include "schemacheck.h"

/* properties, patternProperties, additionalProperties, required,
 * minProperties, maxProperties, propertyNames, dependentRequired,
 * dependentSchemas, dependencies for an object. */
void check_object(struct check *c, jv schema, jv inst, jv *ev);
/* allOf, anyOf, oneOf, not, if/then/else. */
void check_combinators(struct check *c, jv schema, jv inst, jv *ev);
/* unevaluatedProperties, unevaluatedItems: the members of inst that no
 * other keyword of this schema (or the schemas it applies) evaluated. */
void check_unevaluated(struct check *c, jv schema, jv inst, jv *ev);

#endif
