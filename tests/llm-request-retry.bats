#!/usr/bin/env bats
# llm-request: retries, timeouts, headers and size limits.

load helper

local_setup() {
	echo '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}' >req.json
}

script() { # script REPLY... : start llm-mock with these replies in order
	local IFS=,
	printf '[%s]' "$*" >script.json
	start_mock --script script.json
}

requests() { wc -l <mock.log | tr -d ' '; }

# The waits announced on stderr, one per line.
waits() { sed -n 's/.*retrying in \([0-9.]*\) s.*/\1/p' <<<"$stderr"; }

@test "429 with retry-after-ms, then 200: waits as asked and succeeds" {
	script '{"status":429,"headers":{"retry-after-ms":"150"},"error":{"message":"Rate limit reached"}}' '{"content":"ok"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output ok
	[ "$(requests)" -eq 2 ]
	[[ $stderr == 'llm-request: HTTP 429: Rate limit reached; retrying in 0.15 s (attempt 2 of 3)' ]]
}

@test "500 three times: 3 attempts, backoff within bounds, then exit 5" {
	e='{"status":500,"error":{"message":"The server had an error"}}'
	script "$e" "$e" "$e" '{"content":"never reached"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[ "$(requests)" -eq 3 ]
	mapfile -t w < <(waits)
	[ "${#w[@]}" -eq 2 ]
	# min(0.5 * 2^n, 8) * (1 - 0.25 * random): [0.375, 0.5], [0.75, 1.0]
	awk -v a="${w[0]}" -v b="${w[1]}" 'BEGIN { exit !(a >= 0.375 && a <= 0.5 && b >= 0.75 && b <= 1.0) }'
	[[ ${stderr##*$'\n'} == 'llm-request: HTTP 500: The server had an error' ]]
}

@test "400 and 401 are not retried" {
	script '{"status":400,"error":{"message":"Invalid parameter"}}' '{"status":401,"error":{"message":"Bad key"}}' '{"content":"x"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[ "$(requests)" -eq 1 ]
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[ "$(requests)" -eq 2 ]
	[[ $stderr != *retrying* ]]
}

@test "429 insufficient_quota is not retried" {
	script '{"status":429,"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}' '{"content":"x"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[ "$(requests)" -eq 1 ]
}

@test "x-should-retry: false stops a retry of a 503" {
	script '{"status":503,"headers":{"x-should-retry":"false"}}' '{"content":"x"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 5
	[ "$(requests)" -eq 1 ]
}

@test "x-should-retry: true retries a 400" {
	script '{"status":400,"headers":{"x-should-retry":"true","retry-after-ms":"10"},"error":{"message":"try again"}}' '{"content":"second time lucky"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	[ "$(requests)" -eq 2 ]
}

@test "retry-after in seconds and as an HTTP date are honoured" {
	date=$(LC_ALL=C date -u -d '+1 second' '+%a, %d %b %Y %H:%M:%S GMT')
	script '{"status":503,"headers":{"retry-after":"0.2"}}' "{\"status\":503,\"headers\":{\"retry-after\":\"$date\"}}" '{"content":"ok"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	mapfile -t w < <(waits)
	[ "${w[0]}" = 0.20 ]
	awk -v b="${w[1]}" 'BEGIN { exit !(b >= 0 && b <= 2) }'
}

@test "a retry-after beyond 60 s is not waited: backoff instead" {
	script '{"status":429,"headers":{"retry-after":"3600"}}' '{"content":"ok"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	mapfile -t w < <(waits)
	awk -v a="${w[0]}" 'BEGIN { exit !(a >= 0.375 && a <= 0.5) }'
}

@test "-r sets the number of retries; -r 0 is one attempt" {
	e='{"status":502,"headers":{"retry-after-ms":"1"}}'
	script "$e" "$e" "$e" "$e" '{"content":"ok"}' "$e"
	run --separate-stderr llm-request -r 4 -u "$MOCK_URL" req.json
	assert_success
	[ "$(requests)" -eq 5 ]
	[[ $stderr == *"(attempt 5 of 5)"* ]]
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	[ "$(requests)" -eq 6 ]
	[[ $stderr != *retrying* ]]
}

@test "connection refused is retried, then exit 5" {
	port=$(unused_port)
	run --separate-stderr llm-request -r 1 -u "http://127.0.0.1:$port/v1" req.json
	assert_failure 5
	[ "$(grep -c 'retrying in' <<<"$stderr")" -eq 1 ]
}

@test "a dropped connection is retried and can succeed" {
	script '{"drop":true}' '{"content":"back"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output back
}

@test "-q keeps retries quiet" {
	script '{"status":500,"headers":{"retry-after-ms":"1"}}' '{"content":"ok"}'
	run --separate-stderr llm-request -q -u "$MOCK_URL" req.json
	assert_success
	[ -z "$stderr" ]
}

@test "a server that stalls in the middle of a body is cut off" {
	script '{"content":"a reply long enough to be sent in pieces","chunk_bytes":20,"chunk_delay_ms":3000}'
	start=$SECONDS
	run --separate-stderr llm-request -r 0 -i 0.5 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"the server stopped sending"* ]]
	[ $((SECONDS - start)) -lt $((3 * TIME_FACTOR)) ]
}

@test "-H adds headers; an explicit Authorization replaces the key's" {
	script '{"content":"a"}'
	OPENAI_API_KEY=sk-env-key-1111 run llm-request -H 'X-Trace: 42' -H 'Authorization: Bearer sk-flag-key-2222' -u "$MOCK_URL" req.json
	assert_success
	run jq -c '.headers | [."x-trace", .authorization]' mock.log
	assert_output '["42","Bearer ***2222"]'
}

@test "-H that is not 'Name: value' is a usage error" {
	run llm-request -H 'no colon' req.json
	assert_failure 2
	run llm-request -H $'X: a\r\nY: b' req.json
	assert_failure 2
}

@test "responses above --max-response are refused: exit 5" {
	script '{"content":"0123456789012345678901234567890123456789"}'
	run --separate-stderr llm-request --max-response 100 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"response larger than 100 bytes"* ]]
}

@test "bad numbers for the new options are usage errors" {
	run llm-request -r -1 req.json
	assert_failure 2
	run llm-request -r lots req.json
	assert_failure 2
	run llm-request --connect-timeout 0 req.json
	assert_failure 2
	run llm-request -i x req.json
	assert_failure 2
	run llm-request --max-response 0 req.json
	assert_failure 2
}
