#!/usr/bin/env bats
# tool-serve --http: MCP over Streamable HTTP on 127.0.0.1, one POST per
# message, Origin and Host checked, a token when asked, the 2026-07-28
# headers, and a closed request cancelling its call.

load helper
load serve

# serve_http ARGS...: tool-serve --http on a free loopback port; URL set.
serve_http() {
	tool-serve -d tools.d --http 127.0.0.1:0 "$@" </dev/null 2>err 3>&- &
	SERVE_PID=$!
	local i
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		grep -q 'serving http' err 2>/dev/null && break
		sleep 0.025
	done
	URL=$(sed -n 's/^tool-serve: serving \(http:[^ ]*\)$/\1/p' err)
	[ -n "$URL" ]
}

# post BODY [HEADER...]: the status line's code, then the body.
post() {
	local body=$1 args=()
	shift
	for h in "$@"; do
		args+=(-H "$h")
	done
	curl -s -o resp -w '%{http_code}\n' -X POST \
		-H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		"${args[@]}" --data-binary "$body" "$URL"
	cat resp
}

CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":5,"b":4}}}'

@test "a legacy tools/call over HTTP: 200 and add's 9, no session id" {
	serve_http
	run curl -s -i -X POST -H 'Content-Type: application/json' --data-binary "$CALL" "$URL"
	assert_success
	[[ $output == "HTTP/1.1 200 OK"* ]]
	[[ $output != *[Mm]cp-[Ss]ession-[Ii]d* ]]
	run post "$CALL"
	assert_line -n 0 200
	json_eq "${lines[1]}" '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"9"}],"isError":false}}'
}

@test "a foreign Origin or Host is refused with 403; loopback ones are served" {
	serve_http
	run post "$CALL" 'Origin: http://evil.example'
	assert_line -n 0 403
	run post "$CALL" 'Host: evil.example'
	assert_line -n 0 403
	run post "$CALL" 'Origin: http://localhost:5173'
	assert_line -n 0 200
	run post "$CALL" 'Origin: http://127.0.0.1'
	assert_line -n 0 200
}

@test "only POST to /mcp with JSON: GET 405, another path 404, text 415, a notification 202" {
	serve_http
	run curl -s -o /dev/null -w '%{http_code}' "$URL"
	assert_output 405
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{}' "${URL%/mcp}/other"
	assert_output 404
	run curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' --data "$CALL" "$URL"
	assert_output 415
	run post '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	assert_output 202
	run post 'not json'
	assert_line -n 0 400
	run jq -c .error.code <<<"${lines[1]}"
	assert_output -- -32700
}

@test "--token-file: no or a wrong bearer token is 401, the right one is served" {
	echo s3cret >token
	serve_http --token-file token
	run post "$CALL"
	assert_output 401
	run curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' --data "$CALL" "$URL"
	[[ $output == *"WWW-Authenticate: Bearer"* ]]
	run post "$CALL" 'Authorization: Bearer wrong'
	assert_output 401
	run post "$CALL" 'Authorization: Bearer s3cret'
	assert_line -n 0 200
}

@test "another address than loopback needs --token-file: usage error, nothing bound" {
	run --separate-stderr tool-serve -d tools.d --http 0.0.0.0:0
	assert_equal "$status" 2
	assert_output ''
	assert_equal "$stderr" 'tool-serve: --http: 0.0.0.0:0: not a loopback address: --token-file is needed'
	run --separate-stderr tool-serve -d tools.d --http nonsense
	assert_equal "$status" 2
	assert_equal "$stderr" 'tool-serve: --http: nonsense: not ADDRESS:PORT'
	run --separate-stderr tool-serve -d tools.d --token-file /dev/null
	assert_equal "$status" 2
}

@test "2026-07-28 over HTTP: headers must match the body; initialize is gone (404)" {
	serve_http
	modern="{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":5,\"b\":4},$META}}"
	run post "$modern" 'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: tools/call' 'Mcp-Name: add'
	assert_line -n 0 200
	run jq -c '[.result.content[0].text, .result.resultType]' <<<"${lines[1]}"
	assert_output '["9","complete"]'
	run post "$modern" 'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: tools/list' 'Mcp-Name: add'
	assert_line -n 0 400
	run jq -c .error.code <<<"${lines[1]}"
	assert_output -- -32020
	run post "$modern" 'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: tools/call'
	assert_line -n 0 400
	run post "$modern" 'MCP-Protocol-Version: 2099-01-01' 'Mcp-Method: tools/call' 'Mcp-Name: add'
	assert_line -n 0 400
	run jq -c .error.code <<<"${lines[1]}"
	assert_output -- -32022
	run post "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{$META}}" 'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: initialize'
	assert_line -n 0 404
	run jq -c .error.code <<<"${lines[1]}"
	assert_output -- -32601
	run post '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{}}' 'MCP-Protocol-Version: 2026-07-28' 'Mcp-Method: tools/list'
	assert_line -n 0 400
	run jq -c .error.code <<<"${lines[1]}"
	assert_output -- -32602
}

@test "a request closed before its answer kills the call's tool" {
	n=$(unique_seconds)
	tool nap "echo \$\$ >'$TMP/nap.pid'; sleep $n"
	serve_http
	curl -s -X POST -H 'Content-Type: application/json' \
		--data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nap","arguments":{}}}' \
		"$URL" >/dev/null 3>&- &
	client=$!
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		[ -s nap.pid ] && break
		sleep 0.025
	done
	pgrep -f "sleep $n" >/dev/null
	kill "$client"
	wait "$client" || true
	no_process "sleep $n"
	run post "$CALL"
	assert_line -n 0 200
}
