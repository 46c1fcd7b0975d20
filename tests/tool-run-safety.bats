#!/usr/bin/env bats
# tool-run with untrusted calls: parallel and bounded, isolated, checked
# against the schema before anything runs, and asking the user.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR=tools.d
	tool nap 'sleep 0.5; echo rested'
	echo '{"name":"nap","parameters":{"type":"object"}}' >tools.d/nap.json
	tool mark 'cat >/dev/null; echo ran >>"'"$TMP"'/marks"; echo ok'
	cat >tools.d/mark.json <<'JSON'
{"name":"mark","parameters":{"type":"object","properties":{"city":{"type":"string","minLength":1},"units":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},"required":["city"],"additionalProperties":false}}
JSON
}

tool() { # tool NAME BODY
	printf '#!/bin/sh\n%s\n' "$2" >"tools.d/$1"
	chmod +x "tools.d/$1"
}

calls() { # calls NAME ARGS_JSON COUNT: COUNT calls of NAME
	local i sep=
	printf '['
	for i in $(seq 1 "$3"); do
		printf '%s{"id":"c%d","type":"function","function":{"name":"%s","arguments":%s}}' \
			"$sep" "$i" "$1" "$(jq -cn --arg a "$2" '$a')"
		sep=,
	done
	printf ']'
}

# answer [-a AHEAD] ANSWER... -- COMMAND...: COMMAND on a terminal of its
# own, its prompts answered (see tests/fixtures/tty-answer.py); its
# stdout in results.json.
answer() {
	local args=()
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	/usr/bin/python3 "$ROOT/tests/fixtures/tty-answer.py" "${args[@]}" -- \
		sh -c '"$@" >results.json' sh "$@"
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

@test "eight 0.5 s calls run at once: well under the 4 s they take in turn" {
	calls nap '{}' 8 >calls.json
	start=$(date +%s%N)
	run tool-run calls.json
	elapsed=$(ms_since "$start")
	assert_success
	run jq -r '[.[].content] | unique | .[]' <<<"$output"
	assert_output rested
	echo "8 x 0.5 s took $elapsed ms" >&3
	[ "$elapsed" -lt $((2000 * TIME_FACTOR)) ]
}

@test "-j 1 runs the calls one after another, results still in order" {
	calls nap '{}' 3 >calls.json
	start=$(date +%s%N)
	run tool-run -P 1 calls.json
	elapsed=$(ms_since "$start")
	assert_success
	run jq -c '[.[].tool_call_id]' <<<"$output"
	assert_output '["c1","c2","c3"]'
	[ "$elapsed" -ge 1500 ]
}

@test "a timeout stops the tool's whole process group, background children too" {
	n=$(unique_seconds)
	tool hang "sleep $n & sleep $n"
	calls hang '{}' 1 >calls.json
	run tool-run -T 0.3 calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'tool hang timed out after 0.3 s and was stopped'
	sleep 0.2
	! pgrep -f "sleep $n"
}

@test "a daemon a tool leaves behind does not survive, nor hold the run up" {
	n=$(unique_seconds)
	tool daemonize "setsid sleep $n & sleep 0.1; echo started"
	calls daemonize '{}' 1 >calls.json
	start=$(date +%s%N)
	run tool-run -T 20 calls.json
	elapsed=$(ms_since "$start")
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output started
	[ "$elapsed" -lt $((5000 * TIME_FACTOR)) ]
	sleep 0.2
	! pgrep -f "sleep $n"
}

@test "--max-output cuts stdout and says so; stderr is kept only as a tail" {
	tool big 'head -c 5000 /dev/zero | tr "\0" a'
	tool noisy 'i=0; while [ $i -lt 2000 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo "the real reason" >&2; exit 2'
	printf '[%s,%s]' "$(calls big '{}' 1 | jq -c '.[0]')" "$(calls noisy '{}' 1 | jq -c '.[0] | .id = "c2"')" >calls.json
	run tool-run -b 1000 calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	[[ $output == "$(head -c 1000 /dev/zero | tr '\0' a)"$'\n[output truncated at 1000 bytes]' ]]
	run tool-run -b 1000 calls.json
	run jq -r '.[1].content | fromjson | .error' <<<"$output"
	[[ $output == *"the real reason" ]]
	[ "${#output}" -lt 700 ]
}

@test "resource limits are set in the tool; -L changes them" {
	[ -z "${LLM_TEST_VALGRIND:-}" ] || skip "valgrind keeps the descriptor limit of its guests"
	tool limits 'printf "%s %s %s %s" "$(ulimit -t)" "$(ulimit -n)" "$(ulimit -v)" "$(ulimit -f)"'
	calls limits '{}' 1 >calls.json
	run tool-run calls.json
	run jq -r '.[0].content' <<<"$output"
	# ulimit -v and -f count KiB and 512-byte blocks.
	assert_output "60 1024 $((8 * 1024 * 1024)) $((2 * 1024 * 1024))"
	run tool-run -L cpu=5 -L nofile=64 -L as=1G -L fsize=unlimited calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output "5 64 $((1024 * 1024)) unlimited"
}

@test "a tool that writes past the file size limit is stopped" {
	tool writer 'exec head -c 100000 /dev/zero >"'"$TMP"'/big.out"'
	calls writer '{}' 1 >calls.json
	run tool-run -L fsize=10K calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'tool writer was killed by signal 25'  # SIGXFSZ
	[ "$(stat -c %s big.out)" -le 10240 ]
}

@test "bad -L, -j, -o and -e values are usage errors" {
	for opt in "-L cpu" "-L disk=5" "-L as=-1" "-L as=lots" "-j 0" "-o 0" "-e A=B" "-e 1x"; do
		run tool-run $opt calls.json
		assert_failure 2
	done
}

@test "no secret reaches a tool; -e passes a variable by name" {
	tool envdump 'env | sort'
	calls envdump '{}' 1 >calls.json
	OPENAI_API_KEY=sk-1 AWS_SECRET_ACCESS_KEY=aws-2 GITHUB_TOKEN=gh-3 MY_SETTING=on \
		run tool-run -e MY_SETTING -e TOOL_NAME calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	refute_output --partial sk-1
	refute_output --partial aws-2
	refute_output --partial gh-3
	assert_line MY_SETTING=on
	assert_line TOOL_NAME=envdump
	assert_line TOOL_CALL_ID=c1
	run grep -c '^TOOL_NAME=' <<<"$output"
	assert_output 1
}

@test "descriptors other than 0-2 are closed in the tool" {
	tool fds 'ls /proc/$$/fd | tr "\n" " "'
	calls fds '{}' 1 >calls.json
	run tool-run calls.json 7<calls.json 8>extra.out
	run jq -r '.[0].content' <<<"$output"
	[[ " $output " != *" 7 "* && " $output " != *" 8 "* ]]
}

@test "a symlink in DIR is followed, wherever it points (the user put it there)" {
	mkdir outside
	printf '#!/bin/sh\necho linked\n' >outside/real
	chmod +x outside/real
	ln -s ../outside/real tools.d/linked
	calls linked '{}' 1 >calls.json
	run tool-run calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output linked
}

@test "arguments that break the schema are not run; every violation is named" {
	calls mark '{"units":"kelvin","days":9.5,"extra":1}' 1 >calls.json
	run tool-run calls.json
	assert_success
	[ ! -e marks ]
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output --partial 'invalid arguments for mark, not run:'
	assert_output --partial 'missing required property "city"'
	assert_output --partial '/units: must be one of "celsius", "fahrenheit"'
	assert_output --partial '/days: must be an integer'
	assert_output --partial '/extra: is not allowed'
}

@test "arguments that fit the schema run" {
	calls mark '{"city":"Tokyo","units":"celsius","days":3}' 1 >calls.json
	run tool-run calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output ok
	[ "$(cat marks)" = ran ]
}

@test "the shipped get_weather schema catches a bad enum before the tool runs" {
	printf '[{"id":"w","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Tokyo\\",\\"units\\":\\"kelvin\\"}"}}]' >calls.json
	run tool-run -d "$ROOT/tools.d" calls.json
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'invalid arguments for get_weather, not run: /units: must be one of "celsius", "fahrenheit"'
}

@test "--dry-run runs nothing and says what would run" {
	calls mark '{"city":"Oslo"}' 2 >calls.json
	run --separate-stderr tool-run --dry-run calls.json
	assert_success
	[ ! -e marks ]
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	assert_line --index 0 'not run: this was a dry run; mark was not executed'
	[[ $stderr == *'dry run: would run tools.d/mark {"city":"Oslo"}'* ]]
}

@test "--deny never runs a tool; --allow alone lets only those run" {
	calls mark '{"city":"Oslo"}' 1 >m.json
	calls nap '{}' 1 >n.json
	jq -s -c '.[0] + (.[1] | .[0].id = "c2")' m.json n.json >calls.json
	run tool-run --deny mark calls.json
	run jq -r '.[].content' <<<"$output"
	assert_line --index 0 '{"error":"declined by the user: mark is a denied tool"}'
	assert_line --index 1 rested
	run tool-run --allow nap,other calls.json
	run jq -r '.[].content' <<<"$output"
	assert_line --index 0 '{"error":"declined by the user: mark is not an allowed tool"}'
	assert_line --index 1 rested
	[ ! -e marks ]
}

@test "--confirm without a terminal declines, never approves" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	run setsid -w tool-run --confirm calls.json </dev/null
	assert_success
	[ ! -e marks ]
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'declined by the user: the call to mark was not run'
}

@test "--confirm asks on the terminal: y runs, anything else declines" {
	calls mark '{"city":"Oslo"}' 3 >calls.json
	run answer y n yes -- tool-run --confirm calls.json
	assert_success
	[[ $output == *'run mark {"city":"Oslo"}? [y/N]'* ]]
	run jq -r '.[].content' results.json
	assert_line --index 0 ok
	assert_line --index 1 '{"error":"declined by the user: the call to mark was not run"}'
	assert_line --index 2 ok
	[ "$(cat marks)" = "$(printf 'ran\nran')" ]
}

@test "--confirm drops what was typed before the question" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	run answer -a $'y\n' n -- tool-run --confirm calls.json
	assert_success
	[ ! -e marks ]
	run jq -r '.[0].content | fromjson | .error' results.json
	assert_output 'declined by the user: the call to mark was not run'
}

@test "--confirm reads a whole answer: one long line is one answer, one prompt per call" {
	calls mark '{"city":"Oslo"}' 2 >calls.json
	run answer "$(printf 'y%.0s' $(seq 1 100))" y -- tool-run --confirm calls.json
	assert_success
	[ "$(grep -o 'y/N' <<<"$output" | wc -l)" -eq 2 ]
	run jq -r '.[].content' results.json
	assert_line --index 0 '{"error":"declined by the user: the call to mark was not run"}'
	assert_line --index 1 ok
	[ "$(cat marks)" = ran ]
}

@test "--confirm with --allow asks only for the others" {
	calls mark '{"city":"Oslo"}' 1 >m.json
	calls nap '{}' 1 >n.json
	jq -s -c '.[0] + (.[1] | .[0].id = "c2")' m.json n.json >calls.json
	run answer n -- tool-run --confirm --allow nap calls.json
	[ "$(grep -c 'y/N' <<<"$output")" -eq 1 ]
	run jq -r '.[].content' results.json
	assert_line --index 1 rested
}

@test "arguments shown for confirmation cannot carry terminal escapes" {
	printf '[{"id":"e","type":"function","function":{"name":"mark","arguments":"{\\"city\\":\\"\\\\u001b[31mred\\\\u009b \\u009b2J\\"}"}}]' >calls.json
	run answer n -- tool-run --confirm calls.json
	[[ $output != *$'\e[31m'* ]]
	[[ $output != *$'\xc2\x9b'* ]]
	[[ $output == *'\u001b[31mred\u009b'* ]]
	[[ $output == *'\u009b \u{009b}2J"}? [y/N]'* ]]
}

@test "-v lines cannot carry terminal escapes" {
	tool loud 'printf "\033]0;pwned\007\302\2332J\rdone"'
	calls loud '{}' 1 >calls.json
	run --separate-stderr tool-run -v calls.json
	assert_success
	[[ $stderr != *$'\e'* && $stderr != *$'\xc2\x9b'* && $stderr != *$'\r'* ]]
	[[ $stderr == *'<- loud \e]0;pwned\x07\u{009b}2J\rdone'* ]]
}

@test "--sandbox CMD runs each tool under the wrapper, without a shell" {
	tool whoami 'echo "wrapped=${WRAPPED:-no}"'
	calls whoami '{}' 1 >calls.json
	run tool-run --sandbox "env WRAPPED=yes" calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output wrapped=yes
	LLM_TOOL_SANDBOX="env WRAPPED=env" run tool-run calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output wrapped=env
}

@test "--sandbox default: read-only files, private /tmp, no network" {
	command -v bwrap >/dev/null || skip "bubblewrap is not installed"
	bwrap --ro-bind / / --unshare-all true 2>/dev/null || skip "bwrap cannot create namespaces here"
	start_mock --jq '{content: "reachable"}'
	tool escape "touch '$ROOT/tests/sandbox-was-here' 2>/dev/null && echo wrote-repo
touch /tmp/inside && echo wrote-tmp
curl -s -m 2 '$MOCK_URL/models' >/dev/null && echo network
echo end"
	calls escape '{}' 1 >calls.json
	run tool-run --sandbox default calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output "$(printf 'wrote-tmp\nend')"
	[ ! -e "$ROOT/tests/sandbox-was-here" ]
}

@test "--journal records each call; a rerun never runs a call twice" {
	calls mark '{"city":"Oslo"}' 3 >calls.json
	run tool-run --journal journal calls.json
	assert_success
	[ "$(wc -l <marks)" -eq 3 ]
	run jq -c 'select(.started) | .started' journal
	assert_output "$(printf '"c1"\n"c2"\n"c3"')"
	# As if killed while c2 ran and before c3 started: c2 started, no result.
	grep -v -e '"tool_call_id":"c2"' -e '"started":"c3"' -e '"tool_call_id":"c3"' journal >j2
	rm marks
	run tool-run --journal j2 calls.json
	assert_success
	run jq -r '.[].content' <<<"$output"
	assert_line --index 0 ok
	assert_line --index 1 --partial 'interrupted: this call was started but its result was lost'
	assert_line --index 2 ok
	# Only c3 ran again.
	[ "$(wc -l <marks)" -eq 1 ]
}

@test "a torn last journal line is ignored" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	printf '{"started":"c1"}\n{"role":"tool","tool_call_id":"c1","con' >journal
	run tool-run --journal journal calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output --partial 'interrupted'
	[ ! -e marks ]
}

@test "-v shows each call and its result on stderr" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	run --separate-stderr tool-run -v calls.json
	assert_success
	[ "$stderr" = "$(printf -- '-> mark {"city":"Oslo"}\n<- mark ok')" ]
}

@test "SIGTERM to tool-run stops its tools too, and writes nothing" {
	n=$(unique_seconds)
	tool long "echo \$\$ >'$TMP/long.pid'; sleep $n"
	calls long '{}' 1 >calls.json
	tool-run -O results.json calls.json 3>&- &
	pid=$!
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		[ -s long.pid ] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	no_process "sleep $n"
	run ls
	refute_output --partial results.json
}

@test "at most 64 -e variables" {
	set -- $(for i in $(seq 1 65); do printf -- '-e V%d ' "$i"; done)
	run --separate-stderr tool-run "$@" calls.json
	assert_failure 2
	[[ $stderr == *"at most 64"* ]]
}

@test "the journal is never written through a symbolic link" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	echo precious >target
	ln -s target journal
	run --separate-stderr tool-run --journal journal calls.json
	assert_failure 3
	assert_output ''
	[ "$stderr" = 'tool-run: journal journal: a symbolic link; refused (the journal is written only as a file of its own)' ]
	[ "$(cat target)" = precious ]
	[ ! -e marks ]
}

@test "a journal others can write to is refused; a new one is the user's alone" {
	calls mark '{"city":"Oslo"}' 1 >calls.json
	run tool-run --journal new.journal calls.json
	assert_success
	[ "$(stat -c %a new.journal)" = 600 ]
	: >open.journal
	chmod 622 open.journal
	run --separate-stderr tool-run --journal open.journal calls.json
	assert_failure 3
	[ "$stderr" = 'tool-run: journal open.journal: writable by others; refused (fix: chmod 600 open.journal, or remove it)' ]
}

# stop_while_reading SIGNAL [RUNNER...]: tool-run waiting for its calls
# on a FIFO gets SIGNAL; it must end with 128+N at once.
stop_while_reading() {
	local sig=$1 pid i status=0
	shift
	mkfifo calls.fifo
	"$@" tool-run -O out.json calls.fifo 3>&- &
	pid=$!
	exec 5>calls.fifo
	sleep 0.2
	kill "-$sig" "$pid"
	for i in $(seq 1 $((20 * TIME_FACTOR))); do
		running "$pid" || break
		sleep 0.05
	done
	running "$pid" && { exec 5>&-; wait "$pid"; return 1; }
	exec 5>&-
	wait "$pid" || status=$?
	echo "$status"
}

@test "SIGTERM stops tool-run at once while it waits for its input" {
	run --separate-stderr stop_while_reading TERM
	assert_output 143
	[ "$stderr" = "tool-run: stopped by signal 15" ]
	run ls
	refute_output --partial out.json
}

@test "SIGINT stops tool-run at once while it waits for its input" {
	run --separate-stderr stop_while_reading INT env --default-signal=INT
	assert_output 130
	[ "$stderr" = "tool-run: stopped by signal 2" ]
	run ls
	refute_output --partial out.json
}

@test "SIGTERM stops tool-run while a tool prints its schema" {
	n=$(unique_seconds)
	tool slowschema "[ \"\${1:-}\" = --schema ] && sleep $n; echo ok"
	calls slowschema '{}' 1 >calls.json
	tool-run -O out.json calls.json 3>&- &
	pid=$!
	sleep 0.3
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	no_process "sleep $n"
	[ ! -e out.json ]
}

@test "signals ignored when tool-run starts (nohup) stay ignored" {
	tool slow 'sleep 1; echo done'
	calls slow '{}' 1 >calls.json
	(trap '' TERM HUP; exec tool-run -O out.json calls.json) 3>&- &
	pid=$!
	sleep 0.4
	kill -TERM "$pid"
	kill -HUP "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 0
	run jq -r '.[0].content' out.json
	assert_output done
}
