#!/usr/bin/env bats
# tool-serve over stdio, driven by raw JSON-RPC lines: both protocol
# eras, the listing of tool-run --list, calls run as tool-run runs them,
# several at once, cancelled, and stopped at the end of input.

load helper
load serve

INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'

# serve ARGS...: tool-serve -d tools.d ARGS on a pipe (fd 4 writes to
# it), its answers in out, its messages in err.
serve() {
	rm -f in out err
	mkfifo in
	tool-serve -d tools.d "$@" <in >out 2>err 3>&- &
	SERVE_PID=$!
	exec 4>in
}

send() { printf '%s\n' "$1" >&4; }

# answer_to ID: the answer with this id (a JSON id, as written), once
# it has come.
answer_to() {
	local i line
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		line=$(jq -c --argjson id "$1" 'select(.id == $id)' out 2>/dev/null)
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.025
	done
	echo "no answer to $1; out: $(cat out); err: $(cat err)" >&2
	return 1
}

# finish: close stdin; the server's exit status in status.
finish() {
	exec 4>&-
	status=0
	wait "$SERVE_PID" || status=$?
	SERVE_PID=
}

call() { # call ID NAME ARGS_JSON: a legacy tools/call line
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"
}

wait_file() {
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s "$1" ] && return 0
		sleep 0.025
	done
	return 1
}

@test "initialize answers with the protocol version asked, and tools, no session" {
	serve
	send "$INIT"
	run answer_to 0
	assert_success
	json_eq "$(jq -c .result <<<"$output")" '{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"tool-serve","version":"0.1.0"}}'
	send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}'
	run answer_to 1
	run jq -r .result.protocolVersion <<<"$output"
	assert_output 2025-06-18
	send '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{}}}'
	run answer_to 2
	run jq -r .result.protocolVersion <<<"$output"
	assert_output 2025-11-25
	finish
	assert_equal "$status" 0
}

@test "tools/list is tool-run --list: name, description, parameters as inputSchema" {
	tool plain 'echo hi'
	cat >tools.d/plain.json <<'JSON'
{"name":"plain","description":"No parameters.","title":"Plain","annotations":{"readOnlyHint":true},"outputSchema":{"type":"object"}}
JSON
	serve
	send "$INIT"
	send '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	send '{"jsonrpc":"2.0","id":"l","method":"tools/list"}'
	run answer_to '"l"'
	assert_success
	listed=$(jq -c .result.tools <<<"$output")
	expected=$(tool-run -d tools.d --list | jq -c '[.[].function |
		{name, description, inputSchema: (.parameters // {type: "object"})}]')
	expected=$(jq -c '.[1] += {title: "Plain", annotations: {readOnlyHint: true}, outputSchema: {type: "object"}}' <<<"$expected")
	json_eq "$listed" "$expected"
	finish
	assert_equal "$status" 0
	run cat err
	assert_output ''
}

@test "tools/call runs add: 5 + 4 is 9, as text, not an error" {
	serve
	send "$INIT"
	send "$(call 1 add '{"a":5,"b":4}')"
	run answer_to 1
	assert_success
	json_eq "$(jq -c .result <<<"$output")" '{"content":[{"type":"text","text":"9"}],"isError":false}'
	finish
	assert_equal "$status" 0
}

@test "bad arguments: isError with tool-run's message, and nothing runs" {
	tool mark 'echo ran >>"'"$TMP"'/marks"; echo ok'
	echo '{"parameters":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}' >tools.d/mark.json
	serve
	send "$INIT"
	send "$(call 1 add '{"a":"five"}')"
	send "$(call 2 mark '{"n":"x"}')"
	run answer_to 1
	assert_success
	run jq -c .result <<<"$output"
	expected=$(printf '[{"id":"x","function":{"name":"add","arguments":"{\\"a\\":\\"five\\"}"}}]' |
		tool-run -d tools.d | jq -r '.[0].content | fromjson | .error')
	json_eq "$output" "$(jq -cn --arg t "$expected" '{content: [{type: "text", text: $t}], isError: true}')"
	run answer_to 2
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ninvalid arguments for mark, not run: /n: must be an integer, not a string'
	finish
	[ ! -e marks ]
}

@test "an unknown tool or malformed params are protocol errors (-32602)" {
	serve
	send "$INIT"
	send "$(call 1 nope '{}')"
	send "$(call 2 ../add '{}')"
	send "$(call 3 add '[1]')"
	for id in 1 2 3; do
		run answer_to $id
		run jq -c .error.code <<<"$output"
		assert_output -- -32602
	done
	run answer_to 1
	run jq -r .error.message <<<"$output"
	assert_output 'unknown tool "nope"'
	finish
	assert_equal "$status" 0
}

@test "a failing tool, a timeout and a denied tool come back as isError with tool-run's words" {
	tool fail 'echo broken >&2; exit 3'
	tool slow 'sleep 5'
	serve -T 0.3 -x add
	send "$INIT"
	send "$(call 1 fail '{}')"
	send "$(call 2 slow '{}')"
	send "$(call 3 add '{"a":1,"b":2}')"
	run answer_to 1
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ntool fail failed with exit status 3: broken'
	run answer_to 2
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ntool slow timed out after 0.3 s and was stopped'
	run answer_to 3
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ndeclined by the user: add is a denied tool'
	finish
	assert_equal "$status" 0
}

@test "modern requests: _meta version, discover, results complete with serverInfo" {
	serve
	send '{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{'"$META"'}}'
	run answer_to 1
	assert_success
	json_eq "$(jq -c .result <<<"$output")" '{"supportedVersions":["2026-07-28","2025-11-25","2025-06-18","2025-03-26","2024-11-05"],"capabilities":{"tools":{"listChanged":false}},"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"tool-serve","version":"0.1.0"}}}'
	send '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{'"$META"'}}'
	run answer_to 2
	run jq -c '[.result.tools[].name, .result.ttlMs, .result.cacheScope, .result.resultType]' <<<"$output"
	assert_output '["add",0,"public","complete"]'
	send '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":5,"b":4},'"$META"'}}'
	run answer_to 3
	run jq -c '[.result.content[0].text, .result.isError, .result.resultType, .result._meta["io.modelcontextprotocol/serverInfo"].name]' <<<"$output"
	assert_output '["9",false,"complete","tool-serve"]'
	finish
	assert_equal "$status" 0
}

@test "no version at all, an unknown version, or no client capabilities are refused" {
	serve
	send '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
	send '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}'
	send '{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}'
	send '{"jsonrpc":"2.0","id":4,"method":"resources/list","params":{'"$META"'}}'
	send 'not json'
	run answer_to 1
	run jq -c .error.code <<<"$output"
	assert_output -- -32602
	run answer_to 2
	json_eq "$(jq -c .error <<<"$output")" '{"code":-32022,"message":"unsupported protocol version \"2099-01-01\"","data":{"supported":["2026-07-28","2025-11-25","2025-06-18","2025-03-26","2024-11-05"],"requested":"2099-01-01"}}'
	run answer_to 3
	run jq -c .error.code <<<"$output"
	assert_output -- -32602
	run answer_to 4
	run jq -c .error.code <<<"$output"
	assert_output -- -32601
	run answer_to null
	run jq -c .error.code <<<"$output"
	assert_output -- -32700
	finish
	assert_equal "$status" 0
}

@test "notifications/cancelled kills the call's tool within a second, and it gets no answer" {
	n=$(unique_seconds)
	tool nap "echo \$\$ >'$TMP/nap.pid'; sleep $n"
	serve
	send "$INIT"
	send "$(call '"c1"' nap '{}')"
	wait_file nap.pid
	pgrep -f "sleep $n" >/dev/null
	send '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"user"}}'
	no_process "sleep $n"
	send '{"jsonrpc":"2.0","id":"p","method":"ping"}'
	run answer_to '"p"'
	assert_success
	finish
	assert_equal "$status" 0
	run jq -c 'select(.id == "c1")' out
	assert_output ''
}

@test "the end of input stops every running tool and exits 0 without answers" {
	n=$(unique_seconds)
	tool nap "echo \$\$ >>'$TMP/nap.pid'; sleep $n"
	serve
	send "$INIT"
	send "$(call 1 nap '{}')"
	send "$(call 2 nap '{}')"
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ "$(wc -l <nap.pid 2>/dev/null)" = 2 ] && break
		sleep 0.025
	done
	finish
	assert_equal "$status" 0
	no_process "sleep $n"
	run jq -c 'select(.id == 1 or .id == 2)' out
	assert_output ''
}

@test "-j bounds the calls running at once" {
	tool step 'echo start >>"'"$TMP"'/steps"; sleep 0.3; echo end >>"'"$TMP"'/steps"; echo done'
	serve -P 1
	send "$INIT"
	send "$(call 1 step '{}')"
	send "$(call 2 step '{}')"
	run answer_to 1
	run answer_to 2
	run jq -r .result.content[0].text <<<"$output"
	assert_output done
	run cat steps
	assert_output $'start\nend\nstart\nend'
	finish
	rm steps
	serve -P 2
	send "$INIT"
	send "$(call 1 step '{}')"
	send "$(call 2 step '{}')"
	run answer_to 1
	run answer_to 2
	run head -n 2 steps
	assert_output $'start\nstart'
	finish
}

@test "a tool with an outputSchema answers structuredContent too, checked against it" {
	tool stats 'echo "{\"count\":3}"'
	echo '{"parameters":{"type":"object"},"outputSchema":{"type":"object","properties":{"count":{"type":"integer"}},"required":["count"]}}' >tools.d/stats.json
	tool wrong 'echo "{\"count\":\"many\"}"'
	cp tools.d/stats.json tools.d/wrong.json
	serve
	send "$INIT"
	send "$(call 1 stats '{}')"
	send "$(call 2 wrong '{}')"
	run answer_to 1
	json_eq "$(jq -c .result <<<"$output")" '{"content":[{"type":"text","text":"{\"count\":3}"}],"structuredContent":{"count":3},"isError":false}'
	run answer_to 2
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ntool wrong: its output does not match its outputSchema: /count: must be an integer, not a string'
	finish
}

@test "-c is refused: the host asks the user; an operand is a usage error" {
	run --separate-stderr tool-serve -d tools.d --confirm
	assert_equal "$status" 2
	assert_output ''
	assert_equal "$stderr" 'tool-serve: --confirm: the host asks the user before a call; tool-serve has no terminal to ask on'
	run --separate-stderr tool-serve -d tools.d extra
	assert_equal "$status" 2
	assert_output ''
}

@test "a tools directory others can write to is refused (exit 3), nothing on stdout" {
	chmod 777 tools.d
	run --separate-stderr tool-serve -d tools.d </dev/null
	assert_equal "$status" 3
	assert_output ''
	[[ $stderr == *tools.d* ]]
}

@test "tool-run's policy options apply: -e passes a variable, -b caps the output, --umask" {
	tool env 'echo "${GREETING:-unset}${OPENAI_API_KEY:+ key}"'
	tool loud 'echo 0123456789abcdef'
	tool mask 'umask'
	umask 022
	GREETING=hello OPENAI_API_KEY=sk-secret serve -e GREETING -b 10 --umask 027
	send "$INIT"
	send "$(call 1 env '{}')"
	send "$(call 2 loud '{}')"
	send "$(call 3 mask '{}')"
	run answer_to 1
	run jq -r .result.content[0].text <<<"$output"
	assert_output hello
	run answer_to 2
	run jq -r .result.content[0].text <<<"$output"
	assert_output $'0123456789\n[output truncated at 10 bytes]'
	run answer_to 3
	run jq -r .result.content[0].text <<<"$output"
	assert_output 0027
	finish
	assert_equal "$status" 0
}

@test "SIGTERM stops tool-serve and its running tools: exit 143, no answer" {
	n=$(unique_seconds)
	tool nap "echo \$\$ >'$TMP/nap.pid'; sleep $n"
	serve
	send "$INIT"
	send "$(call 1 nap '{}')"
	wait_file nap.pid
	kill -TERM "$SERVE_PID"
	status=0
	wait "$SERVE_PID" || status=$?
	SERVE_PID=
	exec 4>&-
	assert_equal "$status" 143
	no_process "sleep $n"
	run jq -c 'select(.id == 1)' out
	assert_output ''
}

@test "a sidecar's own limits hold for tools/call too" {
	printf '#!/bin/sh\nsleep 5\n' >tools.d/slow
	printf '#!/bin/sh\nprintf 0123456789\n' >tools.d/loud
	chmod 755 tools.d/slow tools.d/loud
	echo '{"parameters":{"type":"object"},"x-llm-tools":{"timeout":0.3}}' >tools.d/slow.json
	echo '{"parameters":{"type":"object"},"x-llm-tools":{"max_output":4}}' >tools.d/loud.json
	serve
	send "$INIT"
	send "$(call 1 slow '{}')"
	send "$(call 2 loud '{}')"
	run answer_to 1
	run jq -r '.result.isError, .result.content[0].text' <<<"$output"
	assert_output $'true\ntool slow timed out after 0.3 s and was stopped'
	run answer_to 2
	run jq -r '.result.content[0].text' <<<"$output"
	assert_output $'0123\n[output truncated at 4 bytes]'
	finish
	[ "$status" -eq 0 ]
}
