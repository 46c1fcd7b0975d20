#!/usr/bin/env bats
# llm-loop's inputs: piped text, -f, -o, --schema and -H, against llm-mock.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR="$TMP/tools.d"
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
}

script() { # script REPLY... : a mock script of these replies
	local IFS=,
	printf '[%s]' "$*" >script.json
	start_mock --script script.json
}

@test "piped text goes before PROMPT in the user message" {
	script '{"content":"a summary"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" "Summarize" < <(printf 'the notes\n')
	assert_success
	assert_output 'a summary'
	[ -z "$stderr" ]
	run jq -c '.body.messages' mock.log
	assert_output '[{"role":"user","content":"the notes\n\nSummarize"}]'
}

@test "-I leaves stdin alone" {
	script '{"content":"ok"}'
	run --separate-stderr llm-loop -I -u "$MOCK_URL" "Summarize" < <(printf 'the notes\n')
	assert_success
	run jq -c '.body.messages' mock.log
	assert_output '[{"role":"user","content":"Summarize"}]'
}

@test "without a PROMPT, plain text on stdin is the prompt" {
	script '{"content":"9"}'
	LLM_MODEL=m1 run --separate-stderr llm-loop -u "$MOCK_URL" < <(printf 'What is 5 + 4?\n')
	assert_success
	assert_output 9
	run jq -c '.body | [.model, .messages]' mock.log
	assert_output '["m1",[{"role":"user","content":"What is 5 + 4?"}]]'
}

@test "README's batch script asks each question once, with nothing else" {
	script '{"content":"one"}' '{"content":"two"}'
	printf 'first question\nsecond question\n' >questions.txt
	while IFS= read -r question; do
		answer=$(llm-loop -u "$MOCK_URL" -n 5 "$question" </dev/null)
		printf '%s\t%s\n' "$question" "$answer"
	done <questions.txt >answers.tsv
	run cat answers.tsv
	assert_output "$(printf 'first question\tone\nsecond question\ttwo')"
	run jq -c '.body.messages' mock.log
	assert_output "$(printf '%s\n' '[{"role":"user","content":"first question"}]' '[{"role":"user","content":"second question"}]')"
}

@test "-f adds files to the first user message; -f - is stdin" {
	script '{"content":"ok"}' '{"content":"ok"}'
	printf 'alpha\n' >a.txt
	run --separate-stderr llm-loop -u "$MOCK_URL" -f a.txt --file - "Compare" < <(printf 'beta')
	assert_success
	run jq -r 'select(.n == 1) | .body.messages[0].content' mock.log
	assert_output "$(printf 'File: a.txt\n```\nalpha\n```\n\nFile: (standard input)\n```\nbeta\n```\n\nCompare')"
	printf 'x\0y' >bin.dat
	run --separate-stderr llm-loop -u "$MOCK_URL" -f bin.dat "Compare"
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-prompt: bin.dat: not text: a NUL byte at byte 1'
}

@test "-o sets request fields in every request; owned fields are refused" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":5,"b":4}}]}' '{"content":"9"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" -o temperature=0 -o max_completion_tokens=200 \
		-o reasoning_effort=low --option parallel_tool_calls=false "What is 5 + 4?"
	assert_success
	assert_output 9
	run jq -c '.body | [.temperature, .max_completion_tokens, .reasoning_effort, .parallel_tool_calls]' mock.log
	assert_output "$(printf '%s\n' '[0,200,"low",false]' '[0,200,"low",false]')"
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
	run --separate-stderr llm-loop -u "$MOCK_URL" -o stream=true "hi"
	assert_failure 2
	assert_equal "$stderr" 'llm-prompt: -o stream: set by llm-request -S, not by -o'
	run --separate-stderr llm-loop -u "$MOCK_URL" -o "$(printf 'a=1\nb=2')" "hi"
	assert_failure 2
	assert_equal "$stderr" 'llm-loop: -o: one line, please'
}

@test "--schema: a reply that follows the schema is printed" {
	echo '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}' >city.json
	script '{"content":"{\"city\":\"Paris\"}"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" --schema city.json "Where?"
	assert_success
	assert_output '{"city":"Paris"}'
	[ -z "$stderr" ]
	run jq -c '.body.response_format' mock.log
	assert_output '{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}}'
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
}

@test "--schema: a reply that does not follow it is exit 9, not printed" {
	script '{"content":"{\"city\":42}"}' '{"content":"Paris"}' '{"content":"{\"city\":42}"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k -J '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}' "Where?"
	assert_failure 9
	assert_output ''
	[[ $stderr == "tool-extract: the reply does not follow the schema: /city: "*"string"*"
llm-loop: the reply is kept in k" ]]
	run --separate-stderr llm-loop -u "$MOCK_URL" -J '{"type":"object"}' "Where?"
	assert_failure 9
	assert_output ''
	[[ $stderr == *'/: not one JSON value: unexpected "P" at byte 0'* ]]
	# --json prints no conversation either.
	run --separate-stderr llm-loop -u "$MOCK_URL" --json -J '{"type":"object","properties":{"city":{"type":"string"}}}' "Where?"
	assert_failure 9
	assert_output ''
}

@test "--schema is checked before the guards" {
	script '{"content":"[1]"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" --guard 'echo guard ran >&2; exit 0' -J '{"type":"object"}' "q"
	assert_failure 9
	assert_output ''
	[[ $stderr != *"guard ran"* ]]
}

@test "-H goes to every request; an api-key header replaces the OpenAI key" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":5,"b":4}}]}' '{"content":"9"}'
	OPENAI_API_KEY=sk-openai-abcd1234 run --separate-stderr llm-loop -u "$MOCK_URL" \
		-H 'api-key: azure-key-5678' --header 'X-Trace: t1' "What is 5 + 4?"
	assert_success
	assert_output 9
	run jq -c '.headers | [.authorization, ."api-key", ."x-trace"]' mock.log
	assert_output "$(printf '%s\n' '[null,"***5678","t1"]' '[null,"***5678","t1"]')"
}

@test "--continue KEEPDIR puts piped text before the new PROMPT" {
	script '{"content":"first"}' '{"content":"second"}'
	llm-loop -I -u "$MOCK_URL" -k k "one" >/dev/null
	run --separate-stderr llm-loop -u "$MOCK_URL" --continue k "two" < <(printf 'context')
	assert_success
	assert_output second
	run jq -c '[.messages[] | [.role, .content]]' k/002-request.json
	assert_output '[["user","one"],["assistant","first"],["user","context\n\ntwo"]]'
}

@test "a response without choices is exit 3, tool-extract's status" {
	script '{"body":"{\"object\":\"chat.completion\",\"choices\":[]}"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" "hi"
	assert_failure 3
	assert_output ''
	[[ $stderr == "tool-extract: "* ]]
}

@test "no PROMPT with -I, or with stdin on a terminal, is a usage error" {
	run --separate-stderr llm-loop -I
	assert_failure 2
	assert_output ''
	[[ $stderr == *"llm-loop: no PROMPT: give one, or pipe it (or a request) in" ]]
	# On a terminal, nothing waits for input that will not come.
	run command script -qec "timeout 10 llm-loop -u http://127.0.0.1:9/v1" /dev/null
	assert_failure 2
	[[ $output == *"llm-loop: no PROMPT: give one, or pipe it (or a request) in"* ]]
}

@test "--resume takes no -f, -o or -J" {
	for opt in "-f a.txt" "-o temperature=0" "-J {}"; do
		# shellcheck disable=SC2086
		run --separate-stderr llm-loop -R k $opt
		assert_failure 2
		assert_output ''
		assert_equal "$stderr" 'llm-loop: --resume takes no -f, -o or -J: its requests are written already'
	done
}
