#!/usr/bin/env bats
# lib/httpd.c, the loopback HTTP/1.1 server under llm-mock, through a
# small server of its own (tests/httpd/echo.c): kept-alive connections,
# chunked responses, refused requests.

load helper

setup_file() {
	make -s -C "$ROOT" tests/httpd/echo >/dev/null
}

local_setup() {
	ECHO_PID=
}

local_teardown() {
	if [ -n "$ECHO_PID" ]; then
		kill "$ECHO_PID" 2>/dev/null
		wait "$ECHO_PID" 2>/dev/null
	fi
}

teardown() {
	local_teardown
	stop_mock
	stop_run_holder
}

# start_echo COUNT: the echo server for COUNT requests; sets ECHO_URL.
start_echo() {
	"$ROOT/tests/httpd/echo" "$1" >"$TMP/echo.port" 2>"$TMP/echo.err" &
	ECHO_PID=$!
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s "$TMP/echo.port" ] && break
		kill -0 "$ECHO_PID" || return 1
		sleep 0.025
	done
	ECHO_URL="http://127.0.0.1:$(cat "$TMP/echo.port")"
}

@test "requests on one connection are answered in turn while the client keeps it open" {
	start_echo 3
	w='%{num_connects} %{http_code}\n'
	run --separate-stderr curl -sS -w "$w" -o "$TMP/b1" "$ECHO_URL/one" \
		--next -sS -w "$w" -o "$TMP/b2" -d 'xyz' "$ECHO_URL/two?q=1" \
		--next -sS -w "$w" -o "$TMP/b3" "$ECHO_URL/three"
	assert_success
	assert_output "$(printf '1 200\n0 200\n0 200')"
	assert_equal "$stderr" ""
	json_eq "$(cat "$TMP/b1")" '{"n":1,"method":"GET","path":"/one","body":0}'
	json_eq "$(cat "$TMP/b2")" '{"n":2,"method":"POST","path":"/two","body":3}'
	json_eq "$(cat "$TMP/b3")" '{"n":3,"method":"GET","path":"/three","body":0}'
}

@test "Connection: close and HTTP/1.0 close the connection after the answer" {
	start_echo 4
	run curl -sS -D "$TMP/h" -w '%{num_connects}\n' -H 'Connection: close' \
		-o /dev/null "$ECHO_URL/a" -o /dev/null "$ECHO_URL/b"
	assert_success
	assert_output "$(printf '1\n1')"
	grep -qi '^Connection: close' "$TMP/h"
	run curl -sS -w '%{num_connects}\n' --http1.0 \
		-o /dev/null "$ECHO_URL/c" -o /dev/null "$ECHO_URL/d"
	assert_success
	assert_output "$(printf '1\n1')"
}

@test "a chunked response arrives whole, and the connection goes on after it" {
	start_echo 2
	run --separate-stderr curl -sS -D "$TMP/h" -w '%{num_connects}\n' \
		-o "$TMP/s" "$ECHO_URL/stream" -o "$TMP/b" "$ECHO_URL/after"
	assert_success
	assert_output "$(printf '1\n0')"
	assert_equal "$stderr" ""
	grep -qi '^Transfer-Encoding: chunked' "$TMP/h"
	grep -qi '^Content-Type: text/event-stream' "$TMP/h"
	printf 'data: 1\n\ndata: 2\n\ndata: [DONE]\n\n' | cmp - "$TMP/s"
	json_eq "$(cat "$TMP/b")" '{"n":2,"method":"GET","path":"/after","body":0}'
}

@test "a body over the cap is refused with 413 and the connection closed" {
	start_echo 2
	head -c 2000 /dev/zero | tr '\0' x >big
	w='%{http_code} %{num_connects}\n'
	run curl -sS -o "$TMP/b" -w "$w" --data-binary @big "$ECHO_URL/big" \
		--next -sS -o /dev/null -w "$w" "$ECHO_URL/next"
	assert_success
	assert_output "$(printf '413 1\n200 1')"
	[ "$(cat "$TMP/b")" = refused ]
}
