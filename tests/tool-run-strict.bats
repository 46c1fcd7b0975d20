#!/usr/bin/env bats
# tool-run: a call's arguments are strict JSON, one object with each key
# once, and the tool reads exactly the bytes that were checked; call ids
# are kept whole.

load helper

local_setup() {
	mkdir tools.d
	printf '#!/bin/sh\ncat >"%s/got.$TOOL_CALL_ID"\necho ran\n' "$TMP" \
		>tools.d/keep
	chmod +x tools.d/keep
	echo '{"name":"keep","parameters":{"type":"object"}}' >tools.d/keep.json
}

# calls ARGS...: a calls array with one call of keep per argument, its
# arguments the argument's text as a JSON string, ids c0, c1, ...
calls() {
	local i=0 a out=
	for a in "$@"; do
		out+="${out:+,}{\"id\":\"c$i\",\"type\":\"function\",\"function\":{\"name\":\"keep\",\"arguments\":$(printf '%s' "$a" | jq -Rs .)}}"
		i=$((i + 1))
	done
	printf '[%s]\n' "$out"
}

@test "arguments that only a lenient parser reads are refused and not run" {
	calls '{"a":NaN}' '{"a":Infinity}' '{"a":-Infinity}' '{"a":01}' \
		'{"a":1.}' '{"a":.5}' $'\xef\xbb\xbf{"a":1}' '{"a":"\ud800"}' \
		'{"a":"\udc00x"}' '{"a":1} x' '{"a":1}{}' "{'a':1}" '{"a":1,}' \
		'{a:1}' '{"a":"tab	in"}' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	[ "${#lines[@]}" -eq 15 ]
	local line
	for line in "${lines[@]}"; do
		[[ $line == 'the arguments are not valid JSON ('*'); send a JSON object' ]]
	done
	assert_line --index 0 'the arguments are not valid JSON (unexpected "N" at byte 5); send a JSON object'
	assert_line --index 9 'the arguments are not valid JSON (unexpected "x" at byte 8); send a JSON object'
	[ -z "$(ls "$TMP" | grep '^got\.')" ]
}

@test "a raw NUL byte in the arguments is refused and not run" {
	printf '[{"id":"n","function":{"name":"keep","arguments":"{\\"a\\":\\"x\\u0000y\\"}"}}]' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'the arguments are not valid JSON (unexpected byte 0x00 at byte 7); send a JSON object'
	[ ! -e "$TMP/got.n" ]
}

@test "a key given twice is refused, at any depth, however it is spelled" {
	calls '{"path":"/etc/shadow","path":"/srv/public/x"}' \
		'{"a":{"b":1,"c":2,"b":3}}' '{"p\u0061th":1,"path":2}' \
		'[{"x":1,"x":1}]' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	assert_line --index 0 'the arguments hold the key "path" twice (at byte 22); send each key once'
	assert_line --index 1 'the arguments hold the key "b" twice (at byte 18); send each key once'
	assert_line --index 2 'the arguments hold the key "path" twice (at byte 15); send each key once'
	assert_line --index 3 'the arguments hold the key "x" twice (at byte 8); send each key once'
	[ -z "$(ls "$TMP" | grep '^got\.')" ]
}

@test "keys that differ, also only after a NUL, are not duplicates" {
	calls '{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}],"a\u0000x":5,"a\u0000y":6}' \
		>calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	json_eq "$output" '[{"role":"tool","tool_call_id":"c0","content":"ran"}]'
}

@test "the tool reads exactly the bytes that were checked" {
	local args=$' {"n" : 1.50e+2,\n "s":"\\u00e9\\/\xc3\xa9", "z":-0 }\t'
	calls "$args" >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	printf '%s' "$args" >want
	cmp want "$TMP/got.c0"
}

@test "strict JSON that is not an object is refused and not run" {
	calls '[1]' '"x"' '1' 'null' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	assert_line --index 0 'the arguments must be a JSON object (got array)'
	assert_line --index 1 'the arguments must be a JSON object (got string)'
	assert_line --index 2 'the arguments must be a JSON object (got number)'
	assert_line --index 3 'the arguments must be a JSON object (got null)'
}

@test "call ids that differ only after a NUL byte stay different" {
	printf '[{"id":"a\\u0000x","function":{"name":"keep","arguments":"{}"}},{"id":"a\\u0000y","function":{"name":"keep","arguments":"{}"}},{"id":"a","function":{"name":"keep","arguments":"{}"}}]' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -c '[.[].tool_call_id]' <<<"$output"
	assert_output '["a\u0000x","a\u0000y","a"]'
}

@test "a call whose id holds a NUL byte is answered, not run" {
	printf '[{"id":"a\\u0000x","function":{"name":"keep","arguments":"{}"}}]' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'the call id holds a NUL byte; tool calls are answered by id, so it was not run'
	[ -z "$(ls "$TMP" | grep '^got\.')" ]
}

@test "--dry-run refuses the same arguments" {
	calls '{"a":01}' '{"a":1,"a":2}' '{"a":1}' >calls.json
	run --separate-stderr tool-run -d tools.d --dry-run calls.json
	assert_success
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	assert_line --index 0 'the arguments are not valid JSON (unexpected "1" at byte 6); send a JSON object'
	assert_line --index 1 'the arguments hold the key "a" twice (at byte 7); send each key once'
	[[ ${lines[2]} != *'not valid JSON'* && ${lines[2]} != *twice* ]]
}
