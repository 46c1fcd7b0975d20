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
	run llm-prompt -w tools.json hi
	assert_success
	run jq -c '[.tools[].function.name]' <<<"$output"
	assert_output '["add"]'
	echo '[]' >none.json
	run llm-prompt -w none.json hi
	run jq -c 'has("tools")' <<<"$output"
	assert_output false
}

@test "-c continues a conversation; its own tool definitions win" {
	echo '{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}],"tools":[{"type":"function","function":{"name":"add","description":"mine"}}]}' >conv.json
	echo '[{"type":"function","function":{"name":"add","description":"dir"}},{"type":"function","function":{"name":"sub"}}]' >tools.json
	run llm-prompt -c conv.json -w tools.json "c"
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
	run --separate-stderr llm-prompt -w tools.json x
	assert_failure 3
	run llm-prompt
	assert_failure 2
	run llm-prompt a b
	assert_failure 2
}

@test "the request validates against OpenAI's schema" {
	tool-run -d "$ROOT/tools.d" --list >tools.json
	llm-prompt -m gpt-4.1-mini -s sys -w tools.json "What is 5 + 4?" >req.json
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
	run --separate-stderr llm-prompt -w tools.json hi
	assert_failure 3
	[ -z "$output" ]
	assert_equal "$stderr" 'llm-prompt: tools (tools.json): not a JSON document: unexpected byte 0xef at byte 0'
}

@test "piped text goes into the user message before PROMPT" {
	run --separate-stderr llm-prompt "Summarize" < <(printf 'line one\nline two\n\n')
	assert_success
	[ -z "$stderr" ]
	json_eq "$output" '{"messages":[{"role":"user","content":"line one\nline two\n\nSummarize"}]}'
}

@test "-I reads no stdin; -c - reads stdin as the conversation only" {
	run --separate-stderr llm-prompt -I "hi" < <(printf 'ignored')
	assert_success
	json_eq "$output" '{"messages":[{"role":"user","content":"hi"}]}'
	run --separate-stderr llm-prompt --no-stdin "hi" < <(printf 'ignored')
	json_eq "$output" '{"messages":[{"role":"user","content":"hi"}]}'
	run --separate-stderr llm-prompt -c - "next" < <(printf '[]')
	json_eq "$output" '{"messages":[{"role":"user","content":"next"}]}'
	# -c FILE without PROMPT amends the request: stdin is not read.
	echo '{"messages":[{"role":"user","content":"q"}]}' >conv.json
	run --separate-stderr llm-prompt -c conv.json -m m < <(printf 'not read')
	assert_success
	json_eq "$output" '{"model":"m","messages":[{"role":"user","content":"q"}]}'
	# A closed stdin is no text.
	timeout 10 llm-prompt "hi" <&- >out.json
	json_eq "$(cat out.json)" '{"messages":[{"role":"user","content":"hi"}]}'
}

@test "without PROMPT, text on stdin is the prompt and JSON is the request" {
	run --separate-stderr llm-prompt -m m < <(printf 'What is 5 + 4?\n')
	assert_success
	json_eq "$output" '{"model":"m","messages":[{"role":"user","content":"What is 5 + 4?"}]}'
	run --separate-stderr llm-prompt -m m < <(printf '  \n{"messages":[{"role":"user","content":"q"}]}')
	assert_success
	json_eq "$output" '{"model":"m","messages":[{"role":"user","content":"q"}]}'
	run --separate-stderr llm-prompt < <(printf '[{"role":"user","content":"q"}]')
	json_eq "$output" '{"messages":[{"role":"user","content":"q"}]}'
	# Text that starts with { or [ is a request, and a broken one says so.
	run --separate-stderr llm-prompt < <(printf '{"messages": [}')
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: request (standard input): not a JSON document: unexpected "}" at byte 14'
	# Nothing at all is still a usage error.
	run --separate-stderr llm-prompt < <(printf ' \n')
	assert_failure 2
	assert_output ''
	[[ $stderr == *"no PROMPT"* ]]
}

@test "-f adds files with their names, in order; -f - is stdin" {
	printf 'alpha\n' >a.txt
	printf 'has ``` inside' >b.md
	run --separate-stderr llm-prompt -f a.txt --file b.md "Compare"
	assert_success
	run jq -r '.messages[0].content' <<<"$output"
	assert_output "$(printf 'File: a.txt\n```\nalpha\n```\n\nFile: b.md\n````\nhas ``` inside\n````\n\nCompare')"
	run --separate-stderr llm-prompt -f - "Summarize" < <(printf 'from a pipe')
	assert_success
	run jq -r '.messages[0].content' <<<"$output"
	assert_output "$(printf 'File: (standard input)\n```\nfrom a pipe\n```\n\nSummarize')"
	# Files alone make the user message.
	run --separate-stderr llm-prompt -f a.txt
	assert_success
	json_eq "$output" '{"messages":[{"role":"user","content":"File: a.txt\n```\nalpha\n```"}]}'
}

@test "-f refuses a missing, binary, non-UTF-8 or too large file" {
	run --separate-stderr llm-prompt -f nothere.txt hi
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: nothere.txt: No such file or directory'
	printf 'ab\0cd' >bin.dat
	run --separate-stderr llm-prompt -f bin.dat hi
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: bin.dat: not text: a NUL byte at byte 2'
	printf 'caf\xe9\n' >latin1.txt
	run --separate-stderr llm-prompt -f latin1.txt hi
	assert_failure 3
	assert_equal "$stderr" 'llm-prompt: latin1.txt: not UTF-8 text at byte 3'
	head -c 4194305 /dev/zero | tr '\0' a >big.txt
	run --separate-stderr llm-prompt -f big.txt hi
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: big.txt: larger than 4194304 bytes'
	run --separate-stderr llm-prompt hi < <(printf 'x\0y')
	assert_failure 3
	assert_equal "$stderr" 'llm-prompt: standard input: not text: a NUL byte at byte 1'
	run --separate-stderr llm-prompt -c - -f - hi < <(printf '[]')
	assert_failure 2
	assert_equal "$stderr" 'llm-prompt: -f -: standard input is already the conversation (-c -)'
}

@test "-o sets top-level fields: JSON when it parses, else a string" {
	run --separate-stderr llm-prompt -o temperature=0 -o max_completion_tokens=200 \
		-o reasoning_effort=low --option parallel_tool_calls=false \
		-o 'stop=["END"]' -o 'user="42"' -o user2=42x -o empty= "hi"
	assert_success
	json_eq "$output" '{"temperature":0,"max_completion_tokens":200,"reasoning_effort":"low","parallel_tool_calls":false,"stop":["END"],"user":"42","user2":"42x","empty":"","messages":[{"role":"user","content":"hi"}]}'
	# The last one wins, over the conversation's own value too.
	run --separate-stderr llm-prompt -c - -o temperature=1 -o temperature=0.5 "q" < <(printf '{"temperature":2,"messages":[]}')
	json_eq "$output" '{"temperature":0.5,"messages":[{"role":"user","content":"q"}]}'
}

@test "-o refuses a bad argument and the fields the programs own" {
	for bad in model=x messages=[] tools=[] tool_choice=auto stream=true; do
		run --separate-stderr llm-prompt -o "$bad" hi
		assert_failure 2
		assert_output ''
		[[ $stderr == "llm-prompt: -o ${bad%%=*}: set by "* ]]
	done
	run --separate-stderr llm-prompt -o temperature hi
	assert_failure 2
	assert_equal "$stderr" "llm-prompt: -o temperature: not NAME=VALUE"
	run --separate-stderr llm-prompt -o 'a b=1' hi
	assert_failure 2
	assert_equal "$stderr" "llm-prompt: -o a b=1: not NAME=VALUE"
}

@test "--schema asks for a reply that follows a JSON Schema, from a file or inline" {
	echo '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}' >city.json
	run --separate-stderr llm-prompt --schema city.json "Where?"
	assert_success
	json_eq "$(jq -c .response_format <<<"$output")" '{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}}'
	run --separate-stderr llm-prompt -J ' {"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}' "A number"
	assert_success
	json_eq "$(jq -c .response_format <<<"$output")" '{"type":"json_schema","json_schema":{"name":"reply","schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false},"strict":true}}'
}

@test "--schema refuses what is not a schema" {
	run --separate-stderr llm-prompt --schema '{"type":' hi
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: --schema: not a JSON document: unexpected end of input at byte 8'
	echo '[1]' >list.json
	run --separate-stderr llm-prompt --schema list.json hi
	assert_failure 3
	assert_equal "$stderr" 'llm-prompt: --schema (list.json): array, not an object'
	run --separate-stderr llm-prompt --schema nothere.json hi
	assert_failure 3
	run --separate-stderr llm-prompt --schema '{}' -o 'response_format={"type":"text"}' hi
	assert_failure 2
	assert_equal "$stderr" 'llm-prompt: --schema and -o response_format do not go together'
}

@test "a request with -o, -f and --schema validates against OpenAI's schema" {
	printf 'notes\n' >notes.txt
	llm-prompt -m gpt-4.1-mini -o temperature=0 -o max_completion_tokens=200 \
		-o reasoning_effort=low -o parallel_tool_calls=false -f notes.txt \
		--schema '{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}' \
		"Summarize" >req.json
	run "$ROOT/tests/validate-request" req.json
	assert_success
}
