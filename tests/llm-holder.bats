# llm-holder: the connections of many llm-request processes kept in one
# process; what goes through it must come out as it would without it.
load helper
load net

local_setup() {
	unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR LLM_HOLDER
	unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
}

@test "requests of separate processes share one TLS connection" {
	start_mock --jq '{content: "hello"}'
	start_tls
	start_holder
	for i in 1 2 3; do
		run --separate-stderr llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" hello
	done
	access_lines 3
	# One connection ($connection), its requests numbered 1, 2, 3.
	assert_equal "$(connections)" 1
	assert_equal "$(awk '{print $2}' "$TMP/access.log" | tr '\n' ' ')" "1 2 3 "
	assert_equal "$(awk '{print $4}' "$TMP/access.log" | sort -u)" HTTP/2.0
	# Without the holder, each process opens its own.
	unset LLM_HOLDER
	for i in 1 2; do
		llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST" >/dev/null
	done
	access_lines 5
	assert_equal "$(connections)" 3
}

@test "streamed requests share the connection too" {
	start_mock --jq '{content: "Hello, streaming world"}'
	start_tls
	start_holder
	for i in 1 2 3; do
		run --separate-stderr llm-request -S --show --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
		[ "$status" -eq 0 ]
		assert_equal "$stderr" "Hello, streaming world"
	done
	access_lines 3
	assert_equal "$(connections)" 1
}

@test "the request reaches the server as it would without the holder" {
	start_mock --jq '{content: "hello"}'
	export OPENAI_API_KEY=sk-test-key OPENAI_ORG_ID=org-1
	llm-request -H 'X-Extra: 1' -m m1 -u "$MOCK_URL" <<<"$REQUEST" >/dev/null
	start_holder
	llm-request -H 'X-Extra: 1' -m m1 -u "$MOCK_URL" <<<"$REQUEST" >/dev/null
	direct=$(sed -n 1p "$TMP/mock.log" | jq -cS '{headers, body} | del(.headers["content-length"])')
	held=$(sed -n 2p "$TMP/mock.log" | jq -cS '{headers, body} | del(.headers["content-length"])')
	assert_equal "$held" "$direct"
	[[ $held == *'"authorization":"Bearer ***-key"'* ]]
	[[ $held == *'"x-extra":"1"'* ]]
}

@test "a body over 1 MiB goes out through the holder at once, without Expect: 100-continue" {
	start_mock --jq '{content: "ok"}'
	start_holder
	head -c 1200000 /dev/zero | tr '\0' x >big.txt
	jq -cn --rawfile s big.txt '{messages: [{role: "user", content: $s}]}' >big.json
	run --separate-stderr llm-request -u "$MOCK_URL" big.json
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" ok
	run jq -c '[.headers.expect, (.body.messages[0].content | length)]' "$TMP/mock.log"
	assert_output '[null,1200000]'
}

@test "errors, retries and exit codes are the same through the holder" {
	# Each reply in turn: a refusal, an overload then success, a body that
	# is not JSON, a truncated body.
	script='[{"status": 400, "error": {"message": "bad thing", "type": "invalid_request_error"}},
		{"status": 503, "error": {"message": "Overloaded"}, "headers": {"retry-after-ms": "10"}},
		{"content": "after a retry"},
		{"body": "not json", "headers": {"content-type": "application/json"}},
		{"content": "cut", "truncate": 10}]'
	printf '%s' "$script" >"$TMP/script.json"
	for way in direct held; do
		stop_mock
		start_mock --script "$TMP/script.json"
		[ "$way" = held ] && start_holder
		for i in 1 2 3 4; do
			run --separate-stderr llm-request -r 1 -u "$MOCK_URL" <<<"$REQUEST"
			printf '%s\n%s\n%s\n' "$status" "$(jq -c 'del(.created)' <<<"$output" 2>/dev/null || printf '%s' "$output")" "${stderr//$MOCK_URL/URL}" >>"$TMP/$way.out"
		done
	done
	# The same but for the jitter of the back-off.
	diff <(sed 's/retrying in 0\.[2-9][0-9] s/retrying in J s/' "$TMP/direct.out") \
		<(sed 's/retrying in 0\.[2-9][0-9] s/retrying in J s/' "$TMP/held.out")
	grep -q "^4$" "$TMP/held.out"
	grep -q "HTTP 503: Overloaded; retrying in 0.01 s (attempt 2 of 2)" "$TMP/held.out"
	grep -q "after a retry" "$TMP/held.out"
	grep -q "the response is not JSON" "$TMP/held.out"
}

@test "timeouts hold through the holder: -t and a body that stalls (-i)" {
	start_mock --jq 'if $n == 1 then {content: "late", delay_ms: 3000} else {content: "slow stream", chunk_bytes: 40, chunk_delay_ms: 3000} end'
	start_holder
	run --separate-stderr llm-request -r 0 -t 0.5 -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	[[ $stderr == "llm-request: $MOCK_URL/chat/completions: Operation timed out after "* ]]
	run --separate-stderr llm-request -r 0 -i 0.5 -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	assert_equal "$stderr" "llm-request: $MOCK_URL/chat/completions: the server stopped sending"
}

# stream_until_text: llm-request -S --show of REQUEST in the background
# (pid), its response in $TMP/out.json, its stderr in $TMP/err.txt; wait
# (a while) until the first text is shown there.
stream_until_text() {
	llm-request -S --show -u "$MOCK_URL" <<<"$REQUEST" >"$TMP/out.json" 2>"$TMP/err.txt" &
	pid=$!
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		[ -s "$TMP/err.txt" ] && break
		sleep 0.02
	done
}

@test "streaming with --show through the holder: the text comes as it arrives" {
	start_mock --jq '{content: "Hello, streaming world", chunk_bytes: 60, chunk_delay_ms: 150}'
	start_holder
	# The first piece of text shows while the stream is still coming.
	stream_until_text
	[ -s "$TMP/err.txt" ]
	running "$pid"
	[ ! -s "$TMP/out.json" ]
	wait "$pid"
	assert_equal "$(cat "$TMP/err.txt")" "Hello, streaming world"
	assert_equal "$(jq -r '.choices[0].message.content' "$TMP/out.json")" "Hello, streaming world"
	assert_equal "$(jq -r .object "$TMP/out.json")" chat.completion
}

@test "a holder that is gone: llm-request connects by itself" {
	start_mock --jq '{content: "hello"}'
	start_holder
	run --separate-stderr llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	kill -9 "$HOLDER_PID"
	while running "$HOLDER_PID"; do sleep 0.02; done
	[ -S "$LLM_HOLDER" ]    # a stale socket, nobody listening
	run --separate-stderr llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" hello
	LLM_HOLDER=$TMP/nothing/sock run --separate-stderr llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "a holder that dies while the request is out: a transient failure, retried directly" {
	start_mock --jq 'if $n == 1 then {content: "slow", delay_ms: 5000} else {content: "hello"} end'
	start_holder
	llm-request -u "$MOCK_URL" <<<"$REQUEST" >"$TMP/out.json" 2>"$TMP/err.txt" &
	pid=$!
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		[ -s "$TMP/mock.log" ] && break
		sleep 0.02
	done
	kill -9 "$HOLDER_PID"
	wait "$pid"
	[[ $(cat "$TMP/err.txt") == "llm-request: $MOCK_URL/chat/completions: the connection holder $LLM_HOLDER went away; retrying in "*" s (attempt 2 of 3)" ]]
	assert_equal "$(jq -r '.choices[0].message.content' "$TMP/out.json")" hello
	assert_equal "$(wc -l <"$TMP/mock.log")" 2
}

@test "a holder that dies in the middle of a stream: the stream was cut off, exit 5" {
	start_mock --jq '{content: "Hello, streaming world", chunk_bytes: 400, chunk_delay_ms: 1000}'
	start_holder
	# Once the first text has come, the stream has begun.
	stream_until_text
	kill -9 "$HOLDER_PID"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 5 ]
	[ ! -s "$TMP/out.json" ]
	[[ $(cat "$TMP/err.txt") == "Hello"*"llm-request: $MOCK_URL/chat/completions: the stream was cut off: the connection holder $LLM_HOLDER went away" ]]
}

@test "two clients at once through one holder, and two loops at once" {
	start_mock --jq '{content: "hello \($n)", delay_ms: 300}'
	start_tls
	start_holder
	llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST" >"$TMP/a.json" &
	a=$!
	llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST" >"$TMP/b.json" &
	b=$!
	wait "$a"
	wait "$b"
	assert_equal "$(jq -r '.choices[0].message.content' "$TMP/a.json" "$TMP/b.json" | sort | tr '\n' ' ')" "hello 1 hello 2 "
	unset LLM_HOLDER
	llm-loop -N --cacert "$TMP/ca.crt" -u "$TLS_URL" one >"$TMP/one.txt" &
	a=$!
	llm-loop -N --cacert "$TMP/ca.crt" -u "$TLS_URL" two >"$TMP/two.txt" &
	b=$!
	wait "$a"
	wait "$b"
	assert_equal "$(cat "$TMP/one.txt" "$TMP/two.txt" | sort | tr '\n' ' ')" "hello 3 hello 4 "
}

@test "llm-loop: one connection for the model calls of a run and of the next; the holder then idles out" {
	start_mock --jq 'if ($n % 2) == 1 then {tool_calls: [{name: "add", arguments: {a: $n, b: 1}}]} else {content: "done \($n)"} end'
	start_tls
	export TMPDIR=$TMP/tmp LLM_HOLDER_IDLE=$((2 * TIME_FACTOR))
	mkdir "$TMPDIR"
	OPENAI_API_KEY=sk-held-secret run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	[ "$status" -eq 0 ]
	assert_equal "$output" "done 2"
	# The holder stays for the next run, on the user's socket; the
	# key it saw in the loop's environment is not in its own.
	[ -S "$XDG_RUNTIME_DIR/llm-holder.$(id -u)/socket" ]
	assert_equal "$(stat -c %a "$XDG_RUNTIME_DIR/llm-holder.$(id -u)")" 700
	pid=$(pgrep -f "llm-holder --idle [^ ]* $XDG_RUNTIME_DIR/")
	# (valgrind keeps a copy of the environment of its own.)
	if [ -z "${LLM_TEST_VALGRIND:-}" ]; then
		environ=$(tr '\0' '\n' <"/proc/$pid/environ")
		[[ $environ == *PATH=* ]]
		[[ $environ != *sk-held-secret* ]]
	fi
	assert_equal "$(readlink "/proc/$pid/cwd")" /
	run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	[ "$status" -eq 0 ]
	assert_equal "$output" "done 4"
	access_lines 4
	assert_equal "$(connections)" 1
	assert_equal "$(ls -A "$TMPDIR")" ""
	# Its idle time over, it goes, and its socket with it.
	no_process "llm-holder --idle [^ ]* $XDG_RUNTIME_DIR/" 5
	[ ! -e "$XDG_RUNTIME_DIR/llm-holder.$(id -u)/socket" ]
}

@test "llm-loop: runs with other proxy settings keep a holder of their own" {
	start_mock --jq 'if ($n % 2) == 1 then {tool_calls: [{name: "add", arguments: {a: $n, b: 1}}]} else {content: "done \($n)"} end'
	start_tls
	run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	assert_equal "$output" "done 2"
	# Direct all the same (no_proxy), but other settings: a holder of
	# their own, whose one connection serves both calls of this run.
	https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1 run --separate-stderr \
		llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	assert_equal "$output" "done 4"
	access_lines 4
	assert_equal "$(connections)" 2
	run ls "$XDG_RUNTIME_DIR"
	assert_equal "${#lines[@]}" 2
	assert_line "llm-holder.$(id -u)"
	assert_line --regexp "^llm-holder\.$(id -u)\.[0-9]+$"
}

@test "LLM_HOLDER_IDLE=0, or a shared directory that is not the user's alone: a holder for the run, none left behind" {
	start_mock --jq 'if $n < 4 then {tool_calls: [{name: "add", arguments: {a: $n, b: 1}}]} else {content: "done"} end'
	start_tls
	export TMPDIR=$TMP/tmp
	mkdir "$TMPDIR"
	LLM_HOLDER_IDLE=0 run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	[ "$status" -eq 0 ]
	assert_equal "$output" done
	access_lines 4
	assert_equal "$(connections)" 1
	assert_equal "$(ls -A "$TMPDIR")" ""
	# The holder, whose socket was under $TMPDIR, is gone too.
	no_process "llm-holder --watch .* $TMPDIR/" 5
	[ ! -e "$XDG_RUNTIME_DIR/llm-holder.$(id -u)" ]
	# A shared directory open to others is not used.
	mkdir -m 755 "$XDG_RUNTIME_DIR/llm-holder.$(id -u)"
	run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	[ "$status" -eq 0 ]
	assert_equal "$output" done
	assert_equal "$(ls -A "$XDG_RUNTIME_DIR/llm-holder.$(id -u)")" ""
	no_process "llm-holder --watch .* $TMPDIR/" 5
	assert_equal "$(ls -A "$TMPDIR")" ""
	run --separate-stderr env LLM_HOLDER_IDLE=soon llm-loop -u "$TLS_URL" "add"
	assert_failure 2
	assert_equal "$stderr" "llm-loop: LLM_HOLDER_IDLE: not a number of seconds: soon"
}

@test "the socket's directory must be private; the socket is the user's alone" {
	mkdir -m 755 "$TMP/open"
	run --separate-stderr llm-holder "$TMP/open/sock"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "llm-holder: $TMP/open: the socket's directory must be yours alone (mode 0700), not a link"
	# A link, as one planted in /tmp, is not followed, even to a
	# private directory of the user's.
	mkdir -m 700 "$TMP/private"
	ln -s "$TMP/private" "$TMP/link"
	run --separate-stderr llm-holder "$TMP/link/sock"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "llm-holder: $TMP/link: the socket's directory must be yours alone (mode 0700), not a link"
	assert_equal "$(ls -A "$TMP/private")" ""
	start_holder
	assert_equal "$(stat -c %a "$TMP/hold")" 700
	assert_equal "$(stat -c %a "$LLM_HOLDER")" 600
}

@test "another user cannot use the holder, and llm-request sends nothing to another user's" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as nobody"
	start_mock --jq '{content: "hello"}'
	start_tls
	start_holder
	chmod 755 "$TMP" "$BATS_RUN_TMPDIR" "$(dirname "$TMP")" 2>/dev/null || true
	chmod 644 "$TMP/ca.crt"
	llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST" >/dev/null
	# Even were the socket file in reach (a hard link, open to all), the
	# holder answers only its own user: nobody's request goes directly.
	mkdir -m 777 "$TMP/public"
	ln "$LLM_HOLDER" "$TMP/public/sock"
	chmod 666 "$LLM_HOLDER"
	# (Under valgrind, whose logs nobody cannot write, nobody runs the
	# plain build; the holder is still the one under test.)
	client=$(command -v llm-request)
	[ -z "${LLM_TEST_VALGRIND:-}" ] || client=$ROOT/bin/llm-request
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env LLM_HOLDER="$TMP/public/sock" "$client" \
		--cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	access_lines 2
	assert_equal "$(connections)" 2
	# A socket of another user gets neither the request nor the key.
	mkdir -m 777 "$TMP/theirs"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[2], "w").close()
c, _ = s.accept(); c.settimeout(2)
try: data = c.recv(65536)
except OSError: data = b""
open(sys.argv[3], "wb").write(data)' "$TMP/theirs/sock" "$TMP/theirs/ready" "$TMP/theirs/got" &
	listener=$!
	while [ ! -e "$TMP/theirs/ready" ]; do sleep 0.02; done
	OPENAI_API_KEY=sk-secret LLM_HOLDER=$TMP/theirs/sock run --separate-stderr \
		llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	wait "$listener"
	[ -e "$TMP/theirs/got" ]
	[ ! -s "$TMP/theirs/got" ]
}

@test "a holder's environment and memory are closed to the user's other processes" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as nobody"
	chmod 755 "$TMP" "$BATS_RUN_TMPDIR" "$(dirname "$TMP")" 2>/dev/null || true
	mkdir -m 700 "$TMP/nb"
	chown nobody "$TMP/nb"
	# (Under valgrind, whose logs nobody cannot write, nobody runs the
	# plain build.)
	holder=$(command -v llm-holder)
	[ -z "${LLM_TEST_VALGRIND:-}" ] || holder=$ROOT/bin/llm-holder
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	pid=$(as_nobody "$holder" --idle 30 "$TMP/nb/sock")
	HOLDER_PIDS="$HOLDER_PIDS $pid"
	running "$pid"
	# The same user, another process: no environment, no memory.
	run as_nobody cat "/proc/$pid/environ"
	assert_failure
	[[ $output == *"Permission denied"* ]]
	run as_nobody head -c 1 "/proc/$pid/mem"
	assert_failure
	# A process of the same user that the holder does not shield is
	# readable: the check itself can fail.
	setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 30 &
	sleeper=$!
	for _ in $(seq 1 $((100 * TIME_FACTOR))); do
		[ "$(stat -c %U "/proc/$sleeper")" = nobody ] && break
		sleep 0.02
	done
	run as_nobody cat "/proc/$sleeper/environ"
	kill "$sleeper"
	assert_success
}

@test "a holder exits after its idle time and removes its socket" {
	start_holder --idle 0.3
	ended "$HOLDER_PID"
	[ ! -e "$LLM_HOLDER" ]
	# The directory is the user's: it stays.
	[ -d "$TMP/hold" ]
}

@test "with --remove-dir the socket's directory goes too, when the watched process is killed" {
	sleep 60 &
	watched=$!
	start_holder --watch "$watched" --remove-dir
	[ -S "$LLM_HOLDER" ]
	kill -9 "$watched"
	ended "$HOLDER_PID"
	[ ! -e "$TMP/hold" ]
	# A directory with something else in it is left alone.
	start_holder --idle 0.3 --remove-dir
	touch "$TMP/hold/other"
	ended "$HOLDER_PID"
	[ ! -e "$LLM_HOLDER" ]
	[ -e "$TMP/hold/other" ]
}

@test "a holder started with other proxy settings is not used" {
	start_mock --jq '{content: "hello"}'
	start_holder
	dead=$(unused_port)
	run --separate-stderr env http_proxy="http://127.0.0.1:$dead" llm-request -r 0 -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 5 ]
	[[ $stderr == *"127.0.0.1 port $dead"* ]]
	[ ! -s "$TMP/mock.log" ]
}

@test "llm-holder: usage, --help, --version" {
	run --separate-stderr llm-holder
	[ "$status" -eq 2 ]
	[[ $stderr == "usage: llm-holder "* ]]
	run --separate-stderr llm-holder --idle 0 "$TMP/x"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "llm-holder: --idle: not a positive number of seconds: 0"
	run llm-holder --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: llm-holder [--foreground] [--idle SECONDS] [--watch PID] [--remove-dir] SOCKET"* ]]
	run llm-holder --version
	assert_output "llm-holder 0.1.0"
	start_holder
	run --separate-stderr llm-holder "$LLM_HOLDER"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "llm-holder: $LLM_HOLDER: a holder already listens there"
	# The holder that was asked, by a connection that sent nothing,
	# goes on serving.
	start_mock --jq '{content: "still here"}'
	run --separate-stderr llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" "still here"
	running "$HOLDER_PID"
}

@test "through a holder llm-request does not load libcurl; directly it does" {
	start_mock --jq '{content: "late", delay_ms: 1000}'
	start_holder
	for way in held direct; do
		[ "$way" = direct ] && unset LLM_HOLDER
		llm-request -u "$MOCK_URL" <<<"$REQUEST" >"$TMP/$way.json" &
		pid=$!
		# While it waits for the answer, its mappings are settled.
		for i in $(seq 1 $((100 * TIME_FACTOR))); do
			[ "$(wc -l <"$TMP/mock.log")" -ge "$([ "$way" = held ] && echo 1 || echo 2)" ] && break
			sleep 0.02
		done
		grep -c 'libcurl' "/proc/$pid/maps" >"$TMP/$way.maps" || true
		wait "$pid"
		assert_equal "$(jq -r '.choices[0].message.content' "$TMP/$way.json")" late
	done
	assert_equal "$(cat "$TMP/held.maps")" 0
	[ "$(cat "$TMP/direct.maps")" -gt 0 ]
}

@test "llm-loop uses the holder \$LLM_HOLDER names, and leaves it running" {
	start_mock --jq 'if $n == 2 then {tool_calls: [{name: "add", arguments: {a: 1, b: 2}}]} else {content: "done"} end'
	start_tls
	start_holder
	llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST" >/dev/null
	run --separate-stderr llm-loop -d "$ROOT/tools.d" --cacert "$TMP/ca.crt" -u "$TLS_URL" "add"
	[ "$status" -eq 0 ]
	assert_equal "$output" done
	access_lines 3
	assert_equal "$(connections)" 1
	running "$HOLDER_PID"
}
