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

# A tool p whose property NAME must match PATTERN, for each line
# "NAME PATTERN" on stdin.
pattern_tool() {
	printf '#!/bin/sh\necho ran\n' >tools.d/p
	chmod +x tools.d/p
	jq -Rn '{name: "p", parameters: {type: "object", properties:
	    ([inputs | capture("^(?<k>[^ ]+) (?<p>.*)$") | {(.k): {type: "string", pattern: .p}}] | add)}}' \
		>tools.d/p.json
}

@test "patterns are ECMA-262: \\p{...}, lookaround, back references, \\cX, \\s, \\d, \$" {
	pattern_tool <<'PATTERNS'
letter ^\p{L}+$
greek ^\p{Script=Greek}+$
ahead ^a(?=b)
behind (?<!x)y$
backref ^(\w)\1$
named ^(?<c>.)\k<c>$
ctrl ^\cJ$
space ^\s$
nonspace ^\S+$
digit ^\d+$
dollar ^abc$
word ^\w+$
unicode ^\u00e9\u{1F600}$
PATTERNS
	# id|property|value as JSON|1 when the call runs, 0 when refused
	cases='1|letter|"école"|1
2|letter|"x1"|0
3|greek|"αβγ"|1
4|greek|"abc"|0
5|ahead|"ab"|1
6|ahead|"ac"|0
7|behind|"ay"|1
8|behind|"xy"|0
9|backref|"aa"|1
10|backref|"ab"|0
11|named|"zz"|1
12|named|"zy"|0
13|ctrl|"\n"|1
14|ctrl|"J"|0
15|space|"\u00a0"|1
16|space|"\ufeff"|1
17|space|"\u2028"|1
18|space|"x"|0
19|nonspace|"a\ufeffb"|0
20|digit|"0123"|1
21|digit|"١٢٣"|0
22|dollar|"abc"|1
23|dollar|"abc\n"|0
24|word|"abc_1"|1
25|word|"é"|0
26|unicode|"é😀"|1'
	jq -Rn '[inputs | split("|") | {id: .[0], type: "function",
	    function: {name: "p", arguments: ({(.[1]): (.[2] | fromjson)} | tojson)}}]' \
		<<<"$cases" >calls.json
	run --separate-stderr tool-run calls.json
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" >results.json
	run jq -r --arg cases "$cases" '
		($cases | split("\n") | map(split("|") | {key: .[0], value: .[3]})
		    | from_entries) as $want
		| .[] | (if .content == "ran" then "1" else "0" end) as $got
		| select($got != $want[.tool_call_id]
		    or ($got == "0" and (.content | test("must match the pattern") | not)))
		| "\(.tool_call_id): \(.content)"' results.json
	assert_success
	assert_output ""
}

@test "a pattern that would backtrack for ever stops that call with an error, soon" {
	pattern_tool <<'PATTERNS'
trail \s+$
nested ^(a+)+$
PATTERNS
	jq -n '[
	    {id: "1", type: "function", function: {name: "p", arguments:
	        ({trail: ("                              " * 1000 + "x")} | tojson)}},
	    {id: "2", type: "function", function: {name: "p", arguments:
	        ({trail: (" " * 1048576 + "x")} | tojson)}},
	    {id: "3", type: "function", function: {name: "p", arguments:
	        ({nested: ("a" * 5000 + "!")} | tojson)}},
	    {id: "4", type: "function", function: {name: "p", arguments:
	        ({trail: "ok  "} | tojson)}}]' >calls.json
	start=$(date +%s)
	run --separate-stderr tool-run calls.json
	assert_success
	[ $(($(date +%s) - start)) -le $((10 * TIME_FACTOR)) ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" >results.json
	run jq -r '.[] | "\(.tool_call_id) \(.content | (fromjson? | .error) // .)"' results.json
	assert_line --index 0 --regexp '^1 invalid arguments for p, not run: /trail: is too expensive to match against the pattern \\s\+\$ \(the match was stopped\); send a shorter or simpler value$'
	assert_line --index 1 --regexp '^2 invalid arguments for p, not run: /trail: is too expensive to match'
	assert_line --index 2 --regexp '^3 invalid arguments for p, not run: /nested: is too expensive to match'
	assert_line --index 3 '4 ran'
	[ "${#lines[@]}" -eq 4 ]
}

@test "the keywords of 2020-12 beyond the basic ones, each violation in plain words" {
	cat >tools.d/t.json <<'JSON'
{"name":"t","parameters":{"type":"object",
 "properties":{"a":{"type":"array","contains":{"type":"integer"},"maxContains":2},
  "card":{"type":"string"},"m":{"propertyNames":{"maxLength":3}},
  "k":{"if":{"minimum":10},"then":{"multipleOf":5},"else":{"const":1}},
  "x":{"type":"integer","multipleOf":0.123456789},
  "r":{"prefixItems":[{"type":"string"}],"items":{"$ref":"#/properties/r/prefixItems/0"}},
  "p":{"$ref":"#/$defs/a%25b"}},
 "$defs":{"a%b":{"enum":["yes"]}},
 "dependentRequired":{"card":["cvv"]},
 "allOf":[{"properties":{"cvv":{"type":"string"}}}],
 "unevaluatedProperties":false}}
JSON
	p='invalid arguments for t, not run: '
	while IFS='|' read -r args expected; do
		got=$(verdict "$args")
		if [ "$got" != "$p$expected" ]; then
			printf 'args %s\nexpected %s\ngot      %s\n' "$args" "$p$expected" "$got" >&2
			return 1
		fi
	done <<'CASES'
{"a":["x"]}|/a: must have at least 1 item matching the "contains" schema (0 do)
{"a":[1,2,3]}|/a: must have at most 2 items matching the "contains" schema (3 do)
{"card":"4111"}|/: missing property "cvv" (required when "card" is present)
{"m":{"long":1}}|/m: has a property name that is not allowed: "long" (must be at most 3 characters long)
{"k":12}|/k: must be a multiple of 5
{"k":3}|/k: must be 1
{"x":1e308}|/x: must be a multiple of 0.123456789
{"r":["a",2]}|/r/1: must be a string, not a number
{"p":"no"}|/p: must be "yes"
{"zz":1}|/zz: is not allowed (the schema describes no such property)
CASES
	[ ! -e runs ]
	run verdict '{"a":[1],"card":"4111","cvv":"123","m":{"ab":1},"k":15,"r":["a","b"],"p":"yes"}'
	assert_output '{"a":[1],"card":"4111","cvv":"123","m":{"ab":1},"k":15,"r":["a","b"],"p":"yes"}'
}

@test "the draft is the one \$schema names: draft 7 ignores what sits beside \$ref" {
	for draft in 'http://json-schema.org/draft-07/schema#' 'https://json-schema.org/draft/2020-12/schema'; do
		jq -n --arg d "$draft" '{name: "t", parameters: {"$schema": $d,
		    type: "object", properties: {s: {"$ref": "#/$defs/str", maxLength: 2}},
		    "$defs": {str: {type: "string"}}}}' >tools.d/t.json
		verdict '{"s":"long"}' >>verdicts
	done
	run cat verdicts
	assert_line --index 0 '{"s":"long"}'
	assert_line --index 1 'invalid arguments for t, not run: /s: must be at most 2 characters long'
	[ "${#lines[@]}" -eq 2 ]
}

@test "many costly matches in one call are stopped together, soon" {
	printf '#!/bin/sh\necho ran\n' >tools.d/p
	chmod +x tools.d/p
	echo '{"name":"p","parameters":{"type":"object","properties":{"a":{"type":"array","items":{"type":"string","pattern":"\\s+$"}}}}}' >tools.d/p.json
	jq -n '[{id: "1", type: "function", function: {name: "p", arguments:
	    ({a: [range(60) | " " * 30000 + "x"]} | tojson)}}]' >calls.json
	start=$(date +%s)
	run --separate-stderr tool-run calls.json
	assert_success
	[ $(($(date +%s) - start)) -le $((10 * TIME_FACTOR)) ]
	[ -z "$stderr" ]
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output --regexp '^invalid arguments for p, not run: /a/0: is too expensive to match against the pattern .*; /: the arguments are too large or too complex to check$'
}
