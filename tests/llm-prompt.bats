#!/usr/bin/env bats
# llm-prompt: starting and continuing a request.

load helper

@test "a new request with model, system message and prompt" {
	run --separate-stderr llm-prompt -m gpt-4.1-mini -s "Be brief." "What is 5 + 4?"
	assert_success
	json_eq "$output" '{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 5 + 4?"}]}'
}

@test "quotes, backslashes, newlines and UTF-8 in a prompt stay intact" {
	prompt=$(printf 'say "hi" \\ to\n\tJosé ☃')
	run llm-prompt "$prompt"
	assert_success
	run jq -r '.messages[0].content' <<<"$output"
	[ "$output" = "$prompt" ]
}

@test "-T adds the tools of a tools file; an empty list adds no tools key" {
	echo '[{"type":"function","function":{"name":"add","parameters":{"type":"object"}}}]' >tools.json
	run llm-prompt -T tools.json hi
	assert_success
	run jq -c '[.tools[].function.name]' <<<"$output"
	assert_output '["add"]'
	echo '[]' >none.json
	run llm-prompt -T none.json hi
	run jq -c 'has("tools")' <<<"$output"
	assert_output false
}

@test "-c continues a conversation; its own tool definitions win" {
	echo '{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}],"tools":[{"type":"function","function":{"name":"add","description":"mine"}}]}' >conv.json
	echo '[{"type":"function","function":{"name":"add","description":"dir"}},{"type":"function","function":{"name":"sub"}}]' >tools.json
	run llm-prompt -c conv.json -T tools.json "c"
	assert_success
	run jq -c '[.model, [.messages[].content], [.tools[].function.description]]' <<<"$output"
	assert_output '["m",["a","b","c"],["mine",null]]'
}

@test "-c - reads stdin; a bare messages array is accepted" {
	run llm-prompt -c - "next" <<<'[{"role":"user","content":"first"}]'
	assert_success
	json_eq "$output" '{"messages":[{"role":"user","content":"first"},{"role":"user","content":"next"}]}'
}

@test "-s replaces a leading system message" {
	run llm-prompt -c - -s new <<<'{"messages":[{"role":"system","content":"old"},{"role":"user","content":"q"}]}'
	json_eq "$output" '{"messages":[{"role":"system","content":"new"},{"role":"user","content":"q"}]}'
}

@test "bad input exits 3; no PROMPT and no -c exits 2" {
	run --separate-stderr llm-prompt -c - x <<<'{"messages":3}'
	assert_failure 3
	assert_output ''
	[[ $stderr == *"no messages array"* ]]
	echo '{"not":"an array"}' >tools.json
	run --separate-stderr llm-prompt -T tools.json x
	assert_failure 3
	run llm-prompt
	assert_failure 2
	run llm-prompt a b
	assert_failure 2
}

@test "the request validates against OpenAI's schema" {
	tool-run -d "$ROOT/tools.d" --list >tools.json
	llm-prompt -m gpt-4.1-mini -s sys -T tools.json "What is 5 + 4?" >req.json
	run "$ROOT/tests/validate-request" req.json
	assert_success
}

@test "a request or tools that only a lenient parser reads are refused" {
	printf '{"messages":[],"temperature":NaN}' >req.json
	run --separate-stderr llm-prompt -c req.json hi
	assert_failure 3
	[ -z "$output" ]
	assert_equal "$stderr" 'llm-prompt: request (req.json): not a JSON document: unexpected "N" at byte 29'
	printf '\xef\xbb\xbf[]' >tools.json
	run --separate-stderr llm-prompt -T tools.json hi
	assert_failure 3
	[ -z "$output" ]
	assert_equal "$stderr" 'llm-prompt: tools (tools.json): not a JSON document: unexpected byte 0xef at byte 0'
}
