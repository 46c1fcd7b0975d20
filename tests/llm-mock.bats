#!/usr/bin/env bats
# llm-mock: the loopback Chat Completions server, driven with curl.

load helper

# The server itself is under test here, in whatever build is tested.
MOCK_BIN=llm-mock
bats_require_minimum_version 1.5.0

# chat BODY [CURL-ARGS...]: POST BODY to the chat path; the answer's
# headers go to $TMP/h, its body to $TMP/b, the status code to stdout.
chat() {
	local body=$1
	shift
	curl -sS -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' "$@" \
		"$MOCK_URL/chat/completions" -d "$body"
}

# header NAME: the value of header NAME in $TMP/h (without the CR).
header() {
	sed -n "s/^$1: *//Ip" "$TMP/h" | tr -d '\r'
}

# chunks: the JSON chunks of the event stream in $TMP/b, one per line.
chunks() {
	sed -n 's/^data: \({.*\)$/\1/p' "$TMP/b"
}

# exchange BYTES: send BYTES (printf %b) on a raw connection; print the
# status line of the answer.
exchange() {
	exec 5<>"/dev/tcp/127.0.0.1/$MOCK_PORT"
	printf '%b' "$1" >&5
	timeout 5 head -n 1 <&5 | tr -d '\r'
	exec 5>&-
}

# wait_gone PID: wait up to 5 s for PID (a child) to exit; its exit
# status, or 1 after killing it when it is still there.
wait_gone() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"
		wait "$1"
		return 1
	fi
	wait "$1"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "--version and -V print the version" {
	run --separate-stderr llm-mock --version
	assert_success
	assert_output 'llm-mock 0.1.0'
	[ -z "$stderr" ]
	run --separate-stderr llm-mock -V
	assert_success
	assert_output 'llm-mock 0.1.0'
}

@test "--help prints the usage and the options on stdout" {
	run --separate-stderr llm-mock --help
	assert_success
	assert_line --index 0 'usage: llm-mock [-p PORT] [--port-file PORTFILE] [--log LOGFILE] [--count COUNT]'
	assert_line --index 1 --partial '(--script SCRIPT | --jq-file JQFILE | --jq JQPROGRAM)'
	assert_line --partial '    --jq-file FILE'
	[ -z "$stderr" ]
}

@test "a reply source is required" {
	run --separate-stderr llm-mock -p 0
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"llm-mock: a reply source is required"* ]]
	[[ "$stderr" == *"usage: llm-mock"* ]]
}

@test "only one reply source is allowed" {
	echo '[]' >s.json
	run --separate-stderr llm-mock --script s.json --jq '{}'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"only one of --script, --jq-file and --jq"* ]]
}

@test "bad numbers, unknown options and operands are usage errors" {
	run --separate-stderr llm-mock -p 70000 --jq '{}'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"bad port: 70000"* ]]
	run --separate-stderr llm-mock --count=0 --jq '{}'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"bad count: 0"* ]]
	run --separate-stderr llm-mock --no-such-option --jq '{}'
	[ "$status" -eq 2 ]
	[[ "$stderr" == llm-mock:* ]]
	run --separate-stderr llm-mock --jq '{}' extra
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"unexpected operand: extra"* ]]
}

@test "a script that is not an array of objects is bad input" {
	echo '{"content": "x"}' >s.json
	run --separate-stderr llm-mock --script s.json
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"script s.json: object, not an array of replies"* ]]
	echo '[{}, "text"]' >s.json
	run --separate-stderr llm-mock --script s.json
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"reply 2: string, not an object"* ]]
	echo '[{' >s.json
	run --separate-stderr llm-mock --script s.json
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"not a JSON document"* ]]
	run --separate-stderr llm-mock --script missing.json
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"missing.json"* ]]
}

@test "a jq program that does not compile is bad input" {
	run --separate-stderr llm-mock --jq '{content: $nope}'
	[ "$status" -eq 3 ]
	[[ "$stderr" == *'llm-mock: jq program: error: $nope is not defined'* ]]
	[[ "$stderr" != *'.[0] as $n'* ]]
	run --separate-stderr llm-mock --jq-file missing.jq
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"missing.jq"* ]]
}

@test "prints the port on stdout and writes the port file" {
	llm-mock --port-file port --jq '{}' >out 2>err 3>&- &
	MOCK_PID=$!
	for _ in $(seq 1 100); do [ -s port ] && break; sleep 0.05; done
	[ "$(cat port)" -gt 0 ]
	[ "$(cat out)" = "$(cat port)" ]
	[ ! -e port.tmp ]
	run curl -sS "http://127.0.0.1:$(cat port)/v1/models"
	assert_success
}

@test "a port in use cannot be bound" {
	start_mock --jq '{}'
	run --separate-stderr llm-mock -p "$MOCK_PORT" --jq '{}'
	[ "$status" -eq 5 ]
	[[ "$stderr" == *"llm-mock: bind 127.0.0.1:$MOCK_PORT:"* ]]
}

@test "script replies come in order, then the script is exhausted" {
	echo '[{"content": "one"}, {"content": "two"}]' >s.json
	start_mock --script s.json
	run chat '{"messages":[]}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = one ]
	run chat '{"messages":[]}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = two ]
	run chat '{"messages":[]}'
	assert_output 500
	json_eq "$(cat "$TMP/b")" '{"error":{"message":"llm-mock: script exhausted after 2 replies","type":"server_error","param":null,"code":null}}'
	grep -q 'request 3: script exhausted after 2 replies' "$TMP/mock.err"
}

@test "a jq program sees the request body and \$n" {
	start_mock --jq '{content: "\($n): \(.messages[0].content)"}'
	run chat '{"messages":[{"role":"user","content":"hi"}]}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = '1: hi' ]
	[ "$(jq -r .id "$TMP/b")" = chatcmpl-mock-1 ]
	run chat '{"messages":[{"role":"user","content":"again"}]}'
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = '2: again' ]
	[ "$(jq -r .id "$TMP/b")" = chatcmpl-mock-2 ]
}

@test "a jq program from a file; its errors and silence are 500s" {
	cat >model.jq <<-'EOF'
	# a comment on the last line must not swallow anything
	if $n == 1 then error("no such model") elif $n == 2 then empty
	else {content: "ok"} end # done
	EOF
	start_mock --jq-file model.jq
	run chat '{}'
	assert_output 500
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: jq: no such model' ]
	[ "$(jq -r .error.type "$TMP/b")" = server_error ]
	run chat '{}'
	assert_output 500
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: jq: no output' ]
	run chat '{}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = ok ]
}

@test "a tool_calls spec gives a whole chat.completion" {
	start_mock --jq '{tool_calls: [{name: "get_weather", arguments: {city: "Paris"}}, {id: "call_x", name: "get_time", arguments: "{\"tz\":\"UTC\"}"}]}'
	run chat '{"model":"gpt-test","messages":[{"role":"user","content":"weather?"}]}'
	assert_output 200
	[ "$(header content-type)" = application/json ]
	[ "$(header content-length)" = "$(wc -c <"$TMP/b")" ]
	[ "$(header connection)" = close ]
	jq -e '.created | type == "number" and . > 1600000000' "$TMP/b"
	# usage: 68 request bytes / 4, and 28 argument bytes / 4
	json_eq "$(jq 'del(.created)' "$TMP/b")" '{
	  "id": "chatcmpl-mock-1", "object": "chat.completion", "model": "gpt-test",
	  "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
	    "message": {"role": "assistant", "content": null, "refusal": null,
	      "tool_calls": [
	        {"id": "call_1_0", "type": "function",
	         "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
	        {"id": "call_x", "type": "function",
	         "function": {"name": "get_time", "arguments": "{\"tz\":\"UTC\"}"}}]}}],
	  "usage": {"prompt_tokens": 17, "completion_tokens": 7, "total_tokens": 24}}'
}

@test "spec defaults and explicit fields: model, finish_reason, usage, refusal" {
	start_mock --jq 'if $n == 1 then {content: "hi"} else {refusal: "no", finish_reason: "length", model: "m2", usage: {prompt_tokens: 1, completion_tokens: 2, total_tokens: 3}} end'
	run chat '{"messages":[]}'
	json_eq "$(jq -c '[.model, .choices[0].finish_reason, .choices[0].message, .usage]' "$TMP/b")" \
		'["mock","stop",{"role":"assistant","content":"hi","refusal":null},{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}]'
	run chat '{"model":"asked","messages":[]}'
	json_eq "$(jq -c '[.model, .choices[0].finish_reason, .choices[0].message, .usage]' "$TMP/b")" \
		'["m2","length",{"role":"assistant","content":null,"refusal":"no"},{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}]'
}

@test "a reply with choices is sent as it is" {
	cat >s.json <<-'EOF'
	[{"id": "chatcmpl-real", "choices": [{"index": 0, "message": {"role": "assistant", "content": "as is"}, "finish_reason": "stop"}], "extra": [1, 2]}]
	EOF
	start_mock --script s.json
	run chat '{}'
	assert_output 200
	json_eq "$(cat "$TMP/b")" "$(jq '.[0]' s.json)"
}

@test "response is a whole body; error wraps an error object" {
	start_mock --jq 'if $n == 1 then {response: {object: "odd", choices: []}} else {status: 400, error: {message: "bad tool", type: "invalid_request_error", param: null, code: "x"}} end'
	run chat '{}'
	assert_output 200
	json_eq "$(cat "$TMP/b")" '{"object":"odd","choices":[]}'
	run chat '{}'
	assert_output 400
	json_eq "$(cat "$TMP/b")" '{"error":{"message":"bad tool","type":"invalid_request_error","param":null,"code":"x"}}'
}

@test "status and headers; a bare error status gets an OpenAI error body" {
	start_mock --jq '{status: 429, headers: {"retry-after": "2", "x-request-id": "req_7", "x-should-retry": "true"}}'
	run chat '{}'
	assert_output 429
	grep -q '^HTTP/1.1 429 Too Many Requests' "$TMP/h"
	[ "$(header retry-after)" = 2 ]
	[ "$(header x-request-id)" = req_7 ]
	[ "$(header x-should-retry)" = true ]
	json_eq "$(cat "$TMP/b")" '{"error":{"message":"llm-mock: status 429","type":"server_error","param":null,"code":null}}'
}

@test "a raw body is sent byte for byte, as HTML unless a header says otherwise" {
	start_mock --jq 'if $n == 1 then {status: 502, body: "<html>Bad Gateway</html>\n"} else {body: "{\"message\":\"x\"}", headers: {"Content-Type": "application/json"}} end'
	run chat '{}'
	assert_output 502
	[ "$(header content-type)" = text/html ]
	printf '<html>Bad Gateway</html>\n' | cmp - "$TMP/b"
	run chat '{}'
	assert_output 200
	[ "$(header content-type)" = application/json ]
	[ "$(grep -ci '^content-type' "$TMP/h")" -eq 1 ]
	[ "$(cat "$TMP/b")" = '{"message":"x"}' ]
}

@test "a reply with fields of the wrong type is a 500 that says why" {
	start_mock --jq 'if $n == 1 then {content: 5} elif $n == 2 then {tool_calls: [{arguments: {}}]} elif $n == 3 then {status: 99} else [1] end'
	run chat '{}'
	assert_output 500
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: bad reply: content is not a string' ]
	run chat '{}'
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: bad reply: tool_calls[0] has no name' ]
	run chat '{}'
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: bad reply: status 99 is not from 200 to 599' ]
	run chat '{}'
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: bad reply: array, not an object' ]
	grep -q 'request 4: bad reply' "$TMP/mock.err"
}

@test "streams content and tool calls as chunks ending in [DONE], with usage" {
	start_mock --jq '{content: "Hello there, world", tool_calls: [{name: "get_weather", arguments: {city: "Paris", unit: "celsius"}}]}'
	run chat '{"model":"m","stream":true,"stream_options":{"include_usage":true}}'
	assert_output 200
	[ "$(header content-type)" = text/event-stream ]
	[ -z "$(header content-length)" ]
	[ "$(tail -c 14 "$TMP/b")" = "$(printf 'data: [DONE]\n\n')" ]
	# every event is one data line and a blank line
	[ "$(grep -c . "$TMP/b")" -eq "$(grep -c '^data: ' "$TMP/b")" ]
	run chunks
	[ "${#lines[@]}" -ge 8 ]
	json_eq "$(chunks | jq -cs '[.[] | [.object, .id, .model]] | unique')" '[["chat.completion.chunk","chatcmpl-mock-1","m"]]'
	json_eq "$(chunks | jq -c 'select(.choices != []) | .choices[0] | [.index, .logprobs]' | sort -u)" '[0,null]'
	json_eq "$(chunks | head -n 1 | jq -c '.choices[0].delta')" '{"role":"assistant","content":""}'
	[ "$(chunks | jq -rs '[.[].choices[0].delta.content // empty] | join("")')" = 'Hello there, world' ]
	json_eq "$(chunks | jq -cs '[.[].choices[0].delta.tool_calls // empty | .[]] | group_by(.index) | map({index: .[0].index, id: .[0].id, type: .[0].type, name: .[0].function.name, arguments: (map(.function.arguments) | join(""))})')" \
		'[{"index":0,"id":"call_1_0","type":"function","name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}]'
	json_eq "$(chunks | jq -cs '[.[].choices[0].delta.tool_calls // empty | .[] | .function.arguments | length] | max')" 8
	json_eq "$(chunks | jq -cs '[.[].choices[0] // empty | select(.finish_reason != null) | [.finish_reason, .delta]]')" '[["tool_calls",{}]]'
	# usage: 67 request bytes / 4; 18 content + 33 argument bytes / 4, up
	json_eq "$(chunks | tail -n 1 | jq -c '[.choices, .usage.prompt_tokens, .usage.completion_tokens, .usage.total_tokens]')" '[[],16,13,29]'
}

@test "streamed text is cut in pieces of at most 8 bytes, never inside a character" {
	start_mock --jq '{content: "ééééé ünïcödé → ✓ 🙂🙂 done"}'
	run chat '{"stream":true}'
	assert_output 200
	run chunks
	# without include_usage there is no usage chunk
	[ "$(chunks | jq -s 'map(select(.choices == [])) | length')" -eq 0 ]
	[ "$(chunks | jq -rs '[.[].choices[0].delta.content // empty] | join("")')" = 'ééééé ünïcödé → ✓ 🙂🙂 done' ]
	[ "$(chunks | jq -r '.choices[0].delta.content // empty | utf8bytelength' | sort -n | tail -n 1)" -le 8 ]
	! grep -q 'ufffd\|�' "$TMP/b"
}

@test "a whole-body reply is streamed from its message when asked" {
	cat >s.json <<-'EOF'
	[{"id": "chatcmpl-abc", "created": 7, "model": "real", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I cannot", "tool_calls": [{"id": "call_q", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}]
	EOF
	start_mock --script s.json
	run chat '{"stream":true,"stream_options":{"include_usage":true}}'
	assert_output 200
	json_eq "$(chunks | jq -cs '[.[] | [.id, .created, .model]] | unique')" '[["chatcmpl-abc",7,"real"]]'
	[ "$(chunks | jq -rs '[.[].choices[0].delta.refusal // empty] | join("")')" = 'I cannot' ]
	json_eq "$(chunks | jq -cs '[.[].choices[0].delta.tool_calls // empty | .[] | select(.id) | [.id, .function.name]]')" '[["call_q","f"]]'
	json_eq "$(chunks | tail -n 1 | jq -c .usage)" '{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}'
}

@test "an error status is not streamed" {
	start_mock --jq '{status: 503, content: "ignored"}'
	run chat '{"stream":true}'
	assert_output 503
	[ "$(header content-type)" = application/json ]
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: status 503' ]
}

@test "sse and sse_file replay raw event streams" {
	cat >capture.sse <<-'EOF'
	data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

	data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

	data: [DONE]

	EOF
	start_mock --jq 'if $n == 1 then {sse: ": comment\r\ndata: {\"a\":1}\r\n\r\n"} elif $n == 2 then {sse_file: "capture.sse"} else {sse_file: "missing.sse"} end'
	run chat '{}'
	assert_output 200
	[ "$(header content-type)" = text/event-stream ]
	printf ': comment\r\ndata: {"a":1}\r\n\r\n' | cmp - "$TMP/b"
	run chat '{"stream":true}'
	assert_output 200
	cmp capture.sse "$TMP/b"
	run chat '{}'
	assert_output 500
	[[ "$(jq -r .error.message "$TMP/b")" == *"sse_file: missing.sse: No such file or directory" ]]
}

@test "delay_ms holds one answer back without blocking other clients" {
	start_mock --jq 'if $n == 1 then {content: "slow", delay_ms: 1500} else {content: "fast"} end'
	curl -sS "$MOCK_URL/chat/completions" -d '{}' >slow.json 3>&- &
	local slow=$! t0 t1
	sleep 0.2
	t0=$(now_ms)
	run chat '{}'
	t1=$(now_ms)
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = fast ]
	[ $((t1 - t0)) -lt $((1000 * TIME_FACTOR)) ]
	wait "$slow"
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 1200 ]
	[ "$(jq -r '.choices[0].message.content' slow.json)" = slow ]
}

@test "drop closes the connection without an answer" {
	start_mock --jq '{drop: true, delay_ms: 100}'
	run --separate-stderr curl -sS "$MOCK_URL/chat/completions" -d '{}'
	[ "$status" -eq 52 ]
	[ -z "$output" ]
	[[ "$stderr" == *"Empty reply from server"* ]]
}

@test "truncate sends the full Content-Length but only part of the body" {
	start_mock --jq '{content: "a long enough answer", truncate: 25}'
	run --separate-stderr curl -sS "$MOCK_URL/chat/completions" -d '{}'
	[ "$status" -eq 18 ]
	[ "$output" = '{"id":"chatcmpl-mock-1","' ]
	[[ "$stderr" == *"transfer closed with"*"bytes remaining"* ]]
}

@test "chunk_bytes writes the body in slow pieces that arrive whole" {
	start_mock --jq '{content: "piece by piece", chunk_bytes: 7, chunk_delay_ms: 10}'
	local t0 t1 pieces
	t0=$(now_ms)
	run chat '{"stream":true}'
	t1=$(now_ms)
	assert_output 200
	[ "$(chunks | jq -rs '[.[].choices[0].delta.content // empty] | join("")')" = 'piece by piece' ]
	[ "$(tail -c 14 "$TMP/b")" = "$(printf 'data: [DONE]\n\n')" ]
	# n pieces have n - 1 pauses of 10 ms between them
	pieces=$(( ($(wc -c <"$TMP/b") + 6) / 7 ))
	[ "$pieces" -gt 50 ]
	[ $((t1 - t0)) -ge $(( (pieces - 1) * 10 )) ]
}

@test "unknown paths are 404, wrong methods 405, models are listed" {
	start_mock --jq '{content: "x"}'
	run curl -sS -o "$TMP/b" -w '%{http_code}' "$MOCK_URL/embeddings" -d '{}'
	assert_output 404
	json_eq "$(cat "$TMP/b")" '{"error":{"message":"llm-mock: unknown URL (POST /v1/embeddings)","type":"invalid_request_error","param":null,"code":null}}'
	run curl -sS -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' "$MOCK_URL/chat/completions"
	assert_output 405
	[ "$(header allow)" = POST ]
	[ "$(jq -r .error.type "$TMP/b")" = invalid_request_error ]
	run curl -sS -o "$TMP/b" -w '%{http_code}' "$MOCK_URL/models?limit=5"
	assert_output 200
	json_eq "$(cat "$TMP/b")" '{"object":"list","data":[{"id":"mock","object":"model","created":0,"owned_by":"llm-mock"}]}'
	run curl -sS -o "$TMP/b" -w '%{http_code}' "http://127.0.0.1:$MOCK_PORT/chat/completions?x=1" -d '{}'
	assert_output 200
	[ "$(jq -r .id "$TMP/b")" = chatcmpl-mock-1 ]
}

@test "a chat body that is not a JSON object is a 400 and not numbered" {
	start_mock --jq '{content: "n=\($n)"}'
	run chat 'not json'
	assert_output 400
	[[ "$(jq -r .error.message "$TMP/b")" == 'llm-mock: request body is not JSON: '* ]]
	run chat '[1,2]'
	assert_output 400
	[ "$(jq -r .error.message "$TMP/b")" = 'llm-mock: request body is not a JSON object' ]
	run chat '{}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = 'n=1' ]
}

@test "the log has one line per request, with the key masked" {
	start_mock --jq '{content: "x"}'
	chat '{"model":"m","messages":[]}' -H 'Authorization: Bearer sk-proj-SECRETSECRET1234' -H 'X-Custom: yes' >/dev/null
	chat 'plain text' -H 'Authorization: Bearer short' >/dev/null
	curl -sS "$MOCK_URL/models" >/dev/null
	[ "$(wc -l <mock.log)" -eq 3 ]
	run ! grep -q SECRETSECRET mock.log
	json_eq "$(sed -n 1p mock.log | jq -c '[.n, .method, .path, .headers.authorization, .headers["x-custom"], .body]')" \
		'[1,"POST","/v1/chat/completions","Bearer ***1234","yes",{"model":"m","messages":[]}]'
	json_eq "$(sed -n 2p mock.log | jq -c '[.n, .headers.authorization, .body]')" '[null,"Bearer ***","plain text"]'
	json_eq "$(sed -n 3p mock.log | jq -c '[.n, .method, .path, .body]')" '[null,"GET","/v1/models",null]'
}

@test "-n COUNT exits 0 once COUNT chat requests are answered" {
	start_mock --count 2 --jq '{content: "x", delay_ms: 300}'
	curl -sS "$MOCK_URL/models" >/dev/null
	run chat '{}'
	assert_output 200
	kill -0 "$MOCK_PID"
	run chat '{}'
	assert_output 200
	wait_gone "$MOCK_PID"
	MOCK_PID=
	run curl -sS "$MOCK_URL/models"
	[ "$status" -eq 7 ]
}

@test "SIGTERM stops it at once, even while an answer is delayed" {
	start_mock --jq '{content: "late", delay_ms: 20000}'
	curl -sS "$MOCK_URL/chat/completions" -d '{}' >late.json 2>late.err 3>&- &
	local client=$! t0 t1 rc=0
	sleep 0.3
	t0=$(now_ms)
	kill -TERM "$MOCK_PID"
	wait_gone "$MOCK_PID"
	MOCK_PID=
	wait "$client" || rc=$?
	t1=$(now_ms)
	[ "$rc" -eq 52 ]
	[ $((t1 - t0)) -lt $((2000 * TIME_FACTOR)) ]
	[ -z "$(pgrep -f "llm-mock.*delay_ms: 20000" || true)" ]
}

@test "hostile requests get a 400 and the server goes on" {
	start_mock --jq '{content: "still here"}'
	run exchange 'GARBAGE\r\n\r\n'
	assert_output 'HTTP/1.1 400 Bad Request'
	run exchange 'GET /v1/models HTTP/1.1\r\nno colon here\r\n\r\n'
	assert_output 'HTTP/1.1 400 Bad Request'
	run exchange 'GET /v1/models HTTP/1.1\r\nContent-Length: -5\r\n\r\n'
	assert_output 'HTTP/1.1 400 Bad Request'
	run exchange '\x00\x01\x02\xff\xfe binary\n\n'
	assert_output 'HTTP/1.1 400 Bad Request'
	# bare LF line ends are accepted
	run exchange 'GET /v1/models HTTP/1.1\nHost: x\n\n'
	assert_output 'HTTP/1.1 200 OK'
	run chat '{}'
	assert_output 200
	[ "$(jq -r '.choices[0].message.content' "$TMP/b")" = 'still here' ]
}

@test "chunked bodies are 411, huge ones 413, huge heads 431" {
	start_mock --jq '{content: "x"}'
	run exchange 'POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'
	assert_output 'HTTP/1.1 411 Length Required'
	run exchange 'POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 67108865\r\n\r\n'
	assert_output 'HTTP/1.1 413 Content Too Large'
	head -c 1100000 /dev/zero | tr '\0' a >big
	run exchange "GET /v1/models HTTP/1.1\r\nX-Big: $(cat big)\r\n\r\n"
	assert_output 'HTTP/1.1 431 Request Header Fields Too Large'
	run chat '{}'
	assert_output 200
}

@test "a large body is read after 100 Continue" {
	start_mock --jq '{content: (.messages[0].content | length | tostring)}'
	head -c 2000000 /dev/zero | tr '\0' a | jq -Rs '{messages: [{role: "user", content: .}]}' >big.json
	run --separate-stderr curl -sS -v -H 'Expect: 100-continue' "$MOCK_URL/chat/completions" -d @big.json
	assert_success
	[ "$(jq -r '.choices[0].message.content' <<<"$output")" = 2000000 ]
	[[ "$stderr" == *"HTTP/1.1 100 Continue"* ]]
}

@test "a client that sends nothing is dropped after 10 seconds" {
	start_mock --jq '{content: "x"}'
	local t0 t1
	t0=$(now_ms)
	exec 5<>"/dev/tcp/127.0.0.1/$MOCK_PORT"
	run timeout 15 cat <&5
	exec 5>&-
	t1=$(now_ms)
	assert_success
	[ -z "$output" ]
	[ $((t1 - t0)) -ge 9500 ]
	[ $((t1 - t0)) -lt $((13000 * TIME_FACTOR)) ]
	run chat '{}'
	assert_output 200
}

@test "a whole body with several choices streams every choice" {
	cat >s.json <<-'EOF'
	[{"id": "chatcmpl-n2", "created": 9, "model": "real", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}, {"index": 1, "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}, "finish_reason": "tool_calls"}, {"index": 2, "message": {"role": "assistant", "content": "It is Paris, the capital."}, "finish_reason": "length"}]}]
	EOF
	start_mock --script s.json
	run chat '{"stream":true}'
	assert_output 200
	run jq -cs '[.[].choices[].index] | unique' < <(chunks)
	assert_output '[0,1,2]'
	run jq -rs '[.[].choices[] | select(.index == 2) | .delta.content // empty] | join("")' < <(chunks)
	assert_output 'It is Paris, the capital.'
	# Reassembled, the stream is the body: every choice's message and finish_reason.
	echo '{"model":"m","messages":[],"stream":true}' >req.json
	stop_mock
	start_mock --script s.json
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	json_eq "$(jq -c '[.choices[] | {index, finish_reason, message: {content: .message.content, tool_calls: .message.tool_calls}}]' <<<"$output")" \
		"$(jq -c '[.[0].choices[] | {index, finish_reason, message: {content: .message.content, tool_calls: .message.tool_calls}}]' s.json)"
}

@test "tool calls follow tool-extract's rule: empty or missing arguments are {}, whole and streamed" {
	start_mock --jq '{tool_calls: [{name: "a", arguments: ""}, {name: "b"}, {id: "x", function: {name: "c", arguments: ""}}]}'
	run chat '{"messages":[]}'
	assert_output 200
	json_eq "$(jq -c '[.choices[0].message.tool_calls[] | [.id, .function.arguments]]' "$TMP/b")" \
		'[["call_1_0","{}"],["call_1_1","{}"],["x","{}"]]'
	run --separate-stderr tool-extract "$TMP/b"
	assert_success
	assert_equal "$stderr" ""
	json_eq "$output" "$(jq -c '.choices[0].message.tool_calls' "$TMP/b")"
	run chat '{"messages":[],"stream":true}'
	assert_output 200
	json_eq "$(chunks | jq -cs '[.[].choices[0].delta.tool_calls // empty | .[]] | group_by(.index) | map(map(.function.arguments) | join(""))')" \
		'["{}","{}","{}"]'
}

@test "a tool call id given twice or empty is replaced, as tool-extract replaces it" {
	start_mock --jq '{tool_calls: [{id: "x", name: "a"}, {id: "x", name: "b"}, {id: "", name: "c"}]}'
	run chat '{"messages":[]}'
	assert_output 200
	run jq -r '.choices[0].message.tool_calls | map(.id) | join(" ")' "$TMP/b"
	assert_output --regexp '^x call_[0-9a-f]{24} call_[0-9a-f]{24}$'
	run --separate-stderr tool-extract "$TMP/b"
	assert_success
	json_eq "$output" "$(jq -c '.choices[0].message.tool_calls' "$TMP/b")"
}
