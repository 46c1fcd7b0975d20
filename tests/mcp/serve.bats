#!/usr/bin/env bats
# tool-serve against real MCP hosts of tests/mcp/package.json (installed
# by tests/mcp/install): the inspector CLI (also from a Claude Desktop
# configuration file) and the inspector's mcpdo client in both protocol
# eras, and the conformance suite against tool-serve --http, offline.

load ../helper
load mcp

local_setup() {
	mcp_paths
	INSPECTOR_CLI=$NM/@modelcontextprotocol/inspector-cli/build/cli.js
	SERVE=$(command -v tool-serve)
	mkdir tools.d
	chmod 755 tools.d
	cp "$REPO/tools.d/add" "$REPO/tools.d/add.json" tools.d/
	# The inspector CLI reads a package.json beside its working directory.
	echo '{}' >package.json
	mkdir work
	export HOME=$TMP MCP_INSPECTOR_SECRET_STORE=file
	export MCP_INSPECTOR_DAEMON_DIR=$TMP/mcpdo
}

local_teardown() {
	if [ -n "${SERVE_PID:-}" ]; then
		kill "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" 2>/dev/null
	fi
	if [ -d "$MCP_INSPECTOR_DAEMON_DIR" ]; then
		PATH="$NM/node/bin:$PATH" node "$NM/.bin/mcpdo" daemon stop \
			>/dev/null 2>&1
	fi
}

teardown() {
	local_teardown
	stop_mock
	stop_run_holder
}

inspector() { # inspector ARGS...: inspector-cli 1.0.3 in work/
	(cd work && node "$INSPECTOR_CLI" --cli "$@")
}

mcpdo() { # mcpdo ARGS...: the inspector's mcpdo on Node 22
	PATH="$NM/node/bin:$PATH" node "$NM/.bin/mcpdo" "$@"
}

@test "inspector-cli lists the tools of tool-serve: add with its schema" {
	run --separate-stderr inspector "$SERVE" -d "$TMP/tools.d" --method tools/list
	assert_success
	json_eq "$(jq -c '.tools' <<<"$output")" "$(jq -c '[{name, description, inputSchema: .parameters}]' tools.d/add.json)"
}

@test "inspector-cli calls add through tool-serve: 9" {
	run --separate-stderr inspector "$SERVE" -d "$TMP/tools.d" \
		--method tools/call --tool-name add --tool-arg a=5 --tool-arg b=4
	assert_success
	json_eq "$output" '{"content":[{"type":"text","text":"9"}],"isError":false}'
}

@test "inspector-cli reaches tool-serve from a Claude Desktop configuration file" {
	jq -n --arg cmd "$SERVE" --arg dir "$TMP/tools.d" \
		'{mcpServers: {tools: {command: $cmd, args: ["-d", $dir]}}}' >claude_desktop_config.json
	run --separate-stderr inspector --config ../claude_desktop_config.json --server tools \
		--method tools/list
	assert_success
	run jq -c '[.tools[].name]' <<<"$output"
	assert_output '["add"]'
	run --separate-stderr inspector --config ../claude_desktop_config.json --server tools \
		--method tools/call --tool-name add --tool-arg a=2 --tool-arg b=3
	assert_success
	run jq -r '.content[0].text' <<<"$output"
	assert_output 5
}

@test "mcpdo in the legacy era: add is 9; bad arguments exit 5 with tool-run's message" {
	run --separate-stderr mcpdo connect --era legacy --connection legacy -- "$SERVE" -d "$TMP/tools.d"
	assert_success
	[[ $output == *"Era: legacy"* ]]
	run --separate-stderr mcpdo --connection legacy --format json tools/call add a:=5 b:=4
	assert_success
	json_eq "$(jq -c '{content, isError}' <<<"$output")" '{"content":[{"type":"text","text":"9"}],"isError":false}'
	run --separate-stderr mcpdo --connection legacy --format json tools/call add a:=5
	assert_equal "$status" 5
	run jq -r '.isError, .content[0].text' <<<"$output"
	assert_output $'true\ninvalid arguments for add, not run: /: missing required property "b"'
}

@test "mcpdo in the modern era (2026-07-28): discover, add is 9, bad arguments exit 5" {
	run --separate-stderr mcpdo connect --era modern --connection modern -- "$SERVE" -d "$TMP/tools.d"
	assert_success
	[[ $output == *"Era: modern"* ]]
	run --separate-stderr mcpdo --connection modern connections/show
	assert_success
	[[ $output == *"Era: modern (2026-07-28)"* ]]
	[[ $output == *"Server info: tool-serve"* ]]
	run --separate-stderr mcpdo --connection modern --format json tools/call add a:=5 b:=4
	assert_success
	json_eq "$(jq -c '{content, isError}' <<<"$output")" '{"content":[{"type":"text","text":"9"}],"isError":false}'
	run --separate-stderr mcpdo --connection modern --format json tools/call add b:=4
	assert_equal "$status" 5
	run jq -r '.isError, .content[0].text' <<<"$output"
	assert_output $'true\ninvalid arguments for add, not run: /: missing required property "a"'
}

@test "mcpdo in the auto era finds the modern one" {
	run --separate-stderr mcpdo connect --era auto --connection auto -- "$SERVE" -d "$TMP/tools.d"
	assert_success
	run --separate-stderr mcpdo --connection auto connections/show
	[[ $output == *"Era: modern (2026-07-28)"* ]]
}

# serve_http DIR: tool-serve -d DIR --http on a free loopback port; URL.
serve_http() {
	tool-serve -d "$1" --http 127.0.0.1:0 </dev/null 2>serve.err 3>&- &
	SERVE_PID=$!
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		grep -q 'serving http' serve.err 2>/dev/null && break
		sleep 0.025
	done
	URL=$(sed -n 's/^tool-serve: serving \(http:[^ ]*\)$/\1/p' serve.err)
	[ -n "$URL" ]
}

conformance() { # conformance PACKAGE ARGS...: its server mode on Node 22
	local pkg=$1
	shift
	PATH="$NM/node/bin:$PATH" node "$NM/$pkg/dist/index.js" server "$@"
}

@test "conformance 0.1.16 (2025-11-25) against tool-serve --http: the tools scenarios pass" {
	serve_http "$BATS_TEST_DIRNAME/conformance.d"
	run conformance @modelcontextprotocol/conformance --url "$URL" \
		--spec-version 2025-11-25 \
		--expected-failures "$BATS_TEST_DIRNAME/conformance-2025-11-25.yml"
	assert_success
	for s in server-initialize ping tools-list tools-call-simple-text \
		tools-call-error dns-rebinding-protection; do
		assert_line --regexp "^✓ $s: [1-9][0-9]* passed, 0 failed$"
	done
	assert_line --partial 'Baseline check passed'
	# Not in the active suite: the schema keywords kept in the listing.
	run conformance @modelcontextprotocol/conformance --url "$URL" \
		--scenario json-schema-2020-12
	assert_success
	assert_line --partial 'Passed: 4/4, 0 failed, 0 warnings'
}

# The whole 2026-07-28 suite fails where tool-serve offers nothing (no
# resources, prompts, completion, progress, input_required rounds,
# tasks, x-mcp-header parameters, non-text content) and some scenarios
# only warn that their diagnostic tools are missing: its tools scenarios
# must pass.
@test "conformance 0.2.0-alpha.12 (--requirements 2026-07-28) against tool-serve --http" {
	serve_http "$BATS_TEST_DIRNAME/conformance.d"
	run conformance conformance-next --url "$URL" --requirements 2026-07-28
	kill "$SERVE_PID"
	wait "$SERVE_PID" || true
	SERVE_PID=
	for s in tools-list tools-call-simple-text tools-call-error \
		dns-rebinding-protection; do
		assert_line --regexp "^✓ $s: [1-9][0-9]* passed, 0 failed$"
	done
}
