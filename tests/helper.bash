# Loaded by every test file: fresh bin/ first on PATH, a private temp
# dir as the working directory, no API settings from the caller, and a
# loopback llm-mock on a free port that teardown always stops.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# The programs under test: bin/, or a sanitizer or valgrind build of them.
PATH="${LLM_TEST_BIN:-$ROOT/bin}:$PATH"
export PATH
# Time bounds stretch by this factor under sanitizers and valgrind.
TIME_FACTOR=${LLM_TEST_TIME_FACTOR:-1}
MOCK_PID=

setup() {
	TMP="$BATS_TEST_TMPDIR"
	cd "$TMP" || return 1
	unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_ORG_ID OPENAI_PROJECT_ID
	unset LLM_MODEL LLM_TOOLS_DIR LLM_RUNS_DIR LLM_NO_STORE
	# Runs are kept here, never in the caller's state directory.
	export XDG_STATE_HOME="$TMP/state"
	# No tools directory of the user's own configuration.
	export XDG_CONFIG_HOME="$TMP/.config"
	# --schema answers are cached here, never in the caller's cache.
	export XDG_CACHE_HOME="$TMP/cache"
	# The connection holder llm-loop leaves for the next runs listens
	# here: each test has its own, stopped with the mock.
	unset LLM_HOLDER LLM_HOLDER_IDLE
	export XDG_RUNTIME_DIR="$TMP/run"
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	export LC_ALL=C.UTF-8
	# Programs that read piped text must not wait on the caller's stdin.
	exec </dev/null
	if declare -F local_setup >/dev/null; then local_setup; fi
}

teardown() {
	stop_mock
	stop_run_holder
}

# start_mock ARGS...: run llm-mock with ARGS on a free port, logging to
# $TMP/mock.log; sets MOCK_PORT and MOCK_URL (the /v1 base URL). The
# server is $MOCK_BIN, else $LLM_TEST_MOCK (a plain build while the
# programs under test run under valgrind), else llm-mock.
start_mock() {
	rm -f "$TMP/mock.port"
	"${MOCK_BIN:-${LLM_TEST_MOCK:-llm-mock}}" -p 0 \
		--port-file "$TMP/mock.port" --log "$TMP/mock.log" "$@" \
		>/dev/null 2>"$TMP/mock.err" 3>&- &
	MOCK_PID=$!
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s "$TMP/mock.port" ] && break
		if ! kill -0 "$MOCK_PID" 2>/dev/null; then
			cat "$TMP/mock.err" >&2
			MOCK_PID=
			return 1
		fi
		sleep 0.025
	done
	MOCK_PORT=$(cat "$TMP/mock.port")
	MOCK_URL="http://127.0.0.1:$MOCK_PORT/v1"
	export MOCK_PORT MOCK_URL
}

stop_mock() {
	if [ -n "$MOCK_PID" ]; then
		kill "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
		MOCK_PID=
	fi
}

# no_process PATTERN [SECONDS]: wait until no process's command line
# matches PATTERN, for SECONDS (1) times TIME_FACTOR at most; fails if
# one still does.
no_process() {
	for _ in $(seq 1 $((20 * ${2:-1} * TIME_FACTOR))); do
		pgrep -f "$1" >/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# stop_run_holder: stop the holder llm-loop left for the next runs of
# this test; every teardown calls it.
stop_run_holder() {
	pkill -f -- "llm-holder --idle [^ ]* $TMP/run/" || true
}

# json_eq A B: A and B are the same JSON, compared canonically.
json_eq() {
	local a b
	a=$(printf '%s' "$1" | jq -cS .) || return 1
	b=$(printf '%s' "$2" | jq -cS .) || return 1
	if [ "$a" != "$b" ]; then
		printf 'expected: %s\nactual:   %s\n' "$b" "$a" >&2
		return 1
	fi
}

# Is process PID still running (not gone, not a zombie)?
running() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}

# A number of seconds no other process sleeps: a tool's "sleep N" is
# found with pgrep -f whatever its PID in its own namespace.
unique_seconds() {
	echo "1000.$$$RANDOM$RANDOM"
}

# A free TCP port on 127.0.0.1 that nothing listens on.
unused_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
