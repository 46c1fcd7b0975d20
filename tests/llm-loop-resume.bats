#!/usr/bin/env bats
# llm-loop: state on disk after every step, --resume, interrupts, guards,
# the turn limit and --final, --continue, tool choice.

load helper

# A model that answers the same way whenever asked: two calls of add for
# a question, then a text built from the results.
MODEL='if .messages[-1].role == "user" and (.messages[-1].content | test("add")) then
  {tool_calls: [{id: "call_a", name: "add", arguments: {a: 1, b: 2}},
                {id: "call_b", name: "add", arguments: {a: 3, b: 4}}]}
elif .messages[-1].role == "tool" then
  {content: ("sums: " + ([.messages[] | select(.role == "tool") | .content] | join(" ")))}
else {content: ("you said: " + (.messages[-1].content // ""))} end'

# A tool that takes 30 s (it notes its pid in $TMP/tool.pid) and a model
# that calls it once, then answers "done".
slow_tool_model() {
	printf '#!/bin/sh\necho $$ >"%s/tool.pid"\nsleep 30\necho slow\n' "$TMP" >tools.d/slow
	echo '{"name":"slow","parameters":{"type":"object"}}' >tools.d/slow.json
	chmod +x tools.d/slow
	stop_mock
	start_mock --jq 'if .messages[-1].role == "user" then {tool_calls: [{id: "s", name: "slow", arguments: {}}]} else {content: "done"} end'
}

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR="$TMP/tools.d"
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
	start_mock --jq "$MODEL"
}

@test "resumed from any step boundary, the conversation ends the same" {
	run llm-loop -u "$MOCK_URL" -k ref --json "please add"
	assert_success
	echo "$output" >ref.json
	run jq -r '.messages[-1].content' ref.json
	assert_output 'sums: 3 7'
	# Each state a kill between two steps can leave: the files up to it.
	all="001-request.json 001-response.json 001-calls.json 001-results.json 002-request.json 002-response.json 002-calls.json"
	for cut in 001-request 001-response 001-calls 001-results 002-request 002-response 002-calls; do
		rm -rf "k-$cut" && mkdir "k-$cut"
		cp ref/tools.json "k-$cut/"
		for f in $all; do
			cp "ref/$f" "k-$cut/"
			[ "${f%.json}" = "$cut" ] && break
		done
		run llm-loop -u "$MOCK_URL" --resume "k-$cut" --json
		assert_success
		json_eq "$output" "$(cat ref.json)"
	done
}

@test "resuming runs only the calls that have no result, never one twice" {
	llm-loop -u "$MOCK_URL" -k ref "please add" >/dev/null
	mkdir k
	cp ref/tools.json ref/001-request.json ref/001-response.json ref/001-calls.json k/
	# Killed while call_b ran: it started, only call_a finished.
	grep -e '"started":"call_a"' -e '"tool_call_id":"call_a"' -e '"started":"call_b"' \
		ref/001-results.journal >k/001-results.journal
	run llm-loop -u "$MOCK_URL" --resume k
	assert_success
	run jq -r '.[].content' k/001-results.json
	assert_line --index 0 3
	assert_line --index 1 --partial 'interrupted'
}

@test "a request that got no answer is sent again on --resume" {
	mkdir k
	tool-run --list >k/tools.json
	llm-prompt -w k/tools.json "please add" >k/001-request.json
	run llm-loop -u "$MOCK_URL" --resume k
	assert_success
	assert_output 'sums: 3 7'
}

@test "kill -9 at any moment leaves only whole files" {
	slow_tool_model
	# Power lost while the tool runs: every process of the loop at once.
	setsid llm-loop -u "$MOCK_URL" -k k "go" >/dev/null 2>&1 3>&- &
	pid=$!
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s tool.pid ] && break
		sleep 0.05
	done
	[ -s tool.pid ]
	kill -9 -- "-$pid"
	kill -9 "$(cat tool.pid)"
	wait "$pid" || true
	for f in k/*.json; do
		jq -e . "$f" >/dev/null
	done
	[ ! -e k/001-results.json ]
	run llm-loop -u "$MOCK_URL" --resume k
	assert_success
	assert_output done
	run jq -r '.[0].content' k/001-results.json
	assert_output --partial interrupted
}

@test "SIGINT stops the loop, keeps the state and says how to resume: exit 130" {
	slow_tool_model
	# As from an interactive shell: SIGINT not ignored.
	TMPDIR=$TMP env --default-signal=INT llm-loop -v -u "$MOCK_URL" "go" >out 2>err 3>&- &
	pid=$!
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		grep -q -- '-> slow' err && break
		sleep 0.05
	done
	grep -q -- '-> slow' err
	start=$SECONDS
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 130
	[ $((SECONDS - start)) -lt $((5 * TIME_FACTOR)) ]
	run cat err
	assert_output --partial 'interrupted'
	assert_output --regexp 'continue it with: llm-loop --resume /.*/llm-tools/runs/[0-9]{8}T'
	dir=$(sed -n 's/.*--resume //p' err)
	[ -s "$dir/001-calls.json" ]
	run jq -c '[.result, .tool_calls[0].outcome]' "$dir/summary.json"
	assert_output '[{"how":"interrupted","exit_status":130},"interrupted"]'
	rm -rf "$dir"
}

@test "a guard that passes lets the reply through" {
	run llm-loop -u "$MOCK_URL" --guard 'grep -q sums' --guard 'test -s "$LLM_REPLY_JSON"' "please add"
	assert_success
	assert_output 'sums: 3 7'
}

@test "a guard that fails blocks the reply: refusal, log, exit 7" {
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k --guard 'echo "found a secret" >&2; ! grep -q sums' --refusal "Blocked." "please add"
	assert_failure 7
	assert_output 'Blocked.'
	[[ $stderr == *"blocked by a guard"* ]]
	run cat k/002-blocked-reply.txt
	assert_output 'sums: 3 7'
	run cat k/002-blocked.log
	assert_output --partial 'found a secret'
	[ ! -e k/002-reply.txt ]
}

@test "the shipped guards: a blocklist and JSON when JSON was asked for" {
	echo 'sums: [0-9]' >patterns
	run llm-loop -u "$MOCK_URL" --guard "llm-guard-blocklist $TMP/patterns" "please add"
	assert_failure 7
	run llm-loop -u "$MOCK_URL" --guard "llm-guard-blocklist $TMP/patterns" "hello"
	assert_success
	assert_output 'you said: hello'
	run llm-loop -u "$MOCK_URL" --guard llm-guard-json "hello, answer in JSON"
	assert_failure 7
	run llm-loop -u "$MOCK_URL" --guard llm-guard-json "hello"
	assert_success
}

@test "the turn limit saves the state and exits 6; --final asks once more without tools" {
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k -n 1 "please add"
	assert_failure 6
	[[ $stderr == *"turn limit reached"* && $stderr == *"--resume k"* ]]
	[ -s k/001-calls.json ]
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k2 -n 1 --final "please add"
	assert_success
	assert_output 'sums: 3 7'
	[[ $stderr == *"asking for a final answer"* ]]
	run jq -c '.tool_choice' k2/002-request.json
	assert_output '"none"'
}

@test "--continue KEEPDIR adds a question to a finished conversation" {
	llm-loop -u "$MOCK_URL" -k k "please add" >/dev/null
	run llm-loop -u "$MOCK_URL" --continue k "thanks"
	assert_success
	assert_output 'you said: thanks'
	run jq -c '[.messages[].role]' k/003-request.json
	assert_output '["user","assistant","tool","tool","assistant","user"]'
}

@test "-c - continues a conversation given on stdin" {
	llm-loop -u "$MOCK_URL" --json "please add" >conv.json
	run llm-loop -u "$MOCK_URL" -c - "and now?" <conv.json
	assert_success
	assert_output 'you said: and now?'
}

@test "--tool-choice is passed on, for the first turn only when it forces a call" {
	run llm-loop -u "$MOCK_URL" -k k --tool-choice add "please add"
	assert_success
	run jq -c '.tool_choice' k/001-request.json k/002-request.json
	assert_output "$(printf '%s\n' '{"type":"function","function":{"name":"add"}}' '"auto"')"
	run llm-loop -u "$MOCK_URL" -k k2 --no-tools "please add"
	run jq -c 'has("tools")' k2/001-request.json
	assert_output false
}

@test "-v shows each call and result on stderr; -q shows nothing" {
	run --separate-stderr llm-loop -u "$MOCK_URL" -v "please add"
	assert_success
	[[ $stderr == *'-> add {"a":1,"b":2}'* && $stderr == *'<- add 3'* ]]
	run --separate-stderr llm-loop -u "$MOCK_URL" -q -v "please add"
	[ -z "$stderr" ]
}

@test "options pass through to tool-run: --deny, --allow, -e, --sandbox" {
	printf '#!/bin/sh\necho "${MY_VAR:-unset}"\n' >tools.d/show
	echo '{"name":"show","parameters":{"type":"object"}}' >tools.d/show.json
	chmod +x tools.d/show
	stop_mock
	start_mock --jq 'if .messages[-1].role == "user" then {tool_calls: [{id: "x", name: "show", arguments: {}}]} else {content: .messages[-1].content} end'
	MY_VAR=passed run llm-loop -u "$MOCK_URL" -e MY_VAR "go"
	assert_output passed
	MY_VAR=passed run llm-loop -u "$MOCK_URL" "go"
	assert_output unset
	run llm-loop -u "$MOCK_URL" --deny show "go"
	assert_output --partial 'declined by the user'
	run llm-loop -u "$MOCK_URL" --sandbox "env MY_VAR=wrapped" "go"
	assert_output wrapped
}

@test "-b and -L pass through to tool-run, and --resume keeps them" {
	# A CPU limit: valgrind, running tool-run, keeps the descriptor limit
	# of its guests to itself.
	printf '#!/bin/sh\necho "$(ulimit -t) abcdefghijklmnopqrstuvwxyz"\n' >tools.d/show
	echo '{"name":"show","parameters":{"type":"object"}}' >tools.d/show.json
	chmod +x tools.d/show
	stop_mock
	start_mock --jq '[.messages[] | select(.role == "tool") | .content] as $r
		| if ($r | length) < 2 then {tool_calls: [{id: "x\($n)", name: "show", arguments: {}}]}
		else {content: ($r | join(" | "))} end'
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k -n 1 -b 12 -L cpu=7 "go"
	assert_failure 6
	run jq -c '[.max_output, .limits]' k/settings.json
	assert_output '["12",["cpu=7"]]'
	run --separate-stderr llm-loop -u "$MOCK_URL" --resume k -n 3
	assert_success
	assert_output '7 abcdefghij
[output truncated at 12 bytes] | 7 abcdefghij
[output truncated at 12 bytes]'
	run --separate-stderr llm-loop -u "$MOCK_URL" -L 'nofile=1 6' "go"
	assert_failure 2
	assert_equal "$stderr" 'llm-loop: -L: not NAME=VALUE: nofile=1 6'
}

@test "a forced tool choice gives way to auto after --resume too" {
	run llm-loop -u "$MOCK_URL" -k k -n 1 --tool-choice add "please add"
	assert_failure 6
	run llm-loop -u "$MOCK_URL" --resume k
	assert_success
	assert_output 'sums: 3 7'
	run jq -c '.tool_choice' k/002-request.json
	assert_output '"auto"'
}

@test "the shipped guards fail closed: a bad pattern blocks, a fenced JSON reply passes" {
	echo '([' >bad-patterns
	run --separate-stderr llm-guard-blocklist bad-patterns <<<'anything'
	assert_failure 2
	[[ $stderr == *"bad pattern"* ]]
	echo '{"messages":[{"role":"user","content":"answer in JSON"}]}' >req.json
	LLM_REQUEST_JSON=req.json run llm-guard-json <<<$'```json\n{"a": 1}\n```'
	assert_success
	LLM_REQUEST_JSON=req.json run llm-guard-json <<<'{"a": 1} trailing words'
	assert_failure 1
	LLM_REQUEST_JSON=missing.json run llm-guard-json <<<'not json'
	assert_failure 1
}

# wait_for FILE: wait until FILE is not empty (a bounded while).
wait_for() {
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "nohup llm-loop: a hangup while the model thinks does not stop the loop" {
	stop_mock
	start_mock --jq '{content: "still here", delay_ms: 1500}'
	setsid nohup llm-loop -N -u "$MOCK_URL" "hi" >out 2>err 3>&- &
	pid=$!
	wait_for mock.log
	kill -HUP -- "-$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 0
	run cat out
	assert_output 'still here'
}

# guard_test SIGNAL: the loop gets SIGNAL (to the loop alone for TERM, to
# its whole process group, as a Ctrl-C does, for INT) while a guard runs.
guard_signal_test() {
	setsid env --default-signal=INT llm-loop -u "$MOCK_URL" -k k \
		--guard 'echo $$ >guard.pid; exec sleep 5' "please add" >out 2>err 3>&- &
	pid=$!
	wait_for guard.pid
	case $1 in
	INT) kill -INT -- "-$pid" ;;
	*) kill "-$1" "$pid" ;;
	esac
	status=0
	wait "$pid" || status=$?
	! kill -0 "$(cat guard.pid)" 2>/dev/null
}

@test "SIGTERM while a guard runs stops the loop: exit 143, no reply, nothing blocked" {
	start=$SECONDS
	guard_signal_test TERM
	assert_equal "$status" 143
	[ $((SECONDS - start)) -lt $((4 * TIME_FACTOR)) ]
	[ ! -s out ]
	run cat err
	assert_output --partial 'interrupted'
	[ ! -e k/002-blocked.log ] && [ ! -e k/002-blocked-reply.txt ]
	# The reply is checked again on --resume.
	run llm-loop -u "$MOCK_URL" --guard true --resume k
	assert_success
	assert_output 'sums: 3 7'
}

@test "Ctrl-C while a guard runs stops the loop: exit 130, not a block" {
	guard_signal_test INT
	assert_equal "$status" 130
	[ ! -s out ]
	run cat err
	refute_output --partial 'blocked'
	assert_output --partial 'interrupted'
	[ ! -e k/002-blocked.log ] && [ ! -e k/002-blocked-reply.txt ]
}

@test "llm-loop | head -c1 ends quietly: no message, no directory left" {
	stop_mock
	# A reply far larger than a pipe holds.
	start_mock --jq '{content: ([range(20000)] | map("word") | join(" "))}'
	mkdir tmp
	run --separate-stderr sh -c 'TMPDIR=$1/tmp llm-loop -N -u "$2" hi | head -c1' sh "$TMP" "$MOCK_URL"
	assert_success
	assert_output w
	assert_equal "$stderr" ''
	run ls -A tmp
	assert_output ''
	run --separate-stderr sh -c 'TMPDIR=$1/tmp llm-loop -N --guard true -u "$2" hi | head -c1' sh "$TMP" "$MOCK_URL"
	assert_output w
	assert_equal "$stderr" ''
	run ls -A tmp
	assert_output ''
}

@test "one run at a time in a keep directory: a second one exits 5 at once" {
	slow_tool_model
	llm-loop -u "$MOCK_URL" -k k "go" >out 2>err 3>&- &
	pid=$!
	wait_for tool.pid
	start=$SECONDS
	run --separate-stderr llm-loop -u "$MOCK_URL" --resume k
	assert_failure 5
	[[ $stderr == *"k: in use by another llm-loop"* ]]
	run --separate-stderr llm-loop -u "$MOCK_URL" -k k "again"
	assert_failure 5
	[[ $stderr == *"k: in use by another llm-loop"* ]]
	run --separate-stderr llm-loop -u "$MOCK_URL" --continue k "more"
	assert_failure 5
	[ $((SECONDS - start)) -lt $((3 * TIME_FACTOR)) ]
	[ "$(grep -c . mock.log)" -eq 1 ]
	kill "$pid"
	wait "$pid" || true
	kill "$(cat tool.pid)" 2>/dev/null || true
	# Once the first run is gone, the directory is free again.
	run llm-loop -u "$MOCK_URL" --resume k
	assert_success
	assert_output done
}
