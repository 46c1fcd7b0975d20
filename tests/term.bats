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
