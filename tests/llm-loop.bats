#!/usr/bin/env bats
# llm-loop: the whole loop against llm-mock, with the tools of $TMP/tools.d.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR="$TMP/tools.d"
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
	printf '#!/bin/sh\necho "disk on fire" >&2\nexit 1\n' >tools.d/broken
	echo '{"name":"broken","parameters":{"type":"object","properties":{}}}' >tools.d/broken.json
	chmod +x tools.d/broken
}

script() { # script REPLY... : a mock script of these replies
	local IFS=,
	printf '[%s]' "$*" >script.json
	start_mock --script script.json
}

@test "two turns: a tool call, its result, then the answer" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":5,"b":4}}]}' '{"content":"5 + 4 = 9."}'
	run --separate-stderr llm-loop -u "$MOCK_URL" "What is 5 + 4?"
	assert_success
	assert_output '5 + 4 = 9.'
	[ -z "$stderr" ]
	# The second request carried the call and its result.
	run jq -c 'select(.n == 2) | .body.messages[-2:] | [.[0].tool_calls[0].function.name, .[1].content]' mock.log
	assert_output '["add","9"]'
}

@test "the first request has the prompt, the system message and the tools" {
	script '{"content":"hi"}'
	run llm-loop -u "$MOCK_URL" -m test-model -s "Be brief." "Hello"
	assert_success
	run jq -c '.body | [.model, .messages, ([.tools[].function.name] | sort)]' mock.log
	json_eq "$output" '["test-model",[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],["add","broken"]]'
}

@test "every request the loop sends validates against OpenAI's schema" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}},{"name":"broken","arguments":{}}]}' \
		'{"tool_calls":[{"name":"add","arguments":{"a":3,"b":3}}]}' '{"content":"done"}'
	run llm-loop -u "$MOCK_URL" -s sys "go"
	assert_success
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
	[ "$(wc -l <mock.log)" -eq 3 ]
}

@test "-k keeps every document of every turn" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}' '{"content":"3"}'
	run llm-loop -u "$MOCK_URL" -k keep "1+2?"
	assert_success
	run ls keep
	assert_output "$(printf '%s\n' 001-calls.json 001-request.json 001-response.json 001-results.journal 001-results.json 002-calls.json 002-request.json 002-response.json settings.json summary.json tools.json)"
	run jq -c '[.[].content]' keep/001-results.json
	assert_output '["3"]'
	run jq -c '.' keep/002-calls.json
	assert_output '[]'
}

@test "a replayed turn: NNN files piped by hand give the same next request" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":2,"b":2}}]}' '{"content":"4"}'
	llm-loop -u "$MOCK_URL" -k keep "2+2?" >/dev/null
	tool-run keep/001-calls.json >results.json
	tool-append keep/001-request.json keep/001-response.json <results.json >next.json
	json_eq "$(cat next.json)" "$(cat keep/002-request.json)"
}

@test "--json prints the whole final conversation" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":1}}]}' '{"content":"2"}'
	run llm-loop -u "$MOCK_URL" --json "1+1?"
	assert_success
	run jq -c '[.messages[] | .role]' <<<"$output"
	assert_output '["user","assistant","tool","assistant"]'
}

@test "a failing tool goes back to the model; the loop goes on" {
	script '{"tool_calls":[{"name":"broken","arguments":{}}]}' '{"content":"The disk tool failed."}'
	run llm-loop -u "$MOCK_URL" "check the disk"
	assert_success
	assert_output 'The disk tool failed.'
	run jq -r 'select(.n == 2) | .body.messages[-1].content | fromjson | .error' mock.log
	assert_output 'tool broken failed with exit status 1: disk on fire'
}

@test "an unknown tool goes back to the model as an error result" {
	script '{"tool_calls":[{"name":"rm_rf","arguments":{}}]}' '{"content":"ok"}'
	run llm-loop -u "$MOCK_URL" "x"
	assert_success
	run jq -r 'select(.n == 2) | .body.messages[-1].content | fromjson | .error' mock.log
	assert_output 'unknown tool "rm_rf"; available tools: add, broken'
}

@test "the turn limit: exit 6 with a message" {
	call='{"tool_calls":[{"name":"add","arguments":{"a":1,"b":1}}]}'
	script "$call" "$call" "$call"
	run --separate-stderr llm-loop -u "$MOCK_URL" -n 2 "loop forever"
	assert_failure 6
	assert_output ''
	[[ $stderr == *"turn limit reached: 2 model calls"* ]]
	[ "$(wc -l <mock.log)" -eq 2 ]
}

@test "an API refusal keeps its exit code 4" {
	script '{"status":401,"error":{"message":"Incorrect API key provided"}}'
	run --separate-stderr llm-loop -u "$MOCK_URL" "hi"
	assert_failure 4
	[[ $stderr == *"HTTP 401: Incorrect API key provided"* ]]
}

@test "a broken response is exit 5" {
	script '{"body":"not json"}'
	run llm-loop -u "$MOCK_URL" "hi"
	assert_failure 5
}

@test "with -I, stdin is never read" {
	script '{"content":"answered"}'
	mkfifo never-ends
	# Read-write open: stdin that would block forever if read.
	run timeout 10 llm-loop -I -u "$MOCK_URL" "hi" <>never-ends
	assert_success
	assert_output answered
}

@test "without a PROMPT, the request comes from stdin" {
	script '{"content":"from stdin"}'
	echo '{"model":"m","messages":[{"role":"user","content":"q"}],"temperature":0}' >req.json
	run llm-loop -u "$MOCK_URL" <req.json
	assert_success
	assert_output 'from stdin'
	run jq -c '.body | [.temperature, (.tools | length)]' mock.log
	assert_output '[0,2]'
}

@test "a KEEPDIR that holds a conversation is not overwritten" {
	mkdir keep
	echo '{}' >keep/001-request.json
	run --separate-stderr llm-loop -k keep "hi"
	assert_failure 2
	[[ $stderr == *"already holds a conversation"* ]]
	[ "$(cat keep/001-request.json)" = '{}' ]
}

@test "usage errors exit 2" {
	run llm-loop -n 0 hi
	assert_failure 2
	run llm-loop -n x hi
	assert_failure 2
	run llm-loop --bogus
	assert_failure 2
	run llm-loop a b
	assert_failure 2
	run llm-loop -m
	assert_failure 2
	run llm-loop --version
	assert_output 'llm-loop 0.1.0'
}

@test "without -k nothing is left in TMPDIR" {
	script '{"content":"x"}'
	mkdir tmp
	TMPDIR=$TMP/tmp run llm-loop -u "$MOCK_URL" "hi"
	assert_success
	run ls -A tmp
	assert_output ''
}

@test "--opt=value and -oVALUE forms work" {
	call='{"tool_calls":[{"name":"add","arguments":{"a":1,"b":1}}]}'
	script "$call" "$call" "$call" "$call"
	run llm-loop -u "$MOCK_URL" --max-turns=1 "x"
	assert_failure 6
	run llm-loop --base-url="$MOCK_URL" -n2 "x"
	assert_failure 6
	[ "$(wc -l <mock.log)" -eq 3 ]
}

@test "LLM_MODEL names the model of a new request, not of one on stdin" {
	script '{"content":"a"}' '{"content":"b"}'
	LLM_MODEL=env-model run llm-loop -u "$MOCK_URL" "x"
	assert_success
	echo '{"model":"own","messages":[{"role":"user","content":"q"}]}' >req.json
	LLM_MODEL=env-model run llm-loop -u "$MOCK_URL" <req.json
	assert_success
	run jq -r '.body.model' mock.log
	assert_output "$(printf 'env-model\nown')"
}

@test "a prompt that starts with a dash is a prompt, not an option" {
	script '{"content":"ok"}'
	run llm-loop -u "$MOCK_URL" -- "-5 + 3?"
	assert_success
	run jq -r '.body.messages[-1].content' mock.log
	assert_output '-5 + 3?'
}

@test "a keep directory with a space in its name works" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}' '{"content":"3"}'
	run llm-loop -u "$MOCK_URL" -k "my keep" "1+2?"
	assert_success
	assert_output 3
	[ -s "my keep/002-response.json" ]
}

@test "the filters' -O writes a file whole or leaves it be" {
	echo '{"choices":[{"message":{"content":"hi"}}]}' >r.json
	echo old >out.json
	run tool-extract -O out.json missing.json
	assert_failure 3
	[ "$(cat out.json)" = old ]
	run ls
	refute_output --partial 'out.json.'
	run tool-extract -O out.json r.json
	assert_failure 1
	[ "$(cat out.json)" = '[]' ]
	llm-prompt -O req.json "hi"
	tool-append -O req.json req.json r.json </dev/null
	run jq -c '[.messages[].content]' req.json
	assert_output '["hi","hi"]'
}

@test "an answer without text says so on stderr" {
	script '{"content":""}'
	run --separate-stderr llm-loop -u "$MOCK_URL" "say nothing"
	assert_success
	[[ $stderr == *"the model gave no text"* ]]
}

@test "no file is written through a link planted in the keep directory" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}' '{"content":"3"}' \
		'{"content":"again"}'
	echo precious >victim
	mkdir -m 700 k
	ln -s ../victim k/002-guard.err
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k --guard 'echo checked >&2' "1+2?"
	assert_success
	assert_output 3
	[ "$(cat victim)" = precious ]
	# A blocked reply's log and copy do not follow links either.
	mkdir -m 700 b
	ln -s ../victim b/001-blocked.log
	ln -s ../victim b/001-blocked-reply.txt
	run --separate-stderr llm-loop -u "$MOCK_URL" -k b --guard false "hi"
	assert_failure 7
	[ "$(cat victim)" = precious ]
	[ ! -L b/001-blocked.log ] && [ ! -L b/001-blocked-reply.txt ]
	assert_equal "$(cat b/001-blocked-reply.txt)" again
}

@test "a keep directory writable by others, or not the user's, is refused" {
	script '{"content":"x"}'
	mkdir k
	chmod 777 k
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k "hi"
	assert_failure 3
	[[ $stderr == *"k: writable by group or others"*"chmod go-w"* ]]
	chmod 770 k
	run --separate-stderr llm-loop -u "$MOCK_URL" --resume k
	assert_failure 3
	[[ $stderr == *"writable by group or others"* ]]
	[ ! -s mock.log ]
	if [ "$(id -u)" -eq 0 ]; then
		mkdir other
		chown nobody other
		chmod 700 other
		run --separate-stderr llm-loop -u "$MOCK_URL" -k other "hi"
		assert_failure 3
		[[ $stderr == *"other: owned by another user"* ]]
	fi
}

@test "the conversation is private: directory 0700, files 0600" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}' '{"content":"3"}'
	umask 022
	run llm-loop -u "$MOCK_URL" -k k "1+2?"
	assert_success
	assert_equal "$(stat -c %a k)" 700
	run stat -c '%a %n' k/*
	refute_output --regexp '^6[0-7][1-7] |^6[1-7][0-7] '
	assert_output --partial '600 k/001-results.json'
	assert_output --partial '600 k/001-results.journal'
}

@test "tools run with the user's umask; what the loop writes stays 0600" {
	printf '#!/bin/sh\numask\n' >tools.d/mask
	echo '{"name":"mask","parameters":{"type":"object","properties":{}}}' >tools.d/mask.json
	chmod 755 tools.d/mask
	script '{"tool_calls":[{"name":"mask","arguments":{}}]}' '{"content":"done"}'
	umask 027
	run llm-loop -u "$MOCK_URL" -k k "What is your umask?"
	assert_success
	assert_equal "$(jq -r '.[0].content' k/001-results.json)" 0027
	assert_equal "$(stat -c %a k/001-results.json k/001-results.journal)" "$(printf '600\n600')"
}

@test "a keep directory whose name starts with a dash works" {
	script '{"tool_calls":[{"name":"add","arguments":{"a":1,"b":2}}]}' '{"content":"3"}' '{"content":"more"}'
	run --separate-stderr llm-loop -u "$MOCK_URL" -k -keep "1+2?"
	assert_success
	assert_output 3
	[ -s -keep/002-response.json ]
	run --separate-stderr llm-loop -u "$MOCK_URL" --continue -keep "and?"
	assert_success
	assert_output more
	run --separate-stderr llm-loop -u "$MOCK_URL" --resume -keep
	assert_success
	assert_output more
}

@test "a turn with megabytes of tool-call arguments costs what its filters cost" {
	printf '#!/bin/sh\nwc -c\n' >tools.d/size
	echo '{"name":"size","parameters":{"type":"object","properties":{"text":{"type":"string"}}}}' >tools.d/size.json
	chmod +x tools.d/size
	head -c 4000000 /dev/zero | tr '\0' x >big.txt
	jq -cn --rawfile s big.txt '[{tool_calls: [{name: "size", arguments: {text: $s}}]}, {content: "done"}]' >script.json
	start_mock --script script.json
	t0=$EPOCHREALTIME
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k "How long?"
	t1=$EPOCHREALTIME
	assert_success
	assert_output done
	[ -z "$stderr" ]
	[ "$(jq -r '.[0].content' k/001-results.json)" -eq 4000011 ]
	# The same filters on the same files, without the loop around them.
	t2=$EPOCHREALTIME
	tool-extract k/001-response.json >calls.json
	tool-run calls.json >results.json
	tool-append k/001-request.json k/001-response.json <results.json >/dev/null
	tool-extract k/002-response.json >/dev/null || true
	t3=$EPOCHREALTIME
	loop_ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
	bare_ms=$(( (${t3/./} - ${t2/./}) / 1000 ))
	echo "loop $loop_ms ms, its filters alone $bare_ms ms" >&3
	# Two model calls of 4 MB each way on top: generous, but not a
	# second of reading the calls a byte at a time.
	[ "$loop_ms" -lt $(( 3 * bare_ms + 700 * TIME_FACTOR )) ]
}
