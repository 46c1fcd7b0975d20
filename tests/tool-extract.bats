#!/usr/bin/env bats
# tool-extract: tool calls out of a response, normalized; exit 0/1 like grep.

load helper

response() { # response MESSAGE_JSON
	printf '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":%s,"finish_reason":"tool_calls"}]}' "$1"
}

@test "tool-extract writes the calls of a response and exits 0" {
	response '{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":5,\"b\":4}"}}]}' >r.json
	run --separate-stderr tool-extract r.json
	assert_success
	json_eq "$output" '[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":5,\"b\":4}"}}]'
	[ -z "$stderr" ]
}

@test "tool-extract reads stdin when there is no FILE" {
	response '{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"x","arguments":"{}"}}]}' >r.json
	run tool-extract <r.json
	assert_success
	json_eq "$output" '[{"id":"c","type":"function","function":{"name":"x","arguments":"{}"}}]'
}

@test "no tool calls: stdout [] and exit 1" {
	response '{"role":"assistant","content":"Hello"}' >r.json
	run tool-extract r.json
	assert_failure 1
	assert_output '[]'
}

@test "arguments given as an object are serialized to a string" {
	response '{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"add","arguments":{"a":1,"b":[2]}}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -r '.[0].function.arguments | fromjson | tojson' <<<"$output"
	assert_output '{"a":1,"b":[2]}'
}

@test "empty, null and missing arguments become {}" {
	response '{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f","arguments":""}},{"id":"b","function":{"name":"f","arguments":null}},{"id":"c","function":{"name":"f"}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -c '[.[].function.arguments]' <<<"$output"
	assert_output '["{}","{}","{}"]'
}

@test "missing, empty and duplicate ids get unique generated ids" {
	response '{"role":"assistant","tool_calls":[{"function":{"name":"f"}},{"id":"","function":{"name":"f"}},{"id":"same","function":{"name":"f"}},{"id":"same","function":{"name":"f"}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -r '.[].id' <<<"$output"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[2]}" = same ]
	[[ ${lines[0]} =~ ^call_[0-9a-f]{24}$ ]]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 4 ]
}

@test "generated ids are the same on every run (tool-append relies on it)" {
	response '{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}' >r.json
	a=$(tool-extract r.json)
	b=$(tool-extract r.json)
	[ "$a" = "$b" ]
}

@test "a numeric id becomes a string" {
	response '{"role":"assistant","tool_calls":[{"id":7,"function":{"name":"f","arguments":"{}"}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -c '.[0].id' <<<"$output"
	assert_output '"7"'
}

@test "a legacy function_call becomes one call" {
	response '{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}' >r.json
	run tool-extract r.json
	assert_success
	run jq -c '[length, .[0].type, .[0].function.name, .[0].function.arguments]' <<<"$output"
	assert_output '[1,"function","get_weather","{\"city\":\"Paris\"}"]'
}

@test "-r prints the reply text" {
	response '{"role":"assistant","content":"It is 22 °C in Tokyo."}' >r.json
	run tool-extract --reply r.json
	assert_success
	assert_output 'It is 22 °C in Tokyo.'
}

@test "-r prints a refusal when there is no content" {
	response '{"role":"assistant","content":null,"refusal":"I cannot help with that."}' >r.json
	run tool-extract --reply r.json
	assert_success
	assert_output 'I cannot help with that.'
}

@test "not JSON: exit 3, a message, nothing on stdout" {
	printf '{"choices":[' >r.json
	run --separate-stderr tool-extract r.json
	assert_failure 3
	assert_output ''
	[[ $stderr == "tool-extract: response (r.json): not a JSON document:"* ]]
}

@test "empty input: exit 3" {
	run --separate-stderr tool-extract </dev/null
	assert_failure 3
	[[ $stderr == *"empty input"* ]]
}

@test "wrong shapes: exit 3 with what is wrong" {
	for doc in '[]' '{"choices":[]}' '{"choices":[{"message":"hi"}]}' \
		'{"choices":[{"message":{"tool_calls":{}}}]}' \
		'{"choices":[{"message":{"tool_calls":[{"function":{}}]}}]}' \
		'{"choices":[{"message":{"tool_calls":[{"type":"custom","custom":{"name":"x"}}]}}]}'; do
		run --separate-stderr tool-extract <<<"$doc"
		assert_failure 3
		assert_output ''
		[[ $stderr == tool-extract:* ]]
	done
}

@test "an API error object: exit 3 with its message" {
	run --separate-stderr tool-extract <<<'{"error":{"message":"Rate limit reached","type":"requests"}}'
	assert_failure 3
	[[ $stderr == *"Rate limit reached"* ]]
}

@test "a missing file: exit 3" {
	run --separate-stderr tool-extract nonexistent.json
	assert_failure 3
	[[ $stderr == "tool-extract: nonexistent.json: No such file or directory" ]]
}

@test "usage errors exit 2; --help and --version exit 0" {
	run tool-extract --bogus
	assert_failure 2
	run tool-extract a b
	assert_failure 2
	run tool-extract --help
	assert_success
	assert_output --partial 'usage: tool-extract'
	run tool-extract --version
	assert_success
	assert_output 'tool-extract 0.1.0'
}

@test "with several choices the first one is read" {
	printf '%s' '{"choices":[{"index":0,"message":{"role":"assistant","content":"a"}},{"index":1,"message":{"role":"assistant","tool_calls":[{"id":"x","function":{"name":"f","arguments":"{}"}}]}}]}' >r.json
	run tool-extract r.json
	assert_failure 1
	run tool-extract --reply r.json
	assert_output a
}

@test "-r falls back to the refusal when content is empty" {
	response '{"role":"assistant","content":"","refusal":"No."}' >r.json
	run tool-extract --reply r.json
	assert_success
	assert_output 'No.'
	response '{"role":"assistant","content":""}' >r.json
	run tool-extract --reply r.json
	assert_failure 1
	assert_output ''
}

@test "-V is --version" {
	run tool-extract -V
	assert_success
	assert_output 'tool-extract 0.1.0'
}

@test "an id with a NUL byte in it is replaced by a generated one" {
	response '{"role":"assistant","tool_calls":[{"id":"a\u0000b","function":{"name":"f"}},{"id":"a","function":{"name":"f"}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -r '.[].id' <<<"$output"
	[[ ${lines[0]} =~ ^call_[0-9a-f]{24}$ ]]
	assert_line --index 1 a
}

@test "ids that differ only after a NUL byte stay different" {
	response '{"role":"assistant","tool_calls":[{"id":"a\u0000x","function":{"name":"f"}},{"id":"a\u0000y","function":{"name":"f"}}]}' >r.json
	run tool-extract r.json
	assert_success
	run jq -r '.[].id' <<<"$output"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" != "${lines[1]}" ]
}

@test "20,000 calls are extracted in linear time, every generated id unique" {
	jq -nc '{choices: [{message: {role: "assistant", tool_calls: [range(20000) | {id: (if . % 2 == 0 then "c\(.)" else "dup" end), function: {name: "f"}}]}}]}' >r.json
	local start=$SECONDS
	run --separate-stderr tool-extract -O out.json r.json
	assert_success
	[ $((SECONDS - start)) -le $((10 * TIME_FACTOR)) ]
	run jq '[.[].id] | unique | length' out.json
	assert_output 20000
}

@test "-O keeps the mode of the file it replaces; a new file has 0644 less the umask" {
	response '{"role":"assistant","content":"secret"}' >r.json
	: >private
	chmod 600 private
	run --separate-stderr tool-extract --reply -O private r.json
	assert_success
	assert_equal "$(cat private)" secret
	assert_equal "$(stat -c %a private)" 600
	chmod 640 private
	tool-extract --reply -O private r.json
	assert_equal "$(stat -c %a private)" 640
	(umask 027 && tool-extract --reply -O new r.json)
	assert_equal "$(stat -c %a new)" 640
	(umask 022 && tool-extract --reply -O new2 r.json)
	assert_equal "$(stat -c %a new2)" 644
}

@test "-r into a file or a pipe writes the text whole and unaltered, after a NUL too" {
	response '{"role":"assistant","content":"a\u0000b\u001b[2J\rc\u009b\ttab"}' >r.json
	run --separate-stderr tool-extract --reply -O out r.json
	assert_success
	[ -z "$stderr" ]
	printf 'a\0b\033[2J\rc\302\233\ttab\n' >want
	cmp want out
	tool-extract --reply r.json | cat >piped
	cmp want piped
}

@test "-r to a terminal shows escape sequences escaped, newlines and tabs kept" {
	response '{"role":"assistant","content":"a\u0000b\u001b]0;pwned\u0007\u001b[2J\rc\u009b\n\ttab"}' >r.json
	script -qc "tool-extract --reply r.json" /dev/null >tty.out
	[ "$(tr -d '\r' <tty.out)" = $'a\\x00b\\e]0;pwned\\x07\\e[2J\\rc\\u{009b}\n\ttab' ]
	! grep -q $'\e' tty.out
}

@test "--check: the reply only when it follows the request's JSON Schema, else exit 9" {
	echo '{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]},"strict":true}}}' >req.json
	echo '{"choices":[{"message":{"role":"assistant","content":"{\"n\":3}"}}]}' >good.json
	echo '{"choices":[{"message":{"role":"assistant","content":"{\"m\":3}"}}]}' >bad.json
	run --separate-stderr tool-extract --reply --check req.json good.json
	assert_success
	assert_output '{"n":3}'
	run --separate-stderr tool-extract --reply --check req.json bad.json
	assert_failure 9
	assert_output ''
	[[ $stderr == 'tool-extract: the reply does not follow the schema: /: '*'"n"'* ]]
	# A request that asks for no schema checks nothing.
	echo '{"messages":[]}' >plain.json
	run --separate-stderr tool-extract --reply --check plain.json bad.json
	assert_success
	assert_output '{"m":3}'
	run --separate-stderr tool-extract --check req.json good.json
	assert_failure 2
}
