#!/usr/bin/env bats
# llm-request against llm-mock on loopback.

load helper

local_setup() {
	echo '{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}' >req.json
}

@test "POSTs the request and writes the response" {
	start_mock --jq '{content: "Hello!"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_success
	[ -z "$stderr" ]
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output 'Hello!'
	run jq -c '.body' mock.log
	json_eq "$output" "$(cat req.json)"
}

@test "reads the request from stdin" {
	start_mock --jq '{content: "ok"}'
	run llm-request -u "$MOCK_URL" <req.json
	assert_success
	run jq -r '.path' mock.log
	assert_output '/v1/chat/completions'
}

@test "OPENAI_BASE_URL is used, a trailing slash is fine" {
	start_mock --jq '{content: "ok"}'
	OPENAI_BASE_URL="$MOCK_URL/" run llm-request req.json
	assert_success
}

@test "sends the key, organization and project headers from the environment" {
	start_mock --jq '{content: "ok"}'
	OPENAI_API_KEY=sk-test-abcd1234 OPENAI_ORG_ID=org-1 OPENAI_PROJECT_ID=proj-2 \
		run llm-request -u "$MOCK_URL" req.json
	assert_success
	run jq -c '.headers | [.authorization, ."openai-organization", ."openai-project", ."content-type"]' mock.log
	assert_output '["Bearer ***1234","org-1","proj-2","application/json"]'
}

@test "a user's api-key or Authorization header replaces the bearer key, in any case" {
	start_mock --jq '{content: "ok"}'
	OPENAI_API_KEY=sk-openai-abcd1234 run --separate-stderr llm-request -u "$MOCK_URL" \
		-H 'Api-Key: azure-key-5678' req.json
	assert_success
	[ -z "$stderr" ]
	OPENAI_API_KEY=sk-openai-abcd1234 run --separate-stderr llm-request -u "$MOCK_URL" \
		-H 'X-API-KEY: other-key-9012' req.json
	assert_success
	OPENAI_API_KEY=sk-openai-abcd1234 run --separate-stderr llm-request -u "$MOCK_URL" \
		-H 'authorization: Basic dXNlcjpwYXNz' req.json
	assert_success
	run jq -c '.headers | [.authorization, ."api-key", ."x-api-key"]' mock.log
	assert_output "$(printf '%s\n' '[null,"***5678",null]' '[null,null,"***9012"]' '["Basic ***YXNz",null,null]')"
	run grep -c 1234 mock.log
	assert_output 0
}

@test "no Authorization header without OPENAI_API_KEY" {
	start_mock --jq '{content: "ok"}'
	run llm-request -u "$MOCK_URL" req.json
	run jq -c '.headers | has("authorization")' mock.log
	assert_output false
}

@test "-m sets the model; else the body's, else LLM_MODEL, else gpt-4.1-mini" {
	start_mock --jq '{content: .model}'
	run llm-request -u "$MOCK_URL" -m other req.json
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output other
	echo '{"messages":[]}' >nomodel.json
	LLM_MODEL=from-env run llm-request -u "$MOCK_URL" nomodel.json
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output from-env
	run llm-request -u "$MOCK_URL" nomodel.json
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output gpt-4.1-mini
}

@test "the request it sends validates against OpenAI's schema" {
	start_mock --jq '{content: "ok"}'
	echo '{"messages":[{"role":"user","content":"hi"}]}' >nomodel.json
	llm-request -u "$MOCK_URL" nomodel.json >/dev/null
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
}

@test "a 401 is exit 4 with the server's message and request id" {
	start_mock --jq '{status: 401, headers: {"x-request-id": "req_42"}, error: {message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key"}}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	assert_output ''
	[ "$stderr" = 'llm-request: HTTP 401: Incorrect API key provided (request id req_42)' ]
}

@test "a 400 in the shape of other servers shows their message" {
	start_mock --jq '{status: 400, body: "{\"object\":\"error\",\"message\":\"bad tool_call_id\",\"type\":\"invalid_request_error\"}", headers: {"content-type": "application/json"}}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[ "$stderr" = 'llm-request: HTTP 400: bad tool_call_id' ]
}

@test "a 429 is exit 5, but 429 insufficient_quota is exit 4" {
	echo '[{"status":429,"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}},{"status":429,"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}]' >script.json
	start_mock --script script.json
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"HTTP 429: Rate limit reached"* ]]
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[[ $stderr == *"exceeded your current quota"* ]]
}

@test "a 500 HTML page is exit 5 with readable text" {
	start_mock --jq '{status: 502, body: "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"}'
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[ "$stderr" = 'llm-request: HTTP 502: 502 Bad Gateway Bad Gateway' ]
}

@test "a 200 body that is not JSON is exit 5, nothing on stdout" {
	start_mock --jq '{body: "<html>surprise</html>"}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == *"the response is not JSON"* ]]
}

@test "a truncated body is exit 5, nothing on stdout" {
	start_mock --jq '{content: "a long enough answer", truncate: 40}'
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == llm-request:* ]]
}

@test "a dropped connection is exit 5" {
	start_mock --jq '{drop: true}'
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" req.json
	assert_failure 5
	assert_output ''
	[[ $stderr == llm-request:* ]]
}

@test "connection refused is exit 5" {
	port=$(unused_port)
	run --separate-stderr llm-request -q -u "http://127.0.0.1:$port/v1" req.json
	assert_failure 5
	[[ $stderr == *"Couldn't connect to server"* || $stderr == *"Connection refused"* ]]
}

@test "-t bounds a server that does not answer: exit 5" {
	start_mock --jq '{content: "late", delay_ms: 5000}'
	run --separate-stderr llm-request -r 0 -u "$MOCK_URL" -t 0.5 req.json
	assert_failure 5
	[[ $stderr == *"imed out"* ]]
}

@test "an error object inside a 200 is exit 5" {
	start_mock --jq '{response: {error: {message: "upstream model failed"}}}'
	run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 5
	[[ $stderr == *"upstream model failed"* ]]
}

@test "bad request input is exit 3 and nothing is sent" {
	start_mock --jq '{content: "ok"}'
	run --separate-stderr llm-request -u "$MOCK_URL" <<<'{"messages": '
	assert_failure 3
	run --separate-stderr llm-request -u "$MOCK_URL" <<<'[1]'
	assert_failure 3
	run --separate-stderr llm-request -u "$MOCK_URL" <<<'{"model":"x"}'
	assert_failure 3
	[[ $stderr == *"no messages array"* ]]
	[ ! -s mock.log ]
}

@test "usage errors exit 2: bad timeout, bad URL scheme, extra operands" {
	run llm-request -t -1 req.json
	assert_failure 2
	run llm-request -t soon req.json
	assert_failure 2
	run --separate-stderr llm-request -u ftp://example.com req.json
	assert_failure 2
	run llm-request a b
	assert_failure 2
	run llm-request --version
	assert_output 'llm-request 0.1.0'
}

@test "the API key never appears in messages" {
	start_mock --jq '{status: 401, error: {message: "nope"}}'
	OPENAI_API_KEY=sk-verysecret-0000 run --separate-stderr llm-request -u "$MOCK_URL" req.json
	assert_failure 4
	[[ $stderr != *verysecret* ]]
	! grep -q verysecret mock.log
}

@test "what the request lacks is added; what it has is replaced or merged" {
	start_mock --jq '{content: "ok"}'
	llm-request -u "$MOCK_URL" -S <<<'{"messages":[],"stream":false,"stream_options":{"x":1}}' >/dev/null
	llm-request -u "$MOCK_URL" -m other <<<'{"model":"mine","messages":[]}' >/dev/null
	LLM_MODEL=env run llm-request -u "$MOCK_URL" -S <<<'{"messages":[{"role":"user","content":"é"}],"temperature":0}'
	assert_success
	run jq -c '.body' mock.log
	assert_line --index 0 '{"messages":[],"stream":true,"stream_options":{"x":1,"include_usage":true},"model":"gpt-4.1-mini"}'
	assert_line --index 1 '{"model":"other","messages":[]}'
	assert_line --index 2 '{"model":"env","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"é"}],"temperature":0}'
}

@test "a body over 1 MiB goes out at once, without Expect: 100-continue" {
	start_mock --jq '{content: "ok"}'
	head -c 1200000 /dev/zero | tr '\0' x >big.txt
	jq -cn --rawfile s big.txt '{model: "m", messages: [{role: "user", content: $s}]}' >big.json
	run --separate-stderr llm-request -u "$MOCK_URL" big.json
	assert_success
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" ok
	# A user's own Expect header goes as given.
	run --separate-stderr llm-request -H 'Expect: 100-continue' -u "$MOCK_URL" big.json
	assert_success
	[ -z "$stderr" ]
	run jq -c '[.headers.expect, (.body.messages[0].content | length)]' mock.log
	assert_line --index 0 '[null,1200000]'
	assert_line --index 1 '["100-continue",1200000]'
}

@test "input that is not strict JSON is refused before sending: exit 3" {
	start_mock --jq '{content: "ok"}'
	for doc in '{"messages":[1,]}' '{"messages":["\ud83d"]}' '{"messages":[],"x":nan}' '{"messages":[]} {}' $'{"messages":["\xff"]}' '{"messages":["a\u12"]}'; do
		run --separate-stderr llm-request -u "$MOCK_URL" <<<"$doc"
		assert_failure 3
		assert_output ''
		[[ $stderr == "llm-request: request: not "* ]]
	done
	[ ! -s mock.log ]
}

@test "a key written with escapes is read as the key it spells" {
	start_mock --jq '{content: .model}'
	run llm-request -u "$MOCK_URL" <<<'{"mod\u0065l":"spelled","messages":[]}'
	assert_success
	run jq -r '.choices[0].message.content' <<<"$output"
	assert_output spelled
}

@test "killed while waiting, it leaves no temporary file behind" {
	start_mock --jq '{content: "late", delay_ms: 5000}'
	llm-request -u "$MOCK_URL" -O out.json req.json 3>&- &
	pid=$!
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid" || true
	run ls
	refute_output --partial 'out.json'
}

@test "CR or LF in the key, organization, project or a -H header: exit 2, nothing sent" {
	start_mock --jq '{content: "ok"}'
	for var in OPENAI_API_KEY OPENAI_ORG_ID OPENAI_PROJECT_ID; do
		for bad in $'sk-a\r\nX-Injected: 1' $'sk-a\nX-Injected: 1' $'sk-a\rX'; do
			run --separate-stderr env "$var=$bad" llm-request -u "$MOCK_URL" req.json
			assert_failure 2
			assert_output ''
			[[ $stderr == *"$var: holds a control character"* ]]
			[[ $stderr != *Injected* ]]
		done
	done
	run --separate-stderr llm-request -H $'X-Test: a\r\nX-Injected: 1' -u "$MOCK_URL" req.json
	assert_failure 2
	run --separate-stderr llm-request -H $'X-Test: a\x01' -u "$MOCK_URL" req.json
	assert_failure 2
	[ ! -s mock.log ]
	# A tab is fine in a value.
	run llm-request -H $'X-Test: a\tb' -u "$MOCK_URL" req.json
	assert_success
}

@test "credentials in the base URL never appear in a message" {
	port=$(unused_port)
	run --separate-stderr llm-request -r 0 -u "http://user:pw-s3cret@127.0.0.1:$port/v1" req.json
	assert_failure 5
	[[ $stderr != *s3cret* && $stderr != *user* ]]
	[[ $stderr == *"http://127.0.0.1:$port/v1/chat/completions"* ]]
	run --separate-stderr llm-request -u "ftp://user:pw-s3cret@example.com/v1" req.json
	assert_failure 2
	[[ $stderr != *s3cret* ]]
	[[ $stderr == *"ftp://example.com/v1"* ]]
	OPENAI_BASE_URL="http://pw-s3cret@127.0.0.1:$port" run --separate-stderr llm-request -q -r 1 req.json
	assert_failure 5
	[[ $stderr != *s3cret* ]]
}

@test "a base URL with a query string keeps it after the path" {
	start_mock --jq '{content: "ok"}'
	run llm-request -u "$MOCK_URL?api-version=2024-10-21" req.json
	assert_success
	run llm-request -u "$MOCK_URL/?api-version=2024-10-21&x=1" req.json
	assert_success
	run jq -r '.path' mock.log
	assert_output "$(printf '%s\n' '/v1/chat/completions?api-version=2024-10-21' \
		'/v1/chat/completions?api-version=2024-10-21&x=1')"
}

@test "the key does not stay in llm-request's environment" {
	[ -z "${LLM_TEST_VALGRIND:-}" ] || skip "valgrind keeps a copy of the environment of its own"
	start_mock --jq '{content: "ok", delay_ms: 1500}'
	OPENAI_API_KEY=sk-kept-secret-4321 llm-request -u "$MOCK_URL" req.json >out.json &
	pid=$!
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s mock.log ] && break
		sleep 0.05
	done
	[ -s mock.log ]
	environ=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)
	wait "$pid"
	[[ $environ != *sk-kept-secret* ]]
	# It was sent all the same.
	run jq -r '.headers.authorization' mock.log
	assert_output 'Bearer ***4321'
}
