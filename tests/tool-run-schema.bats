#!/usr/bin/env bats
# tool-run checks arguments against the tool's schema before it runs:
# each keyword of the issue, and the message the model gets.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR=tools.d
	printf '#!/bin/sh\necho ran >>"%s/runs"\ncat\n' "$TMP" >tools.d/t
	chmod +x tools.d/t
	cat >tools.d/t.json <<'JSON'
{"name":"t","parameters":{"type":"object","properties":{
 "s":{"type":"string","minLength":2,"maxLength":4,"pattern":"^[a-z]+$"},
 "n":{"type":"number","minimum":1,"maximum":10},
 "i":{"type":"integer"},
 "e":{"enum":["celsius","fahrenheit"]},
 "c":{"const":"circle"},
 "a":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":2},
 "o":{"type":"object","properties":{"x":{"type":"boolean"}},"required":["x"],"additionalProperties":false},
 "u":{"anyOf":[{"type":"string"},{"type":"integer"}]},
 "z":{"type":["string","null"]},
 "d":{"type":"string","pattern":"^\\d{5}$"}
},"required":["s"],"additionalProperties":false}}
JSON
}

# verdict ARGS: the content tool-run gives for one call of t with ARGS
verdict() {
	jq -cn --arg a "$1" '[{id: "1", type: "function", function: {name: "t", arguments: $a}}]' >calls.json
	tool-run calls.json | jq -r '.[0].content | (fromjson? | .error?) // .'
}

@test "every keyword: the violation is named by its path, and nothing runs" {
	p='invalid arguments for t, not run: '
	while IFS='|' read -r args expected; do
		got=$(verdict "$args")
		if [ "$got" != "$p$expected" ]; then
			printf 'args %s\nexpected %s\ngot      %s\n' "$args" "$p$expected" "$got" >&2
			return 1
		fi
	done <<'CASES'
{}|/: missing required property "s"
{"s":"a"}|/s: must be at least 2 characters long
{"s":"abcde"}|/s: must be at most 4 characters long
{"s":"AB"}|/s: must match the pattern ^[a-z]+$
{"s":"ab","n":0}|/n: must be at least 1
{"s":"ab","n":11}|/n: must be at most 10
{"s":"ab","n":"5"}|/n: must be a number, not a string
{"s":"ab","i":1.5}|/i: must be an integer, not 1.5
{"s":"ab","e":"kelvin"}|/e: must be one of "celsius", "fahrenheit"
{"s":"ab","c":"square"}|/c: must be "circle"
{"s":"ab","a":[]}|/a: must have at least 1 item
{"s":"ab","a":["x","y","z"]}|/a: must have at most 2 items
{"s":"ab","a":[1]}|/a/0: must be a string, not a number
{"s":"ab","o":{"y":1}}|/o: missing required property "x"; /o/y: is not allowed (allowed properties: x)
{"s":"ab","u":1.5}|/u: must match one of the 2 allowed schemas (1: must be a string, not 1.5; 2: must be an integer, not 1.5)
{"s":"ab","z":3}|/z: must be a string or null, not a number
{"s":"ab","d":"1234"}|/d: must match the pattern ^\d{5}$
{"s":"ab","extra":1}|/extra: is not allowed (allowed properties: a, c, d, e, i, n, o, s, u, z)
CASES
	[ ! -e runs ]
}

@test "arguments that fit every keyword run, nullable and unicode included" {
	run verdict '{"s":"ab","n":1,"i":3,"e":"celsius","c":"circle","a":["x"],"o":{"x":true},"u":7,"z":null,"d":"12345"}'
	assert_output '{"s":"ab","n":1,"i":3,"e":"celsius","c":"circle","a":["x"],"o":{"x":true},"u":7,"z":null,"d":"12345"}'
	# Lengths count characters, not bytes: two characters, six bytes.
	run verdict '{"s":"éé"}'
	assert_output 'invalid arguments for t, not run: /s: must match the pattern ^[a-z]+$'
	sed -i 's/"pattern":"^\[a-z\]+\$"/"pattern":"^.+$"/' tools.d/t.json
	run verdict '{"s":"é☃"}'
	assert_output '{"s":"é☃"}'
	[ "$(wc -l <runs)" -eq 2 ]
}

@test "a schema that is itself broken is reported, not crashed on" {
	echo '{"name":"t","parameters":{"type":"object","properties":{"s":{"type":"string","pattern":"(["}}}}' >tools.d/t.json
	run verdict '{"s":"x"}'
	assert_output --partial 'invalid arguments for t, not run: /s: '
	assert_output --partial 'pattern'
	[ ! -e runs ]
}
