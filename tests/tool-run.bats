#!/usr/bin/env bats
# tool-run: every call gets a result, in call order; tools run directly,
# with their arguments on stdin, without secrets.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR=tools.d
	tool echo_args 'cat'
	tool show_env 'printf "%s|%s|%s" "$TOOL_NAME" "$TOOL_CALL_ID" "${OPENAI_API_KEY:-none}"'
	tool fail 'echo "no such city: Atlantis" >&2; exit 3'
	tool nap 'sleep 0.5; echo rested'
	echo '{"name":"echo_args","description":"Echo.","parameters":{"type":"object"}}' >tools.d/echo_args.json
}

# tool NAME BODY: an executable sh tool in ./tools.d
tool() {
	printf '#!/bin/sh\n%s\n' "$2" >"tools.d/$1"
	chmod +x "tools.d/$1"
}

call() { # call ID NAME ARGUMENTS_JSON_STRING
	printf '{"id":"%s","type":"function","function":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"
}

@test "runs a tool with its arguments on stdin and returns its stdout" {
	echo "[$(call c1 echo_args '"{\"a\":5}"')]" >calls.json
	run --separate-stderr tool-run calls.json
	assert_success
	json_eq "$output" '[{"role":"tool","tool_call_id":"c1","content":"{\"a\":5}"}]'
	[ -z "$stderr" ]
}

@test "TOOL_NAME and TOOL_CALL_ID are set; OPENAI_API_KEY never reaches a tool" {
	echo "[$(call c9 show_env '"{}"')]" >calls.json
	OPENAI_API_KEY=sk-secret run tool-run calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output 'show_env|c9|none'
}

@test "results come in call order, whatever order the tools finish in" {
	echo "[$(call a nap '"{}"'),$(call b echo_args '"{\"n\":2}"'),$(call c nap '"{}"')]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -c '[.[].tool_call_id]' <<<"$output"
	assert_output '["a","b","c"]'
}

@test "the calls of one response run at the same time" {
	echo "[$(call a nap '"{}"'),$(call b nap '"{}"'),$(call c nap '"{}"'),$(call d nap '"{}"')]" >calls.json
	start=$(date +%s%N)
	run tool-run calls.json
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	assert_success
	# Four 0.5 s tools one after another take 2 s.
	[ "$elapsed_ms" -lt $((1500 * TIME_FACTOR)) ]
}

@test "a failing tool yields an error result with its stderr; exit 0" {
	echo "[$(call f fail '"{}"')]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'tool fail failed with exit status 3: no such city: Atlantis'
}

@test "an unknown tool yields an error listing the available tools" {
	echo "[$(call u nope '"{}"')]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'unknown tool "nope"; available tools: echo_args, fail, nap, show_env'
}

@test "names that are paths or invalid are never run" {
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$TMP" >evil
	chmod +x evil
	tool .hidden 'touch ran'
	echo "[$(call a ../evil '"{}"'),$(call b /bin/true '"{}"'),$(call c .hidden '"{}"'),$(call d echo_args.json '"{}"'),$(call e '' '"{}"')]" >calls.json
	run tool-run calls.json
	assert_success
	[ ! -e ran ]
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	[ "${#lines[@]}" -eq 5 ]
	[[ ${lines[0]} == 'invalid tool name "../evil"'* ]]
	[[ ${lines[1]} == 'invalid tool name "/bin/true"'* ]]
	[[ ${lines[2]} == 'invalid tool name ".hidden"'* ]]
	[[ ${lines[3]} == 'invalid tool name "echo_args.json"'* ]]
}

@test "directories and files that are not executable are not tools" {
	mkdir tools.d/adir
	echo 'echo hi' >tools.d/plain
	echo "[$(call a adir '"{}"'),$(call b plain '"{}"')]" >calls.json
	run tool-run calls.json
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	[[ ${lines[0]} == 'unknown tool "adir"'* ]]
	[[ ${lines[1]} == 'unknown tool "plain"'* ]]
}

@test "arguments that are not JSON or not an object are not run" {
	echo "[$(call a echo_args '"{\"city\": "'),$(call b echo_args '"[1,2]"')]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -r '.[].content | fromjson | .error' <<<"$output"
	[[ ${lines[0]} == 'the arguments are not valid JSON'* ]]
	assert_line --index 1 'the arguments must be a JSON object (got array)'
}

@test "a tool that runs too long is stopped with its whole process group" {
	n=$(unique_seconds)
	tool hang "sleep $n & sleep $n"
	echo "[$(call h hang '"{}"')]" >calls.json
	run tool-run -T 0.5 calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'tool hang timed out after 0.5 s and was stopped'
	sleep 0.2
	! pgrep -f "sleep $n"
}

@test "a tool that ignores stdin and floods stdout cannot hang tool-run" {
	tool flood 'head -c 3000000 /dev/zero | tr "\0" x'
	big=$(head -c 200000 /dev/zero | tr '\0' y)
	printf '[{"id":"f","function":{"name":"flood","arguments":"{\\"pad\\":\\"%s\\"}"}}]' "$big" >calls.json
	run tool-run -T 10 calls.json
	assert_success
	run jq -r '.[0].content | length' <<<"$output"
	[ "$output" -gt 1048576 ]
	[ "$output" -lt 1048700 ]
	run tool-run -T 10 calls.json
	[[ $output == *'[output truncated at 1048576 bytes]'* ]]
}

@test "a tool that cannot be executed yields an error result" {
	[ -z "${LLM_TEST_VALGRIND:-}" ] || skip "valgrind cannot survive a failed execve"
	printf '#!/nonexistent/interpreter\n' >tools.d/broken
	chmod +x tools.d/broken
	echo "[$(call b broken '"{}"')]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'tool broken could not be started: No such file or directory'
}

@test "-d and LLM_TOOLS_DIR choose the directory" {
	mkdir other
	printf '#!/bin/sh\necho other\n' >other/echo_args
	chmod +x other/echo_args
	echo "[$(call a echo_args '"{}"')]" >calls.json
	run tool-run -d other calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output other
	LLM_TOOLS_DIR=other run tool-run calls.json
	run jq -r '.[0].content' <<<"$output"
	assert_output other
}

@test "--list prints the tools array from sidecars and --schema" {
	tool with_schema '[ "${1:-}" = --schema ] && echo "{\"name\":\"with_schema\",\"description\":\"Self-described.\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}"'
	run --separate-stderr tool-run --list
	assert_success
	run jq -c '[.[] | [.type, .function.name, .function.description]]' <<<"$output"
	assert_output '[["function","echo_args","Echo."],["function","with_schema","Self-described."]]'
	# Tools without a schema are skipped with a warning each.
	[[ $stderr == *"tools.d/fail: skipped"* ]]
}

@test "--list on the shipped tools gives a valid tools array" {
	run tool-run -d "$ROOT/tools.d" --list
	assert_success
	run jq -c '[.[].function.name] | sort' <<<"$output"
	assert_output '["add","get_order_status","get_time","get_weather","search_products"]'
}

@test "bad input exits 3 with nothing on stdout" {
	for doc in '' '{' '{}' '[{"function":{"name":"x"}}]'; do
		run --separate-stderr tool-run <<<"$doc"
		assert_failure 3
		assert_output ''
		[[ $stderr == tool-run:* ]]
	done
}

@test "an empty array gives an empty array" {
	run tool-run <<<'[]'
	assert_success
	assert_output '[]'
}

@test "usage errors exit 2" {
	run tool-run -T 0 x
	assert_failure 2
	run tool-run -T abc
	assert_failure 2
	run tool-run --list extra
	assert_failure 2
	run tool-run --version
	assert_output 'tool-run 0.1.0'
}

@test "empty arguments are {}, as tool-extract reads them" {
	echo "[$(call a echo_args '""'),$(call b echo_args null)]" >calls.json
	run tool-run calls.json
	assert_success
	run jq -c '[.[].content]' <<<"$output"
	assert_output '["{}","{}"]'
}

@test "a name with a NUL byte in it is never run as the name before it" {
	printf '[{"id":"n","function":{"name":"echo_args\\u0000x","arguments":"{}"}}]' >calls.json
	run tool-run calls.json
	assert_success
	run jq -r '.[0].content | fromjson | .error' <<<"$output"
	assert_output 'invalid tool name: it holds a NUL byte'
}

@test "the most -M files, with -d, -B and -v, all reach the MCP holder" {
	echo '{"mcpServers":{}}' >empty.json
	set --
	for i in $(seq 1 32); do
		set -- "$@" -M empty.json
	done
	run --separate-stderr tool-run -l -v -B none -d tools.d "$@"
	assert_success
	jq -e 'all(.[]; .type == "function")' <<<"$output"
	run --separate-stderr tool-run -l "$@" -M empty.json
	assert_failure 2
	assert_equal "$stderr" "tool-run: -M: at most 32 files"
}
