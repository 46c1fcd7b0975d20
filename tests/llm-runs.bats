#!/usr/bin/env bats
# llm-loop's runs: settings.json, the runs directory, -c last,
# summary.json, --usage, exit 8; and llm-runs (list, prune).

load helper

local_setup() {
	mkdir mytools
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" mytools/
	export LLM_RUNS_DIR=$TMP/runs
}

script() { # script REPLY... : a mock script of these replies
	local IFS=,
	printf '[%s]' "$*" >script.json
	start_mock --script script.json
}

ADD='{"tool_calls":[{"id":"c1","name":"add","arguments":{"a":5,"b":4}}]}'

@test "settings.json records the run's settings, and no secret" {
	script '{"content":"hi"}'
	OPENAI_API_KEY=sk-secret run --separate-stderr llm-loop -d mytools -k k -m m1 -u "$MOCK_URL" \
		-n 3 -t 9 -r 1 -T 4 -P 2 -b 4096 -L as=1G -Lcpu=5 -e HOME -a add -x rm -g true -X no "Hello"
	assert_success
	run stat -c %a k/settings.json
	assert_output 600
	run jq -cS . k/settings.json
	json_eq "$output" "{\"version\":1,\"dir\":\"$TMP/mytools\",\"model\":\"m1\",\"base_url\":\"$MOCK_URL\",
		\"max_turns\":3,\"final\":false,\"timeout\":\"9\",\"retries\":\"1\",\"tool_timeout\":\"4\",
		\"jobs\":\"2\",\"max_output\":\"4096\",\"limits\":[\"as=1G\",\"cpu=5\"],\"env\":[\"HOME\"],\"sandbox\":null,\"confirm\":false,\"allow\":\"add\",
		\"deny\":\"rm\",\"guards\":[\"true\"],\"refusal\":\"no\",\"no_tools\":false,\"text_calls\":false}"
	run grep -r sk-secret k
	assert_failure
}

@test "the hint after the turn limit continues with the recorded tools directory" {
	script "$ADD" "$ADD" '{"content":"5 + 4 = 9."}'
	run --separate-stderr llm-loop -d mytools -k rr -n 1 -u "$MOCK_URL" "What is 5 + 4?"
	assert_failure 6
	assert_equal "$(printf '%s\n' "$stderr" | tail -n1)" \
		"llm-loop: the conversation so far is in rr; continue it with: llm-loop --resume rr"
	# From elsewhere, without -d or -u: the recorded ones are used.
	mkdir elsewhere && cd elsewhere
	run --separate-stderr llm-loop --resume ../rr -n 3
	assert_success
	assert_output '5 + 4 = 9.'
	run jq -r '.[0].content' ../rr/002-results.json
	assert_output 9
	# The override is recorded.
	run jq .max_turns ../rr/settings.json
	assert_output 3
}

@test "--continue uses the recorded model; -m on the command line overrides it" {
	script '{"content":"a"}' '{"content":"b"}' '{"content":"c"}'
	llm-loop -N -k k -m first -u "$MOCK_URL" "one" >/dev/null
	run llm-loop -c k "two"
	assert_success
	assert_output b
	run llm-loop -c k -m second "three"
	assert_success
	run jq -r '.body.model' mock.log
	assert_output "$(printf 'first\nfirst\nsecond')"
	run jq -r .model k/settings.json
	assert_output second
}

@test "a run without -k is kept in the runs directory, private, time first" {
	script '{"content":"hi"}'
	mkdir tmp
	TMPDIR=$TMP/tmp run --separate-stderr llm-loop -N -u "$MOCK_URL" "Hello"
	assert_success
	assert_output hi
	run ls -A tmp
	assert_output ''
	run stat -c %a runs
	assert_output 700
	run ls runs
	assert_output --regexp '^[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9]{6}$'
	d=runs/$output
	[ -s "$d/001-response.json" ] && [ -s "$d/summary.json" ] && [ -s "$d/settings.json" ]
}

@test "the runs directory follows XDG_STATE_HOME" {
	script '{"content":"hi"}'
	unset LLM_RUNS_DIR
	XDG_STATE_HOME=$TMP/state run llm-loop -N -u "$MOCK_URL" "Hello"
	assert_success
	run ls state/llm-tools/runs
	assert_output --regexp '^[0-9]{8}T'
}

@test "a runs directory writable by others is refused: exit 3" {
	script '{"content":"hi"}'
	mkdir -m 777 runs
	run --separate-stderr llm-loop -N -u "$MOCK_URL" "Hello"
	assert_failure 3
	assert_equal "$stderr" "llm-loop: $TMP/runs: writable by group or others; refused (chmod go-w $TMP/runs)"
}

@test "--no-store and LLM_NO_STORE keep nothing" {
	script '{"content":"a"}' '{"content":"b"}'
	mkdir tmp
	TMPDIR=$TMP/tmp run llm-loop -N --no-store -u "$MOCK_URL" "one"
	assert_success
	assert_output a
	TMPDIR=$TMP/tmp LLM_NO_STORE=1 run llm-loop -N -u "$MOCK_URL" "two"
	assert_success
	assert_output b
	[ ! -e runs ]
	run ls -A tmp
	assert_output ''
}

@test "-c last continues the most recent run with its settings; ./last is a directory" {
	script "$ADD" '{"content":"9"}' "$ADD" '{"content":"10"}' '{"content":"x"}'
	run llm-loop -d mytools -u "$MOCK_URL" "What is 5 + 4?"
	assert_output 9
	sleep 1
	run llm-loop -c last "And 9 + 1?"
	assert_success
	assert_output 10
	run ls runs
	assert_equal "${#lines[@]}" 1
	# The tools came from the recorded directory.
	run jq -s -r '.[3].body.messages[-1].content' mock.log
	assert_output 9
	mkdir -m 700 last
	run --separate-stderr llm-loop -c ./last "hi"
	assert_failure 3
	assert_equal "$stderr" "llm-loop: ./last holds no conversation"
}

@test "-c last with no run yet: exit 3" {
	run --separate-stderr llm-loop -c last "hi"
	assert_failure 3
	assert_equal "$stderr" "llm-loop: $TMP/runs: no finished run to continue"
}

@test "summary.json: model, times, each turn's usage, totals, tool calls, the end" {
	printf '#!/bin/sh\nexit 3\n' >mytools/broken
	echo '{"name":"broken","parameters":{"type":"object"}}' >mytools/broken.json
	chmod +x mytools/broken
	script '{"tool_calls":[{"id":"c1","name":"add","arguments":{"a":5,"b":4}},{"id":"c2","name":"broken","arguments":{}},{"id":"c3","name":"nope","arguments":{}},{"id":"c4","name":"add","arguments":{"a":"x"}}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}' \
		'{"content":"done","usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}'
	run llm-loop -d mytools -k k -m m1 -u "$MOCK_URL" "go"
	assert_success
	run stat -c %a k/summary.json
	assert_output 600
	run jq -cS '{model, turns: [.turns[] | {turn, usage, finish_reason}], usage, result,
		calls: [.tool_calls[] | {turn, id, name, outcome}]}' k/summary.json
	json_eq "$output" '{"model":"m1",
		"turns":[{"turn":1,"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15},"finish_reason":"tool_calls"},
		         {"turn":2,"usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22},"finish_reason":"stop"}],
		"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37},
		"result":{"how":"answer","exit_status":0},
		"calls":[{"turn":1,"id":"c1","name":"add","outcome":"ran"},
		         {"turn":1,"id":"c2","name":"broken","outcome":"failed"},
		         {"turn":1,"id":"c3","name":"nope","outcome":"refused"},
		         {"turn":1,"id":"c4","name":"add","outcome":"refused"}]}'
	run jq -r '.tool_calls[] | .reason // "-"' k/summary.json
	assert_line --index 0 -
	assert_line --index 1 --partial 'exit status 3'
	assert_line --index 2 --partial 'nope'
	run jq -r '[.started, .ended] | map(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) | all' k/summary.json
	assert_output true
	run jq -r '.tool_calls[0].duration | type' k/summary.json
	assert_output number
}

@test "summary.json says how a run ended: turn limit, guard, error" {
	script "$ADD" '{"content":"secret"}' '{"status":400}'
	run llm-loop -d mytools -k a -n 1 -u "$MOCK_URL" "go"
	assert_failure 6
	run jq -c .result a/summary.json
	json_eq "$output" '{"how":"turn_limit","exit_status":6}'
	run llm-loop -N -k b -g false -u "$MOCK_URL" "go"
	assert_failure 7
	run jq -c .result b/summary.json
	json_eq "$output" '{"how":"guard","exit_status":7}'
	run llm-loop -N -k c -r 0 -u "$MOCK_URL" "go"
	assert_failure 4
	run jq -c .result c/summary.json
	json_eq "$output" '{"how":"error","exit_status":4}'
}

@test "--usage prints the totals on stderr" {
	script "$ADD" '{"content":"9","usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}'
	run --separate-stderr llm-loop -d mytools --usage -u "$MOCK_URL" "go"
	assert_success
	assert_output 9
	p=$(jq -s '[.[] | .usage.prompt_tokens] | add' runs/*/00[12]-response.json)
	c=$(jq -s '[.[] | .usage.completion_tokens] | add' runs/*/00[12]-response.json)
	assert_equal "$stderr" "llm-loop: usage: 2 model calls, $p prompt + $c completion = $((p + c)) tokens"
}

@test "a reply cut short by the token limit prints its text and exits 8" {
	script '{"content":"The answer is","finish_reason":"length"}' '{"content":"x","finish_reason":"content_filter"}'
	run --separate-stderr llm-loop -N -u "$MOCK_URL" "go"
	assert_failure 8
	assert_output 'The answer is'
	assert_equal "$stderr" "llm-loop: the reply was cut short (finish_reason length)"
	run --separate-stderr llm-loop -N -q -u "$MOCK_URL" "go"
	assert_failure 8
	assert_output x
	assert_equal "$stderr" ''
	run jq -c .result runs/*/summary.json
	assert_line '{"how":"incomplete","exit_status":8}'
}

@test "a model that still calls tools after --final: exit 6" {
	script "$ADD" "$ADD"
	run --separate-stderr llm-loop -d mytools -n 1 --final -u "$MOCK_URL" "go"
	assert_failure 6
	assert_equal "$(printf '%s\n' "$stderr" | sed -n 2p)" \
		"llm-loop: the model still calls tools after --final asked for an answer without them"
}

@test "llm-runs list: when, model, turns, tokens, how it ended, first prompt" {
	script '{"content":"a","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}' '{"content":"b","finish_reason":"length","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
	llm-loop -N -m m1 -u "$MOCK_URL" "first question" >/dev/null
	sleep 1
	llm-loop -N -m m2 -u "$MOCK_URL" "second
question" >/dev/null || true
	run --separate-stderr llm-runs list
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9]{6}  [0-9-]+ [0-9:]+  m1  1 turns?  7 tokens  answer  first question$'
	assert_line --index 1 --regexp '  m2  1 turns?  2 tokens  incomplete  second question$'
	run llm-runs list -j
	assert_success
	run jq -s -r '.[].first_prompt' <<<"$output"
	assert_output "$(printf 'first question\nsecond\nquestion')"
}

@test "llm-runs prune keeps the newest N runs" {
	mkdir -m 700 runs
	for d in 20260101T000000Z-aaaaaa 20260102T000000Z-bbbbbb 20260103T000000Z-cccccc; do
		mkdir "runs/$d" && echo '{}' >"runs/$d/001-request.json"
	done
	run --separate-stderr llm-runs prune --all-but 1
	assert_success
	assert_equal "$stderr" ''
	run ls runs
	assert_output 20260103T000000Z-cccccc
}

@test "llm-runs prune --days DAYS removes runs older than that" {
	mkdir -m 700 runs
	old=$(date -u -d '10 days ago' +%Y%m%dT%H%M%SZ)-aaaaaa
	new=$(date -u +%Y%m%dT%H%M%SZ)-bbbbbb
	mkdir "runs/$old" "runs/$new" "runs/unrelated"
	run llm-runs prune --days 7
	assert_success
	run ls runs
	assert_output "$(printf '%s\n%s' "$new" unrelated)"
}

@test "llm-runs: bad usage exits 2, a foreign runs directory 3" {
	run --separate-stderr llm-runs prune
	assert_failure 2
	assert_equal "$output" ''
	[[ $stderr == usage:* ]]
	assert_equal "${stderr##*$'\n'}" 'llm-runs: prune: give --all-but COUNT or --days DAYS'
	run --separate-stderr llm-runs frobnicate
	assert_failure 2
	assert_equal "${stderr##*$'\n'}" 'llm-runs: unknown command: frobnicate'
	mkdir -m 777 runs
	run --separate-stderr llm-runs list
	assert_failure 3
	assert_equal "$stderr" "llm-runs: $TMP/runs: writable by group or others; refused (chmod go-w $TMP/runs)"
}

@test "-v shows the calls refused before running, with the reason" {
	script '{"tool_calls":[{"id":"c1","name":"add","arguments":{"a":5,"b":4}},{"id":"c2","name":"nope","arguments":{}},{"id":"c3","name":"add","arguments":{"a":"x","b":1}},{"id":"c4","name":"bad\u001b]0;x","arguments":{}}]}' '{"content":"done"}'
	run --separate-stderr llm-loop -v -d mytools -x add -u "$MOCK_URL" "go"
	assert_success
	assert_output done
	run printf '%s\n' "$stderr"
	assert_line 'x> add declined by the user: add is a denied tool'
	assert_line --partial 'x> nope unknown tool "nope"'
	assert_line --partial 'x> ? invalid tool name "bad\e]0;x"'
	refute_output --partial $'\e'
}

@test "journal lines carry a timestamp" {
	script "$ADD" '{"content":"9"}'
	run llm-loop -d mytools -k k -u "$MOCK_URL" "go"
	assert_success
	now=$(date +%s)
	run jq -r 'select(.time > '"$now"' - 60 and .time <= '"$now"' + 1) | keys_unsorted[0]' k/001-results.journal
	assert_output "$(printf 'started\nrole')"
}

@test "a base URL's user:password@ is not recorded" {
	script '{"content":"hi"}'
	url=${MOCK_URL/http:\/\//http://me:pw@}
	run llm-loop -N -k k -u "$url" "Hello"
	assert_success
	run jq -r .base_url k/settings.json
	assert_output "$MOCK_URL"
}

@test "--usage with --no-store: the totals, and nothing kept" {
	script '{"content":"hi","usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}'
	mkdir tmp
	TMPDIR=$TMP/tmp run --separate-stderr llm-loop -N -U -Z -u "$MOCK_URL" "Hello"
	assert_success
	assert_output hi
	assert_equal "$stderr" 'llm-loop: usage: 1 model call, 5 prompt + 1 completion = 6 tokens'
	run ls -A tmp
	assert_output ''
	[ ! -e runs ]
}

@test "llm-runs prune leaves a run in use alone" {
	mkdir -m 700 runs runs/20260101T000000Z-aaaaaa runs/20260102T000000Z-bbbbbb
	flock runs/20260101T000000Z-aaaaaa sleep 3 3>&- &
	pid=$!
	sleep 0.3
	run --separate-stderr llm-runs prune --all-but 0
	assert_success
	run ls runs
	assert_output 20260101T000000Z-aaaaaa
	kill "$pid"
	wait "$pid" || true
}

@test "a settings.json that is not a settings file: exit 3" {
	script '{"content":"a"}'
	llm-loop -N -k k -u "$MOCK_URL" "one" >/dev/null
	echo '{"max_turns":' >k/settings.json
	run --separate-stderr llm-loop -c k "two"
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-loop: k/settings.json: not a settings file'
}

@test "settings.json and summary.json are written as jq writes them (llm-status --settings, --summary)" {
	script "$ADD" '{"content":"9","usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}}'
	run llm-loop -d mytools -k k -u "http://u:pw@${MOCK_URL#http://}" -g true "go"
	assert_success
	# Two-space indentation, keys in the documented order, a final newline.
	run cat k/settings.json
	assert_output "{
  \"version\": 1,
  \"dir\": \"$TMP/mytools\",
  \"model\": null,
  \"base_url\": \"$MOCK_URL\",
  \"max_turns\": 10,
  \"final\": false,
  \"timeout\": null,
  \"retries\": null,
  \"tool_timeout\": null,
  \"jobs\": null,
  \"max_output\": null,
  \"limits\": [],
  \"env\": [],
  \"sandbox\": null,
  \"confirm\": false,
  \"allow\": null,
  \"deny\": null,
  \"guards\": [
    \"true\"
  ],
  \"refusal\": \"I'm sorry, I can't share that reply.\",
  \"no_tools\": false,
  \"text_calls\": false
}"
	[ "$(tail -c 1 k/settings.json | od -An -c | tr -d ' ')" = '\n' ]
	# Written again from the same files, only the end time may differ.
	run llm-status --summary k answer 0 2026-01-02T03:04:05Z
	assert_success
	diff <(sed '/"ended"/d' k/summary.json) <(sed '/"ended"/d' <<<"$output")
	run jq -c '.tool_calls[0] | [.turn, .id, .name, .outcome, (.duration | type)]' k/summary.json
	assert_output '[1,"c1","add","ran","number"]'
}

@test "llm-status --settings, --summary: bad input says what and exits 2 or 3, nothing on stdout" {
	run --separate-stderr llm-status --settings colour=red max_turns=3
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" 'llm-status: not a setting: colour=red'
	run --separate-stderr llm-status --settings max_turns=x
	assert_failure 2
	assert_equal "$stderr" 'llm-status: max_turns: not a number: x'
	mkdir k
	echo '{"choices":' >k/001-response.json
	run --separate-stderr llm-status --summary k error 5 2026-01-02T03:04:05Z
	assert_failure 3
	assert_output ''
	assert_equal "$stderr" 'llm-status: k/001-response.json: not JSON'
	run --separate-stderr llm-status --summary k error five 2026-01-02T03:04:05Z
	assert_failure 2
}
