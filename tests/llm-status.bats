#!/usr/bin/env bats
# The status line of llm-loop on a terminal (llm-status): what it waits
# for and for how long, redrawn in place and erased; never off a
# terminal, never with -q.

load helper
load net

local_setup() {
	mkdir mytools
	printf '#!/bin/sh\nsleep 0.8\necho rested\n' >mytools/nap
	echo '{"name":"nap","parameters":{"type":"object"}}' >mytools/nap.json
	chmod +x mytools/nap
	# A model that thinks for 0.8 s, calls nap twice, then answers.
	start_mock --jq 'if .messages[-1].role == "user"
		then {delay_ms: 800, tool_calls: [{id: "a", name: "nap", arguments: {}},
			{id: "b", name: "nap", arguments: {}}, {id: "c", name: "bad\u001b]0;x", arguments: {}}]}
		else {content: "done"} end'
}

# on_pty CMD: run CMD (sh -c) on a terminal; $output is what it got.
on_pty() {
	run script -qec "$1" /dev/null </dev/null
}

@test "on a terminal: what the loop waits for and for how long, then erased" {
	on_pty "llm-loop -d mytools -u $MOCK_URL go"
	assert_success
	assert_output --regexp $'\rmodel call 1 of at most 10 \xc2\xb7 [0-9]+\\.[0-9] s'
	assert_output --partial $'\r3 tools running: nap, nap, bad\\e]0;x \xc2\xb7 '
	# Erased each time, before the answer.
	assert_output --regexp $'s\e\\[K\r\e\\[Kdone'
	[[ $output != *$'\e]0;x'* ]]
}

@test "never with -q, -v, or when stderr is not a terminal" {
	on_pty "llm-loop -q -d mytools -u $MOCK_URL go"
	assert_success
	assert_output $'done\r'
	on_pty "llm-loop -v -d mytools -u $MOCK_URL go"
	refute_output --partial 'running'
	refute_output --partial 'model call'
	on_pty "llm-loop -d mytools -u $MOCK_URL go 2>err"
	assert_output $'done\r'
	run cat err
	assert_output ''
}

@test "llm-status: nothing off a terminal; usage errors exit 2" {
	run --separate-stderr llm-status "waiting"
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	run --separate-stderr llm-status
	assert_failure 2
	assert_equal "$stderr" 'usage: llm-status [--calls CALLS] [TEXT]
       llm-status --settings [-O FILE] [NAME=VALUE ...]
       llm-status --summary [-O FILE] DIR HOW STATUS STARTED [MODEL]'
	run --separate-stderr llm-status --calls calls.json text
	assert_failure 2
	run --separate-stderr llm-status -O out waiting
	assert_failure 2
	[ ! -e out ]
}

@test "llm-status -O: the document whole in FILE, or FILE left as it was" {
	umask 077
	run --separate-stderr llm-status --settings -O settings.json max_turns=3 model=m
	assert_success
	assert_output ''
	assert_equal "$(jq -c '[.max_turns, .model]' settings.json)" '[3,"m"]'
	assert_equal "$(stat -c %a settings.json)" 600
	cp settings.json before.json
	run --separate-stderr llm-status --settings -O settings.json max_turns=x
	assert_failure 2
	cmp settings.json before.json
	run --separate-stderr llm-status --settings -O settings.json colour=red max_turns=1
	assert_failure 2
	cmp settings.json before.json
	# No temporary file is left behind.
	[ "$(ls -d settings.json*)" = settings.json ]
	run --separate-stderr llm-status --settings -O nodir/settings.json max_turns=1
	assert_failure 3
	[[ $stderr == "llm-status: nodir/settings.json: No such file or directory" ]]
}

@test "llm-status ends with the process that started it" {
	# Its parent, a shell on a terminal, goes away: the line is erased.
	t=$(awk "BEGIN { print 0.6 * $TIME_FACTOR }")
	on_pty "sh -c 'llm-status waiting & sleep $t' ; sleep $t"
	assert_success
	assert_output --regexp $'\rwaiting \xc2\xb7 [0-9]+\\.[0-9] s'
	[[ $output == *$'\r\e[K' ]]
}

@test "-S: the line while the model thinks, erased before the streamed text" {
	stop_mock
	start_mock --jq '{delay_ms: 800, content: "Hello there"}'
	for way in direct held; do
		[ "$way" = held ] && start_holder
		on_pty "llm-loop -S -d mytools -u $MOCK_URL go"
		assert_success
		assert_output --regexp $'^\rmodel call 1 of at most 10 \xc2\xb7 [0-9]+\\.[0-9] s\e\\[K'
		# Erased, and only then the text.
		assert_output --regexp $'s\e\\[K\r\e\\[KHello there\r?$'
		[[ ${output#*Hello there} != *'model call'* ]]
	done
	# Never with -q, and nothing but text in a file or a pipe.
	on_pty "llm-loop -q -S -d mytools -u $MOCK_URL go"
	assert_output $'Hello there\r'
	on_pty "llm-loop -S -d mytools -u $MOCK_URL go 2>err | cat"
	assert_output $'Hello there\r'
	run cat err
	assert_output 'Hello there'
}

@test "llm-request --status: on a terminal, made safe, erased before the text" {
	stop_mock
	start_mock --jq '{delay_ms: 600, content: "Hi"}'
	echo '{"messages":[{"role":"user","content":"x"}]}' >req.json
	on_pty "llm-request -u $MOCK_URL -S --status '"$'waiting \e]0;x'"' req.json >out"
	assert_success
	assert_output --regexp $'^\rwaiting \\\\e]0;x \xc2\xb7 [0-9.]+ s\e\\[K'
	[[ $output == *$'s\e[K\r\e[KHi\r' ]]
	[[ $output != *$'\e]0;x'* ]]
	# stderr not a terminal: the text only.
	on_pty "llm-request -u $MOCK_URL -S --show --status waiting req.json 2>err >out"
	assert_success
	assert_output ''
	run cat err
	assert_output 'Hi'
	run jq -r '.choices[0].message.content' out
	assert_output Hi
}
