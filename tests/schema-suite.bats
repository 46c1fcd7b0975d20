#!/usr/bin/env bats
# The JSON Schema Test Suite (tests/fixtures/JSON-Schema-Test-Suite):
# every required test of draft 2020-12 and draft 7 through the checker,
# the optional ECMA-262 pattern tests, and every object instance end to
# end through tool-run, one run for all the calls of a draft. The tests
# left out, and why, are listed in tests/schema-suite.c.

load helper

SUITE=$ROOT/tests/fixtures/JSON-Schema-Test-Suite/tests

setup_file() {
	make -s -C "$ROOT" build/schema-suite >&2
}

@test "draft 2020-12: every required test passes through the checker" {
	run --separate-stderr "$ROOT/build/schema-suite" -q draft2020-12 \
		"$SUITE"/draft2020-12/*.json
	assert_success
	assert_output "draft2020-12: 1246 passed, 0 failed, 17 skipped"
	[ -z "$stderr" ]
}

@test "draft 7: every required test passes through the checker" {
	run --separate-stderr "$ROOT/build/schema-suite" -q draft7 \
		"$SUITE"/draft7/*.json
	assert_success
	assert_output "draft7: 900 passed, 0 failed, 4 skipped"
	[ -z "$stderr" ]
}

@test "the optional ECMA-262 pattern tests pass, in both drafts" {
	local d
	for d in draft2020-12 draft7; do
		run --separate-stderr "$ROOT/build/schema-suite" -q "$d" \
			"$SUITE/$d"/optional/ecmascript-regex.json \
			"$SUITE/$d"/optional/non-bmp-regex.json
		assert_success
		assert_output "$d: 86 passed, 0 failed, 0 skipped"
	done
}

# e2e DRAFT: the object instances of DRAFT as the calls of one tool-run;
# a valid call runs its tool ("ran"), an invalid one is refused.
e2e() {
	"$ROOT/build/schema-suite" -t "$1" "$1" "$SUITE/$1"/*.json \
		"$SUITE/$1"/optional/*.json
	run --separate-stderr tool-run -d "$1/tools.d" "$1/calls.json"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$1/results.json"
	run jq -r --slurpfile e "$1/expected.json" '
		.[] | .tool_call_id as $id | .content as $c
		| select(if $e[0][$id] then $c != "ran"
		    else ($c | startswith("{\"error\":\"invalid arguments for ")
		    | not) end)
		| "\($id): \($c)"' "$1/results.json"
	assert_success
	assert_output ""
	run jq -r 'length' "$1/calls.json"
	assert_output "$2"
}

@test "draft 2020-12: every object instance end to end through tool-run" {
	e2e draft2020-12 442
}

@test "draft 7: every object instance end to end through tool-run" {
	e2e draft7 292
}
