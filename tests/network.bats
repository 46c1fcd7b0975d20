# Real networks: TLS with a private CA (nginx in front of llm-mock), the
# CA options and variables, certificate failures, proxies (tinyproxy).
load helper
load net

local_setup() {
	unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR LLM_HOLDER
	unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
}

@test "a server whose CA is unknown: exit 4 at once, no retry, the fix named" {
	start_mock --jq '{content: "hello"}'
	start_tls
	run --separate-stderr llm-request -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	assert_equal "$(grep -c retrying <<<"$stderr")" 0
	[[ $stderr == "llm-request: $TLS_URL/chat/completions: "*"(give the server's CA with --cacert FILE, or set CURL_CA_BUNDLE, SSL_CERT_FILE or SSL_CERT_DIR)" ]]
	[ ! -s "$TMP/access.log" ]
	[ ! -s "$TMP/mock.log" ]
}

@test "--cacert FILE trusts the private CA" {
	start_mock --jq '{content: "hello"}'
	start_tls
	run --separate-stderr llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" hello
	run --separate-stderr llm-request -E "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	access_lines 2
}

@test "--cacert: a file that cannot be read is a usage error" {
	run --separate-stderr llm-request --cacert "$TMP/nothing.crt" -u https://127.0.0.1:9/v1 <<<"$REQUEST"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "llm-request: --cacert: $TMP/nothing.crt: No such file or directory"
}

@test "CURL_CA_BUNDLE, SSL_CERT_FILE and SSL_CERT_DIR are honoured as curl does" {
	start_mock --jq '{content: "hello"}'
	start_tls
	make_ca other
	mkdir "$TMP/certs"
	cp "$TMP/ca.crt" "$TMP/certs/"
	openssl rehash "$TMP/certs"
	run --separate-stderr env CURL_CA_BUNDLE="$TMP/ca.crt" llm-request -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	run --separate-stderr env SSL_CERT_FILE="$TMP/ca.crt" llm-request -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	run --separate-stderr env SSL_CERT_DIR="$TMP/certs" SSL_CERT_FILE="$TMP/other.crt" llm-request -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	# CURL_CA_BUNDLE alone, when set: SSL_CERT_FILE is not looked at.
	run --separate-stderr env CURL_CA_BUNDLE="$TMP/other.crt" SSL_CERT_FILE="$TMP/ca.crt" llm-request -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 4 ]
	[[ $stderr == *"--cacert FILE"* ]]
	# --cacert wins over the variables.
	run --separate-stderr env CURL_CA_BUNDLE="$TMP/other.crt" llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	access_lines 4
}

@test "a certificate for another name fails as refused, even with its CA" {
	start_mock --jq '{content: "hello"}'
	start_tls
	run --separate-stderr llm-request --cacert "$TMP/ca.crt" -r 3 -u "${TLS_URL/127.0.0.1/localhost}" <<<"$REQUEST"
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	assert_equal "$(grep -c retrying <<<"$stderr")" 0
	[[ $stderr == *"(give the server's CA with --cacert FILE"* ]]
}

@test "llm-loop --cacert passes the CA to llm-request" {
	start_mock --jq '{content: "hello"}'
	start_tls
	run --separate-stderr llm-loop -N -u "$TLS_URL" "hi"
	[ "$status" -eq 4 ]
	[[ $stderr == *"--cacert FILE"* ]]
	run --separate-stderr llm-loop -N --cacert "$TMP/ca.crt" -u "$TLS_URL" "hi"
	[ "$status" -eq 0 ]
	assert_equal "$output" hello
	run --separate-stderr llm-loop -N --cacert="$TMP/ca.crt" -u "$TLS_URL" "hi"
	[ "$status" -eq 0 ]
	assert_equal "$output" hello
}

@test "http_proxy: the request goes through the proxy" {
	start_mock --jq '{content: "hello"}'
	start_proxy
	run --separate-stderr env http_proxy="$PROXY_URL" llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" hello
	grep -q "Request (file descriptor [0-9]*): POST http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "$TMP/proxy.log"
}

@test "https_proxy: a TLS request tunnels through the proxy (CONNECT)" {
	start_mock --jq '{content: "hello"}'
	start_tls
	start_proxy
	run --separate-stderr env https_proxy="$PROXY_URL" llm-request --cacert "$TMP/ca.crt" -u "$TLS_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$(jq -r '.choices[0].message.content' <<<"$output")" hello
	port=${TLS_URL#https://127.0.0.1:}
	grep -q "CONNECT 127.0.0.1:${port%/v1} HTTP/1.1" "$TMP/proxy.log"
}

@test "a proxy that is down is a transient failure; no_proxy bypasses it" {
	start_mock --jq '{content: "hello"}'
	dead=$(unused_port)
	run --separate-stderr env http_proxy="http://127.0.0.1:$dead" llm-request -r 1 -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 5 ]
	[ -z "$output" ]
	[[ $stderr == *"retrying"* ]]
	[ ! -s "$TMP/mock.log" ]
	run --separate-stderr env http_proxy="http://127.0.0.1:$dead" no_proxy=127.0.0.1 llm-request -u "$MOCK_URL" <<<"$REQUEST"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}
