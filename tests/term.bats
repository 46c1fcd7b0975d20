#!/usr/bin/env bats
# Messages on stderr cannot drive the terminal: what they quote from
# outside is shown escaped.

load helper

@test "a file name with escape sequences is shown escaped in a message" {
	run --separate-stderr tool-extract $'no\e]0;pwned\a\e[2J\r\xc2\x9bx-such.json'
	assert_failure 3
	[[ $stderr != *$'\e'* ]]
	[[ $stderr != *$'\a'* ]]
	[[ $stderr != *$'\r'* ]]
	[[ $stderr != *$'\xc2\x9b'* ]]
	[[ $stderr == *'no\e]0;pwned\x07\e[2J\r\u{009b}x-such.json'* ]]
}

@test "a message quoting a newline stays one line; UTF-8 stays readable" {
	run --separate-stderr tool-extract $'caf\xc3\xa9\nllm-request: fake.json'
	assert_failure 3
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *$'caf\xc3\xa9\\nllm-request: fake.json'* ]]
}

# What the terminal must never get raw: OSC 0 (window title), OSC 52
# (clipboard write), CSI 2J (clear screen), a bare CR, C1 CSI (U+009B).
ATTACK='\u001b]0;pwned\u0007\u001b]52;c;cHduZWQ=\u0007\u001b[2Jfake\rover\u009b31mred'
ATTACK_RAW=$'\e]0;pwned\a\e]52;c;cHduZWQ=\a\e[2Jfake\rover\xc2\x9b31mred'

# on_pty CMD: run CMD (sh -c) with a terminal as its stdin, stdout and
# stderr; $output is what the terminal got (its CR LF made LF again).
on_pty() {
	run script -qec "$1" /dev/null </dev/null
	output=${output%$'\r'}
	output=${output//$'\r\n'/$'\n'}
}

# The terminal got the attack visibly escaped, and nothing of it raw.
assert_escaped() {
	[[ $output != *$'\e'* ]]
	[[ $output != *$'\a'* ]]
	[[ $output != *$'\r'* ]]
	[[ $output != *$'\xc2\x9b'* ]]
	assert_output --partial '\e]0;pwned\x07\e]52;c;cHduZWQ=\x07\e[2Jfake\rover\u{009b}31mred'
}

@test "llm-request --show: stream text reaches a terminal escaped, the file unaltered" {
	echo '{"messages":[{"role":"user","content":"hi"}]}' >req.json
	start_mock --jq "{content: \"$ATTACK\", chunk_bytes: 7}"
	on_pty "llm-request -S --show -u '$MOCK_URL' req.json >out.json"
	assert_success
	assert_escaped
	assert_equal "$(jq -r '.choices[0].message.content' out.json)" "$ATTACK_RAW"
}

@test "llm-request: a response shown on a terminal is escaped, in a pipe unaltered" {
	echo '{"messages":[{"role":"user","content":"hi"}]}' >req.json
	# JSON escapes C0 controls; C1 controls and DEL it carries raw.
	body=$'{"choices":[{"index":0,"message":{"role":"assistant","content":"\xc2\x9b2J\x7f\xc2\x9d0;pwned\xc2\x9c"},"finish_reason":"stop"}]}'
	jq -n --arg b "$body" '[{body: $b}, {body: $b}]' >script.json
	start_mock --script script.json
	on_pty "llm-request -u '$MOCK_URL' req.json"
	assert_success
	[[ $output != *$'\xc2\x9b'* && $output != *$'\xc2\x9d'* && $output != *$'\x7f'* ]]
	assert_output --partial '"\u{009b}2J\x7f\u{009d}0;pwned\u{009c}"'
	llm-request -u "$MOCK_URL" req.json >out.json
	assert_equal "$(cat out.json)" "$body"
}

@test "llm-loop -S: the streamed reply reaches a terminal escaped" {
	start_mock --jq "{content: \"$ATTACK\", chunk_bytes: 5}"
	on_pty "llm-loop -S -N -u '$MOCK_URL' hi"
	assert_success
	assert_escaped
}

@test "JSON written by a filter on a terminal shows C1 and bidi controls escaped; in a pipe unaltered" {
	printf '{"model":"m","messages":[{"role":"user","content":"\xc2\x9b2J\x7f\xe2\x80\xaeevil"}]}' >req.json
	on_pty "llm-prompt -c req.json again"
	assert_success
	[[ $output != *$'\xc2\x9b'* && $output != *$'\x7f'* && $output != *$'\xe2\x80\xae'* ]]
	assert_output --partial '"\u{009b}2J\u007f\u{202e}evil"'
	run llm-prompt -c req.json again
	assert_success
	[[ $output == *$'\xc2\x9b2J\\u007f\xe2\x80\xaeevil'* ]]
}
