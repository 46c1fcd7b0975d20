#!/usr/bin/env bats
# MCP servers as tools: tool-run, tool-mcp and llm-loop against the
# reference servers of tests/mcp/package.json (installed by
# tests/mcp/install), over stdio, offline.

load ../helper
load mcp

local_setup() {
	mcp_paths
	NODE=$NM/node/bin/node
	EVERYTHING=$NM/@modelcontextprotocol/server-everything/dist/index.js
	FILESYSTEM=$NM/@modelcontextprotocol/server-filesystem/dist/index.js
	MEMORY=$NM/@modelcontextprotocol/server-memory/dist/index.js
	unset LLM_MCP_SOCKET LLM_MCP_CONFIG LLM_TOOL_SANDBOX
	mkdir -p tools root
	echo "hello from inside" >root/inside.txt
}

local_teardown() {
	if [ -n "${HOLDER:-}" ]; then
		kill "$HOLDER" 2>/dev/null
		wait "$HOLDER" 2>/dev/null
	fi
}

teardown() {
	local_teardown
	stop_mock
	stop_run_holder
}

# server NAME ARGS-JSON: a stdio server entry that records each start in
# $TMP/starts.NAME and every line it is sent in $TMP/wire.NAME, with
# MCPTEST=$TMP in its environment (to find it among processes).
server() {
	printf '{"command":"sh","args":["-c","echo start >>%s/starts.%s; tee -a %s/wire.%s | exec %s \\"$@\\"","sh",%s],"env":{"MCPTEST":"%s","MEMORY_FILE_PATH":"%s/memory.jsonl"}}' \
		"$TMP" "$1" "$TMP" "$1" "$NODE" "$2" "$TMP" "$TMP"
}

# config: mcp.json with everything (ev), filesystem (fs) over root/ and
# memory (mem).
config() {
	printf '{"mcpServers":{"ev":%s,"fs":%s,"mem":%s}}\n' \
		"$(server ev "\"$EVERYTHING\",\"stdio\"")" \
		"$(server fs "\"$FILESYSTEM\",\"$TMP/root\"")" \
		"$(server mem "\"$MEMORY\"")" >mcp.json
}

# calls NAME ARGS [NAME ARGS]...: a tool-calls array, ids 1, 2, ...
calls() {
	local out='[' i=1
	while [ $# -gt 0 ]; do
		[ "$i" -eq 1 ] || out="$out,"
		out="$out$(jq -cn --arg id "$i" --arg n "$1" --arg a "$2" \
			'{id:$id,type:"function",function:{name:$n,arguments:$a}}')"
		i=$((i + 1))
		shift 2
	done
	printf '%s]' "$out"
}

# Our servers still running: processes with MCPTEST=$TMP.
our_servers() {
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "MCPTEST=$TMP"; then
			echo "${p#/proc/}"
		fi
	done
}

@test "three servers listed at once: valid names in a stable order, executables win a collision" {
	config
	printf '#!/bin/sh\n[ "$1" != --schema ] || exec echo "{\\"name\\":\\"ev_echo\\"}"\necho mine\n' >tools/ev_echo
	chmod +x tools/ev_echo
	run --separate-stderr tool-run -d tools -M mcp.json --list
	assert_success
	[ "$(jq -r '.[].function.name' <<<"$output" | grep -cvE '^[A-Za-z0-9_-]{1,64}$')" -eq 0 ]
	run jq -r '[.[].function.name | split("_")[0]] | unique | join(",")' <<<"$output"
	assert_output "ev,fs,mem"
	run --separate-stderr tool-run -d tools -M mcp.json --list
	[ "$(jq -c '[.[].function.name]' <<<"$output")" = "$(tool-run -d tools -M mcp.json --list 2>/dev/null | jq -c '[.[].function.name]')" ]
	[ "$(jq '[.[] | select(.function.name == "ev_echo")] | length' <<<"$output")" -eq 1 ]
	jq -e '.[0].function.name == "ev_echo" and (.[0].function.parameters == null)' <<<"$output"
	[[ $stderr == *"MCP tool ev_echo: the executable tools/ev_echo of the same name is used instead"* ]]
	[ "$(grep -c "ev_echo" <<<"$stderr")" -eq 1 ]
	jq -e '[.[] | select(.function.name == "fs_read_text_file")][0].function.parameters.properties.path.type == "string"' <<<"$output"
	jq -e 'all(.[]; .mcp == null and .function.parameters["$schema"] == null)' <<<"$output"
	[ -z "$(our_servers)" ]
}

@test "get-sum gives its sum; a file inside the root is read; one outside gets the server's error" {
	config
	calls ev_get-sum '{"a":5,"b":4}' fs_read_text_file "{\"path\":\"$TMP/root/inside.txt\"}" \
		fs_read_text_file '{"path":"/etc/hostname"}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output "The sum of 5 and 4 is 9."
	run tool-run -d tools -M mcp.json calls.json
	jq -e '.[1].content | fromjson | .content == "hello from inside\n"' <<<"$output"
	jq -e '.[2].content | fromjson | .error | test("Access denied - path outside allowed directories")' <<<"$output"
	jq -e '.[2].content | fromjson | .error | startswith("tool fs_read_text_file failed with exit status 1")' <<<"$output"
}

@test "arguments that break the server's schema never reach it" {
	config
	calls ev_get-sum '{"a":"five","b":4}' ev_get-sum '{"a":1}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	jq -e '.[0].content | fromjson | .error | startswith("invalid arguments for ev_get-sum, not run: /a: ")' <<<"$output"
	jq -e '.[1].content | fromjson | .error | test("missing required property \"b\"")' <<<"$output"
	grep -q '"tools/list"' wire.ev
	run grep -c '"tools/call"' wire.ev
	assert_output 0
}

@test "a long-running call hits -t and is cancelled; the next call on the same server works" {
	config
	mkdir hold
	tool-mcp --hold "$TMP/hold" -M mcp.json 2>holder.err &
	HOLDER=$!
	export LLM_MCP_SOCKET=$TMP/hold/mcp.sock
	calls ev_trigger-long-running-operation '{"duration":30,"steps":30}' >slow.json
	start=$SECONDS
	run --separate-stderr tool-run -d tools -T 2 slow.json
	assert_success
	[ $((SECONDS - start)) -lt $((20 * TIME_FACTOR)) ]
	jq -e '.[0].content | fromjson | .error | test("timed out after 2 s")' <<<"$output"
	for _ in $(seq 1 $((100 * TIME_FACTOR))); do
		grep -q '"notifications/cancelled"' wire.ev && break
		sleep 0.05
	done
	grep '"notifications/cancelled"' wire.ev | jq -e '.params.requestId != null'
	calls ev_get-sum '{"a":2,"b":3}' >sum.json
	run --separate-stderr tool-run -d tools sum.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output "The sum of 2 and 3 is 5."
	run cat starts.ev
	assert_output "start"
}

@test "four parallel calls start one server" {
	config
	calls ev_get-sum '{"a":1,"b":1}' ev_get-sum '{"a":2,"b":2}' \
		ev_echo '{"message":"three"}' ev_get-sum '{"a":4,"b":4}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	run jq -c '[.[].content]' <<<"$output"
	assert_output '["The sum of 1 and 1 is 2.","The sum of 2 and 2 is 4.","Echo: three","The sum of 4 and 4 is 8."]'
	run cat starts.ev
	assert_output "start"
	[ "$(grep -c '"tools/call"' wire.ev)" -eq 4 ]
	[ -z "$(our_servers)" ]
}

@test "llm-loop: an entity created in turn 1 is read in turn 2 from one server start; none is left after" {
	config
	printf '[%s,%s,%s]' \
		'{"tool_calls":[{"name":"mem_create_entities","arguments":{"entities":[{"name":"Ada","entityType":"person","observations":["wrote the first program"]}]}}]}' \
		'{"tool_calls":[{"name":"mem_read_graph","arguments":{}}]}' \
		'{"content":"done"}' >script.json
	start_mock --script script.json
	run --separate-stderr llm-loop -u "$MOCK_URL" -m test -d tools -M mcp.json "Remember Ada"
	assert_success
	assert_output "done"
	run jq -r 'select(.n == 3) | .body.messages[-1].content' mock.log
	assert_output --partial '"name":"Ada"'
	assert_output --partial "wrote the first program"
	run cat starts.mem
	assert_output "start"
	[ -z "$(our_servers)" ]
	run jq -r 'select(.n == 1) | [.body.tools[].function.name | select(startswith("mem_"))] | length' mock.log
	[ "$output" -gt 5 ]
}

# call_under_way: wait (a while) until server ev has a tools/call.
call_under_way() {
	for _ in $(seq 1 $((200 * TIME_FACTOR))); do
		grep -q '"tools/call"' wire.ev 2>/dev/null && break
		sleep 0.05
	done
	grep -q '"tools/call"' wire.ev
}

# all_gone: wait (a while) until no server of this test runs and ./tmp
# is empty.
all_gone() {
	for _ in $(seq 1 $((100 * TIME_FACTOR))); do
		[ -z "$(our_servers)" ] && [ -z "$(ls tmp)" ] && break
		sleep 0.1
	done
	[ -z "$(our_servers)" ]
}

@test "no server is left after kill -9 of llm-loop" {
	config
	printf '[%s,%s]' \
		'{"tool_calls":[{"name":"ev_trigger-long-running-operation","arguments":{"duration":60,"steps":60}}]}' \
		'{"content":"done"}' >script.json
	start_mock --script script.json
	mkdir tmp
	TMPDIR=$PWD/tmp llm-loop -u "$MOCK_URL" -m test -d tools -M mcp.json -T 120 "go" >/dev/null 2>&1 &
	loop=$!
	call_under_way
	[ -n "$(our_servers)" ]
	kill -9 "$loop"
	all_gone
	# The holders' private directories, sockets and logs went with them.
	run ls tmp
	assert_output ""
}

@test "no holder directory is left after kill -9 of tool-run" {
	config
	calls ev_trigger-long-running-operation '{"duration":60,"steps":60}' >calls.json
	mkdir tmp
	TMPDIR=$PWD/tmp tool-run -d tools -M mcp.json -T 120 calls.json >/dev/null 2>&1 &
	run_pid=$!
	call_under_way
	ls tmp/llm-mcp.*/mcp.sock
	kill -9 "$run_pid"
	all_gone
	run ls tmp
	assert_output ""
}

@test "a server gets the allowlist and its config's env, never the API key" {
	config
	export OPENAI_API_KEY=sk-secret-key SOME_TOKEN=t0ken
	jq '.mcpServers.ev.env.FROM_CONFIG = "${SOME_TOKEN}" | .mcpServers.ev.env.WITH_DEFAULT = "${UNSET_VAR:-fallback}"' mcp.json >m && mv m mcp.json
	calls ev_get-env '{}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json -e OPENAI_API_KEY calls.json
	assert_success
	env=$(jq -r '.[0].content' <<<"$output")
	jq -e '.FROM_CONFIG == "t0ken" and .WITH_DEFAULT == "fallback" and .MCPTEST != null' <<<"$env"
	jq -e 'has("OPENAI_API_KEY") | not' <<<"$env"
	jq -e 'has("SOME_TOKEN") | not' <<<"$env"
	jq -e 'has("PATH")' <<<"$env"
}

@test "tool-mcp: a call by hand, a listing, bad input and an unknown name" {
	config
	# Every holder these start has a private directory in $TMPDIR.
	mkdir tmp
	export TMPDIR=$PWD/tmp
	run --separate-stderr env TOOL_NAME=ev_get-sum tool-mcp -M mcp.json <<<'{"a":5,"b":4}'
	assert_success
	assert_output "The sum of 5 and 4 is 9."
	run --separate-stderr env TOOL_NAME=ev_get-sum tool-mcp -M mcp.json <<<'[1]'
	[ "$status" -eq 3 ]
	assert_output ""
	[ "$stderr" = "tool-mcp: arguments: not a JSON object" ]
	run --separate-stderr env TOOL_NAME=nope tool-mcp -M mcp.json <<<'{}'
	[ "$status" -eq 3 ]
	[ "$stderr" = "tool-mcp: no MCP tool is called nope" ]
	run --separate-stderr tool-mcp -l -M mcp.json
	assert_success
	jq -e 'length > 20 and all(.[]; .type == "function")' <<<"$output"
	run --separate-stderr tool-mcp -l --routes -M mcp.json
	jq -e '[.[] | select(.function.name == "fs_write_file")][0].mcp | .server == "fs" and .tool == "write_file" and .annotations.destructiveHint == true' <<<"$output"
	[ -z "$(our_servers)" ]
	run ls tmp
	assert_output ""
}

@test "tool-mcp: a bad configuration is exit 3 with the file named" {
	echo '{"mcpServers": 5}' >bad.json
	run --separate-stderr tool-mcp -l -M bad.json
	[ "$status" -eq 3 ]
	assert_output ""
	[ "$stderr" = 'tool-mcp: bad.json: no "mcpServers" object' ]
	echo 'not json' >bad.json
	run --separate-stderr tool-run -d tools -M bad.json --list
	[ "$status" -eq 3 ]
	assert_output ""
	[[ $stderr == "tool-mcp: MCP configuration (bad.json): "* ]]
}

@test "tool-mcp: a server that cannot start is reported; the others still list" {
	config
	jq '.mcpServers.broken = {"command": "/nonexistent/server"}' mcp.json >m && mv m mcp.json
	run --separate-stderr tool-run -d tools -M mcp.json --list
	assert_success
	[[ $stderr == *"tool-run: MCP server broken: exited"* ]]
	jq -e 'any(.[]; .function.name == "ev_get-sum")' <<<"$output"
}

@test "tool-mcp: prefix, tools and disabled of a server" {
	config
	jq '.mcpServers.ev.prefix = "" | .mcpServers.ev.tools = ["get-sum", "echo"] | .mcpServers.mem.disabled = true' mcp.json >m && mv m mcp.json
	run --separate-stderr tool-run -d tools -M mcp.json --list
	assert_success
	run jq -c '[.[].function.name | select(startswith("fs_") | not)]' <<<"$output"
	assert_output '["echo","get-sum"]'
	[ ! -e starts.mem ]
}

@test "tool-mcp: a server's timeout cancels a call" {
	config
	jq '.mcpServers.ev.timeout = 1000' mcp.json >m && mv m mcp.json
	calls ev_trigger-long-running-operation '{"duration":20,"steps":20}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	jq -e '.[0].content | fromjson | .error | test("MCP server ev: the call timed out after 1 s and was cancelled")' <<<"$output"
	grep -q '"notifications/cancelled"' wire.ev
}

@test "eras: a modern server is reached by server/discover and _meta, a legacy one by initialize" {
	printf '{"mcpServers":{"mo":{"command":"sh","args":["-c","tee -a %s/wire.mo | exec %s %s/modern-server.mjs"],"env":{"MCP_NODE_MODULES":"%s"}},"ev":%s}}' \
		"$TMP" "$NODE" "$BATS_TEST_DIRNAME" "$NM" "$(server ev "\"$EVERYTHING\",\"stdio\"")" >mcp.json
	calls mo_add '{"a":5,"b":4}' ev_get-sum '{"a":5,"b":4}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	run jq -c '[.[].content]' <<<"$output"
	assert_output '["9","The sum of 5 and 4 is 9."]'
	run jq -r '.method' wire.mo
	assert_output "$(printf 'server/discover\ntools/list\ntools/call')"
	jq -se 'all(.[]; .params._meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28")' wire.mo
	# It says its tools changed once it is initialized: listed again.
	run jq -r '.method' wire.ev
	assert_output "$(printf 'server/discover\ninitialize\nnotifications/initialized\ntools/list\ntools/list\ntools/call')"
	jq -se '.[1].params.protocolVersion == "2025-11-25"' wire.ev
}

# fake CONFIG-ENTRY-EXTRA: mcp.json with tests/mcp/fake-server.py as "fk".
fake() {
	printf '{"mcpServers":{"fk":{"command":"sh","args":["-c","echo start >>%s/starts.fk; exec python3 %s/fake-server.py %s/wire.fk"],"env":{"MCPTEST":"%s"}%s}}}' \
		"$TMP" "$BATS_TEST_DIRNAME" "$TMP" "$TMP" "${1:-}" >mcp.json
}

@test "MCP servers get the tools' umask: tool-run --umask, and the user's under llm-loop" {
	printf '{"mcpServers":{"fk":{"command":"sh","args":["-c","umask >%s/umask.fk; exec python3 %s/fake-server.py"]}}}' \
		"$TMP" "$BATS_TEST_DIRNAME" >mcp.json
	calls fk_one '{}' >calls.json
	(umask 077 && tool-run -d tools -M mcp.json --umask 022 -O out.json calls.json)
	assert_equal "$(cat umask.fk)" 0022
	assert_equal "$(stat -c %a out.json)" 600
	(umask 027 && tool-run -d tools -M mcp.json calls.json >/dev/null)
	assert_equal "$(cat umask.fk)" 0027
	printf '[%s,%s]' '{"tool_calls":[{"name":"fk_one","arguments":{}}]}' \
		'{"content":"done"}' >script.json
	start_mock --script script.json
	(umask 027 && llm-loop -u "$MOCK_URL" -m test -d tools -M mcp.json -k k "one" >/dev/null)
	assert_equal "$(cat umask.fk)" 0027
	assert_equal "$(stat -c %a k/001-results.json)" 600
}

@test "tools/list is followed page by page, an empty cursor included" {
	fake
	run --separate-stderr tool-run -d tools -M mcp.json --list
	assert_success
	run jq -c '[.[].function.name]' <<<"$output"
	assert_output '["fk_one","fk_two","fk_grow","fk_progress","fk_die","fk_count","fk_pid"]'
	run jq -c 'select(.method == "tools/list") | .params.cursor' wire.fk
	assert_output "$(printf 'null\n""')"
}

@test "a tools/list_changed within a run is honoured" {
	fake
	mkdir hold
	tool-mcp --hold "$TMP/hold" -M mcp.json 2>holder.err &
	HOLDER=$!
	export LLM_MCP_SOCKET=$TMP/hold/mcp.sock
	run tool-run -d tools --list
	jq -e 'all(.[]; .function.name != "fk_three")' <<<"$output"
	calls fk_grow '{}' >calls.json
	run tool-run -d tools calls.json
	run --separate-stderr tool-run -d tools --list
	jq -e 'any(.[]; .function.name == "fk_three")' <<<"$output"
	calls fk_three '{}' >calls.json
	run --separate-stderr tool-run -d tools calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output "three 2"
}

@test "a dead server gets the call an error and is started again for the next" {
	fake
	mkdir hold
	tool-mcp --hold "$TMP/hold" -M mcp.json 2>holder.err &
	HOLDER=$!
	export LLM_MCP_SOCKET=$TMP/hold/mcp.sock
	calls fk_die '{}' >calls.json
	run --separate-stderr tool-run -d tools calls.json
	assert_success
	jq -e '.[0].content | fromjson | .error | test("MCP server fk exited")' <<<"$output"
	calls fk_count '{}' >calls.json
	run --separate-stderr tool-run -d tools calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output "count 1"
	run cat starts.fk
	assert_output "$(printf 'start\nstart')"
	grep -q "MCP server fk exited; it will be restarted" holder.err
}

@test "progress notifications are shown with -v" {
	fake
	calls fk_progress '{}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json -v calls.json
	assert_success
	[[ $stderr == *"tool-mcp: fk_progress: progress 1/2 step 1"* ]]
	[[ $stderr == *"tool-mcp: fk_progress: progress 2/2 step 2"* ]]
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	[[ $stderr != *progress* ]]
}

@test "--confirm says a tool is an MCP tool and shows its annotations as unverified; -a/-x apply" {
	config
	calls fs_write_file "{\"path\":\"$TMP/root/new.txt\",\"content\":\"x\"}" ev_get-sum '{"a":1,"b":2}' >calls.json
	run /usr/bin/python3 "$BATS_TEST_DIRNAME/../fixtures/tty-answer.py" n y -- \
		sh -c 'tool-run -d tools -M mcp.json --confirm calls.json >results.json'
	[[ $output == *'run fs_write_file {"path":"'"$TMP"'/root/new.txt","content":"x"} (MCP fs:write_file; annotations say destructive, idempotent, unverified)? [y/N]'* ]]
	[[ $output == *'run ev_get-sum {"a":1,"b":2} (MCP ev:get-sum; annotations say read-only, idempotent, unverified)? [y/N]'* ]]
	run jq -r '.[].content' results.json
	assert_line --index 0 '{"error":"declined by the user: the call to fs_write_file was not run"}'
	assert_line --index 1 "The sum of 1 and 2 is 3."
	[ ! -e root/new.txt ]
	run --separate-stderr tool-run -d tools -M mcp.json -x fs_write_file calls.json
	jq -e '.[0].content | fromjson | .error == "declined by the user: fs_write_file is a denied tool"' <<<"$output"
	run --separate-stderr tool-run -d tools -M mcp.json -a ev_get-sum calls.json
	jq -e '.[0].content | fromjson | .error == "declined by the user: fs_write_file is not an allowed tool"' <<<"$output"
	[ ! -e root/new.txt ]
	run grep -c '"write_file"' wire.fs
	assert_output 0
}

@test "--sandbox default wraps the server: filesystem's write_file cannot write" {
	command -v bwrap >/dev/null || skip "bwrap is not installed"
	bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all true 2>/dev/null || skip "bwrap cannot run here"
	printf '{"mcpServers":{"fs":{"command":"%s","args":["%s","%s/root"]}}}' "$NODE" "$FILESYSTEM" "$TMP" >mcp.json
	calls fs_write_file "{\"path\":\"$TMP/root/new.txt\",\"content\":\"x\"}" >calls.json
	# The default sandbox has a private /tmp and binds the current
	# directory: run from /tmp, so that the server's root below $TMP and
	# Node (wherever this checkout is, perhaps below /tmp) are both seen.
	run --separate-stderr sh -c 'cd /tmp && exec tool-run -d "$1/tools" -M "$1/mcp.json" -B default "$1/calls.json"' sh "$TMP"
	assert_success
	jq -e '.[0].content | fromjson | .error | test("tool fs_write_file failed with exit status 1: .*(read-only|EROFS)")' <<<"$output"
	[ ! -e root/new.txt ]
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output --partial "Successfully wrote"
	[ -e root/new.txt ]
}

# A free loopback port, for server-everything's $PORT.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE: until FILE is not empty (a server's port), or fail.
wait_for() {
	local _
	for _ in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s "$1" ] && return 0
		sleep 0.025
	done
	return 1
}

@test "HTTP: server-everything over Streamable HTTP, \${VAR} in its URL" {
	port=$(free_port)
	PORT=$port "$NODE" "$EVERYTHING" streamableHttp >http.log 2>&1 &
	SERVER=$!
	for _ in $(seq 1 $((200 * TIME_FACTOR))); do
		grep -q "$port" http.log 2>/dev/null && break
		sleep 0.05
	done
	export PORT_VAR=$port
	printf '{"mcpServers":{"web":{"type":"http","url":"http://127.0.0.1:${PORT_VAR}/mcp","headers":{"X-Token":"${NO_SUCH:-t0ken}"}}}}' >mcp.json
	calls web_get-sum '{"a":5,"b":4}' web_echo '{"message":"over http"}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	kill "$SERVER"
	wait "$SERVER" 2>/dev/null || true
	assert_success
	run jq -c '[.[].content]' <<<"$output"
	assert_output '["The sum of 5 and 4 is 9.","Echo: over http"]'
}

@test "HTTP: a legacy session is kept on every message and ended with DELETE; headers from the config" {
	python3 "$BATS_TEST_DIRNAME/fake-server.py" --http "$TMP/port" "$TMP/http.log" &
	SERVER=$!
	wait_for "$TMP/port"
	export SECRET_TOKEN=t0ken
	printf '{"mcpServers":{"h":{"url":"http://127.0.0.1:%s/mcp","headers":{"X-Token":"${SECRET_TOKEN}"}}}}' "$(cat port)" >mcp.json
	calls h_one '{}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	kill "$SERVER"
	wait "$SERVER" 2>/dev/null || true
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output "one 1"
	run cat http.log
	assert_output "$(printf 'POST - server/discover t0ken\nPOST - initialize t0ken\nPOST s-1 notifications/initialized t0ken\nPOST s-1 tools/list t0ken\nPOST s-1 tools/call t0ken\nDELETE s-1 - t0ken')"
}

@test "HTTP: plain http only to loopback; a refused server is reported" {
	printf '{"mcpServers":{"far":{"type":"http","url":"http://192.0.2.1/mcp"},"old":{"type":"sse","url":"https://127.0.0.1/sse"}}}' >mcp.json
	run --separate-stderr tool-run -d tools -M mcp.json --list
	assert_success
	assert_output "[]"
	[[ $stderr == *"MCP server far: plain http is only for a loopback host; use https"* ]]
	[[ $stderr == *"MCP server old: the deprecated HTTP+SSE transport is not supported"* ]]
}

# conformance PACKAGE SCENARIO [OPTIONS]: the suite's client scenario
# against tests/mcp/conformance-client, which must pass.
conformance() {
	local pkg=$1 scenario=$2
	shift 2
	run timeout $((120 * TIME_FACTOR)) "$NODE" "$NM/$pkg/dist/index.js" client \
		--command "$BATS_TEST_DIRNAME/conformance-client" --scenario "$scenario" "$@"
	if [ "$status" -ne 0 ] || [[ $output != *"OVERALL: PASSED"* ]]; then
		printf '%s\n' "$output" | grep -E 'FAILURE|Error' >&2
		return 1
	fi
}

@test "conformance 0.1.16: the client scenarios initialize and tools_call over HTTP" {
	conformance @modelcontextprotocol/conformance initialize
	conformance @modelcontextprotocol/conformance tools_call
}

@test "conformance 0.2.0-alpha.12: the 2026-07-28 client scenarios of tools over HTTP" {
	local s
	for s in tools_call request-metadata http-standard-headers http-custom-headers \
		http-invalid-tool-headers json-schema-ref-no-deref json-schema-2020-12-preservation; do
		conformance conformance-next "$s" --spec-version 2026-07-28
	done
}

@test "the journal: a started MCP call is not run again; -o caps its result" {
	config
	calls ev_get-sum '{"a":1,"b":2}' ev_echo '{"message":"0123456789abcdefghij"}' >calls.json
	echo '{"started":"1"}' >journal
	run --separate-stderr tool-run -d tools -M mcp.json --journal journal -b 12 calls.json
	assert_success
	jq -e '.[0].content | fromjson | .error | startswith("interrupted: this call was started")' <<<"$output"
	run jq -r '.[1].content' <<<"$output"
	assert_output "$(printf 'Echo: 012345\n[output truncated at 12 bytes]')"
	run grep -c '"get-sum"' wire.ev
	assert_output 0
	run --separate-stderr tool-run -d tools -M mcp.json --journal journal calls.json
	run jq -r '.[1].content' <<<"$output"
	assert_output "$(printf 'Echo: 012345\n[output truncated at 12 bytes]')"
	[ "$(grep -c '"tools/call"' wire.ev)" -eq 1 ]
}

@test "two servers with the same tool name: the first keeps it, the other is said once; long names are cut with a hash" {
	printf '{"mcpServers":{"a":{"command":"python3","args":["%s/fake-server.py"],"prefix":""},"b":{"command":"python3","args":["%s/fake-server.py"],"prefix":""},"c":{"command":"python3","args":["%s/fake-server.py"],"prefix":"a_rather_long_prefix_that_goes_on_and_on_and_on_and_on_and_on_"}}}' \
		"$BATS_TEST_DIRNAME" "$BATS_TEST_DIRNAME" "$BATS_TEST_DIRNAME" >mcp.json
	mkdir hold
	tool-mcp --hold "$TMP/hold" -M mcp.json 2>holder.err &
	HOLDER=$!
	export LLM_MCP_SOCKET=$TMP/hold/mcp.sock
	run --separate-stderr tool-run -d tools --list
	assert_success
	run jq -r '.[].function.name' <<<"$output"
	assert_line --index 0 one
	long=$(grep '^a_rather' <<<"$output")
	[ "$(wc -l <<<"$long")" -eq 7 ]
	[ "$(sort -u <<<"$long" | wc -l)" -eq 7 ]
	[ "$(grep -cE '^a_rather_long_prefix_that_goes_on_and_on_and_on_and_on__[0-9a-f]{8}$' <<<"$long")" -eq 7 ]
	[ "$(grep -c '^one$' <<<"$output")" -eq 1 ]
	[ "$(grep -c 'MCP tool one of b: the name one is taken; skipped' <<<"$stderr")" -eq 1 ]
	run --separate-stderr tool-run -d tools --list
	[[ $stderr != *"is taken"* ]]
}

@test "the holder keeps no secret once its configuration is read" {
	[ -z "${LLM_TEST_VALGRIND:-}" ] || skip "valgrind keeps its own copy of the environment"
	config
	jq '.mcpServers.ev.env.FROM_CONFIG = "${SOME_TOKEN}"' mcp.json >m && mv m mcp.json
	mkdir hold
	OPENAI_API_KEY=sk-secret-key SOME_TOKEN=t0ken tool-mcp --hold "$TMP/hold" -M mcp.json 2>holder.err &
	HOLDER=$!
	export LLM_MCP_SOCKET=$TMP/hold/mcp.sock
	calls ev_get-env '{}' >calls.json
	run --separate-stderr tool-run -d tools calls.json
	assert_success
	jq -e '.[0].content | fromjson | .FROM_CONFIG == "t0ken"' <<<"$output"
	run tr '\0' '\n' <"/proc/$HOLDER/environ"
	refute_output --partial "sk-secret-key"
	refute_output --partial "t0ken"
}

@test "a server runs in namespaces of its own, as a tool does; -s none runs it bare" {
	fake
	calls fk_pid '{}' >calls.json
	run --separate-stderr tool-run -d tools -M mcp.json calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output 2
	run --separate-stderr tool-run -d tools -M mcp.json -B none calls.json
	run jq -r '.[0].content' <<<"$output"
	[ "$output" -gt 2 ]
}

@test "results: an image is a placeholder with its type and size, links are named, structured content is compact JSON" {
	config
	run --separate-stderr env TOOL_NAME=ev_get-tiny-image tool-mcp -M mcp.json <<<'{}'
	assert_success
	assert_line --index 1 '[image/png, 4033 bytes, not shown]'
	run --separate-stderr env TOOL_NAME=ev_get-resource-links tool-mcp -M mcp.json <<<'{"count":2}'
	assert_success
	assert_line '[resource demo://resource/dynamic/text/2]'
	run --separate-stderr env TOOL_NAME=ev_get-structured-content tool-mcp -M mcp.json <<<'{"location":"New York"}'
	assert_success
	jq -e 'keys == ["conditions","humidity","temperature"]' <<<"$output"
	[ "$(printf '%s' "$output" | wc -l)" -eq 0 ]
}
