#!/usr/bin/env bats
# llm-request --stream: server-sent events in, one whole response out.

load helper

STREAMS="$BATS_TEST_DIRNAME/fixtures/streams"

local_setup() {
	echo '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' >req.json
}

# What the comparison looks at: every choice's message and finish reason,
# and the usage.
PROJECT='{choices: [.choices[] | {index, finish_reason, message: ({content: .message.content, refusal: .message.refusal} + (if .message.tool_calls then {tool_calls: .message.tool_calls} else {} end))}], usage}'

# replay FILE: llm-request --stream against llm-mock serving FILE whole,
# then in 1-byte and 7-byte pieces; each must give the SDK's message.
replay() {
	local file=$STREAMS/$1.sse expected pieces
	expected=$(jq -cS . "$STREAMS/$1.expected.json")
	printf '[{"sse_file":"%s"},{"sse_file":"%s","chunk_bytes":1},{"sse_file":"%s","chunk_bytes":7}]' \
		"$file" "$file" "$file" >script.json
	start_mock --script script.json
	for pieces in whole 1-byte 7-byte; do
		run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
		assert_success
		[ "$(jq -c .object <<<"$output")" = '"chat.completion"' ]
		actual=$(jq -cS "$PROJECT" <<<"$output")
		if [ "$actual" != "$expected" ]; then
			printf '%s delivered %s:\nexpected %s\nactual   %s\n' "$1" "$pieces" "$expected" "$actual" >&2
			return 1
		fi
	done
}

@test "recorded stream 173417d55340 (refusal)" { replay 173417d55340; }
@test "recorded stream 2018feb66ae1" { replay 2018feb66ae1; }
@test "recorded stream 4cc50a6135d2" { replay 4cc50a6135d2; }
@test "recorded stream 569c877e6942 (refusal)" { replay 569c877e6942; }
@test "recorded stream 7e5ea4d12e7c" { replay 7e5ea4d12e7c; }
@test "recorded stream 83b060bae42e" { replay 83b060bae42e; }
@test "recorded stream a247c49c5fcd" { replay a247c49c5fcd; }
@test "recorded stream a491adda08c3" { replay a491adda08c3; }
@test "recorded stream c6aa7e397b71" { replay c6aa7e397b71; }
@test "recorded stream d61558011839" { replay d61558011839; }
@test "recorded stream e2aad469b71d" { replay e2aad469b71d; }
@test "recorded stream f82268f2fefd" { replay f82268f2fefd; }

@test "the request asks for a stream with usage, and validates" {
	start_mock --jq '{content: "ok"}'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -c '.body | [.stream, .stream_options.include_usage]' mock.log
	assert_output '[true,true]'
	run jq -r '.headers.accept' mock.log
	assert_output 'text/event-stream'
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
}

@test "a request with \"stream\": true is streamed without -S" {
	start_mock --jq '{content: "streamed anyway"}'
	run llm-request -u "$MOCK_URL" <<<'{"model":"m","messages":[],"stream":true}'
	assert_success
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output 'streamed anyway'
}

@test "streamed and whole answers are the same response" {
	start_mock --jq '{content: "Tokyo is 22 °C ☀", tool_calls: [{id: "c1", name: "get_weather", arguments: {city: "Tokyo"}}, {id: "c2", name: "get_weather", arguments: {city: "Ōsaka"}}]}'
	whole=$(llm-request -u "$MOCK_URL" req.json | jq -cS '.choices[0] | {message, finish_reason}')
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	json_eq "$(jq -c '.choices[0] | {message, finish_reason}' <<<"$output")" "$whole"
	run jq -c '.usage | has("total_tokens")' <<<"$output"
	assert_output true
}

@test "--show writes the text on stderr as it comes" {
	start_mock --jq '{content: "Hello there, streaming world", chunk_bytes: 5}'
	run --separate-stderr llm-request -S --show -u "$MOCK_URL" req.json
	assert_success
	assert_equal "$stderr" 'Hello there, streaming world'
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_equal "$stderr" ''
}

sse() { # sse TEXT...: serve these events (printf format) as the stream
	printf "$@" >stream.sse
	printf '[{"sse_file":"%s/stream.sse"}]' "$TMP" >script.json
	start_mock --script script.json
}

CHUNK='{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}'

@test "CR and CRLF line ends, comments, event and id fields" {
	sse ": OPENROUTER PROCESSING\r\n\r\nid: 1\r\nevent: message\r\ndata: $CHUNK\r\n\r\nretry: 10\rdata: $CHUNK\r\rdata: [DONE]\r\r" \
		'{"role":"assistant","content":"Hel"}' null '{"content":"lo"}' '"stop"'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -c '.choices[0] | [.message.content, .finish_reason]' <<<"$output"
	assert_output '["Hello","stop"]'
}

@test "data split over several data: lines is joined with a newline" {
	sse 'data: {"id":"x","object":"chat.completion.chunk","choices":\ndata: [{"index":0,"delta":{"content":"joined"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output joined
}

@test "ids and names repeated in every chunk, or sent as \"\" later, are not appended" {
	sse "data: $CHUNK\n\ndata: $CHUNK\n\ndata: $CHUNK\n\ndata: [DONE]\n\n" \
		'{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":"}}]}' null \
		'{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"add","arguments":"1,"}}]}' null \
		'{"tool_calls":[{"index":0,"id":"","function":{"name":"","arguments":"\"b\":2}"}}]}' '"tool_calls"'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -c '.choices[0].message.tool_calls' <<<"$output"
	assert_output '[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{\"a\":1,\"b\":2}"}}]'
}

@test "whole tool calls in one chunk, and parallel calls all numbered 0" {
	sse "data: $CHUNK\n\ndata: $CHUNK\n\ndata: [DONE]\n\n" \
		'{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]}' null \
		'{"tool_calls":[{"index":0,"id":"call_b","type":"function","function":{"name":"g","arguments":"{}"}}]}' '"tool_calls"'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -c '[.choices[0].message.tool_calls[] | [.id, .function.name, .function.arguments]]' <<<"$output"
	assert_output '[["call_a","f","{\"x\":1}"],["call_b","g","{}"]]'
}

@test "unknown fields and a usage-only last chunk with choices: []" {
	sse "data: $CHUNK\n\ndata: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4},\"surprise\":{\"a\":1}}\n\ndata: [DONE]\n\n" \
		'{"content":"hi","mystery":true}' '"stop"'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
	run jq -c '[.choices[0].message.content, .usage.total_tokens]' <<<"$output"
	assert_output '["hi",4]'
}

@test "an error object inside the stream: exit 5 with its message" {
	sse "data: $CHUNK\n\ndata: {\"error\":{\"message\":\"The model is overloaded\",\"type\":\"server_error\"}}\n\n" \
		'{"content":"partial"}' null
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"error in the stream: The model is overloaded"* ]]
}

@test "an event: error in the stream: exit 5" {
	sse 'event: error\ndata: {"message":"upstream timeout"}\n\n'
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"upstream timeout"* ]]
}

@test "a stream that ends without [DONE] or finish_reason is truncated: exit 5" {
	sse "data: $CHUNK\n\ndata: $CHUNK\n\n" '{"content":"half an "}' null '{"content":"answer"}' null
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"the stream ended before it was complete"* ]]
}

@test "a stream of nothing but [DONE] is a broken response: exit 5" {
	sse 'data: [DONE]\n\n'
	run --separate-stderr llm-request -S -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"no choice before [DONE]: the response is empty"* ]]
}

@test "chunks without choices, then [DONE], are an empty response too: exit 5" {
	sse 'data: {"id":"","created":0,"model":"","choices":[],"prompt_filter_results":[]}\n\ndata: {"id":"x","choices":[],"usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n'
	run --separate-stderr llm-request -S -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"the response is empty"* ]]
}

@test "a stream cut inside an event is truncated too" {
	sse "data: $CHUNK\n\ndata: {\"id\":\"x\",\"choi" '{"content":"a"}' null
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"in the middle of an event"* ]]
}

@test "every choice finished but no [DONE]: complete" {
	sse "data: $CHUNK\n\n" '{"content":"done"}' '"stop"'
	run llm-request -S -u "$MOCK_URL" req.json
	assert_success
}

@test "a chunk that is not JSON: exit 5" {
	sse 'data: {not json\n\ndata: [DONE]\n\n'
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"error in the stream"* ]]
}

@test "a stream that stalls is cut off by the idle timeout" {
	start_mock --jq '{content: "a long streamed answer that comes in pieces", chunk_bytes: 40, chunk_delay_ms: 3000}'
	start=$SECONDS
	run --separate-stderr llm-request -S -i 0.5 -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"the server stopped sending"* ]]
	[ $((SECONDS - start)) -lt $((3 * TIME_FACTOR)) ]
}

@test "an error status to a stream request shows the error body" {
	start_mock --jq '{status: 400, error: {message: "stream_options only with stream"}}'
	run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
	assert_failure 4
	[[ $stderr == *"HTTP 400: stream_options only with stream"* ]]
}

@test "llm-loop --stream: the whole loop over streams" {
	mkdir tools.d
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
	start_mock --jq-file "$ROOT/tests/demo/model.jq"
	run --separate-stderr llm-loop -S -d tools.d -u "$MOCK_URL" "What is 5 + 4?"
	assert_success
	assert_output '5 + 4 = 9.'
	[[ $stderr == *'-> add {"a":5,"b":4}'* && $stderr == *'<- add 9'* && $stderr == *'5 + 4 = 9.'* ]]
	run jq -c 'select(.body.stream == true) | .n' mock.log
	assert_output "$(printf '1\n2')"
}

@test "--show ends the text it shows with a newline" {
	start_mock --jq '{content: "no newline at the end"}'
	llm-request -S --show -u "$MOCK_URL" req.json >/dev/null 2>shown
	[ "$(cat shown)" = 'no newline at the end' ]
	[ "$(tail -c 1 shown | od -An -c | tr -d ' ')" = '\n' ]
}
