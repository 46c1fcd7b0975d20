# The setup of the tool-serve tests (load serve after helper): a tools
# directory holding add, tool NAME BODY for more, the _meta of a modern
# request, and the server started (SERVE_PID, its stdin on fd 4 over
# stdio) stopped after each test.

# shellcheck disable=SC2034 # used by the files that load this one
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'

local_setup() {
	mkdir tools.d
	chmod 755 tools.d
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
	SERVE_PID=
}

teardown() {
	if [ -n "$SERVE_PID" ]; then
		exec 4>&-
		kill "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" 2>/dev/null
	fi
	stop_mock
}

tool() { # tool NAME BODY: a tool, listed with no parameters
	printf '#!/bin/sh\n%s\n' "$2" >"tools.d/$1"
	chmod 755 "tools.d/$1"
	echo '{"parameters":{"type":"object"}}' >"tools.d/$1.json"
}

