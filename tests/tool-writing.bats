#!/usr/bin/env bats
# Writing tools: --schema answers cached, limits in sidecars, warnings
# that say the fix, and tool-run --new.

load helper

local_setup() {
	mkdir tools.d
	export LLM_TOOLS_DIR=tools.d
}

# counted NAME DESCRIPTION: a tool that answers --schema and counts how
# often it was asked, in ./asked
counted() {
	cat >"tools.d/$1" <<EOS
#!/bin/sh
if [ "\${1:-}" = --schema ]; then
	echo x >>"$TMP/asked"
	echo '{"name":"$1","description":"$2","parameters":{"type":"object"}}'
	exit 0
fi
echo ran
EOS
	chmod +x "tools.d/$1"
}

@test "--list asks a tool for --schema once, and again after it changes" {
	counted selfie 'First.'
	run --separate-stderr tool-run --list
	assert_success
	[ -z "$stderr" ]
	[ "$(jq -r '.[0].function.description' <<<"$output")" = First. ]
	run --separate-stderr tool-run --list
	assert_success
	[ "$(jq -r '.[0].function.description' <<<"$output")" = First. ]
	[ "$(wc -l <asked)" -eq 1 ]
	counted selfie 'Second, changed.'
	run --separate-stderr tool-run --list
	assert_success
	[ "$(jq -r '.[0].function.description' <<<"$output")" = 'Second, changed.' ]
	[ "$(wc -l <asked)" -eq 2 ]
	# Private, and only this user's.
	[ "$(stat -c %a cache/llm-tools/schemas)" = 700 ]
	for f in cache/llm-tools/schemas/*; do [ "$(stat -c %a "$f")" = 600 ]; done
}

@test "a schema cache that is not private is not used, and says so" {
	counted selfie 'First.'
	mkdir -p cache/llm-tools
	mkdir -m 777 elsewhere
	ln -s "$TMP/elsewhere" cache/llm-tools/schemas
	run --separate-stderr tool-run --list
	assert_success
	[ "$(jq -r '.[0].function.description' <<<"$output")" = First. ]
	[[ "$stderr" == *"cache/llm-tools/schemas: not a private directory of yours (mode 0700); --schema answers are not cached"* ]]
	run --separate-stderr tool-run --list
	assert_success
	[ "$(wc -l <asked)" -eq 2 ]
	[ -z "$(ls elsewhere)" ]
}

@test "a file beside a sidecar that is not executable gets a warning with the fix" {
	printf '#!/bin/sh\necho hi\n' >tools.d/plain
	echo '{"name":"plain","parameters":{"type":"object"}}' >tools.d/plain.json
	run --separate-stderr tool-run --list
	assert_success
	json_eq "$output" '[]'
	[ "$stderr" = "tool-run: tools.d/plain: not executable, so not a tool (fix: chmod +x tools.d/plain)" ]
	chmod +x tools.d/plain
	run --separate-stderr tool-run --list
	assert_success
	[ "$(jq -r '.[0].function.name' <<<"$output")" = plain ]
	[ -z "$stderr" ]
}

@test "a tool whose #! line ends in CR gets a warning with the fix" {
	printf '#!/bin/sh\r\necho hi\r\n' >tools.d/dos
	chmod +x tools.d/dos
	echo '{"name":"dos","parameters":{"type":"object"}}' >tools.d/dos.json
	run --separate-stderr tool-run --list
	assert_success
	[ "$stderr" = "tool-run: tools.d/dos: its #! line ends in a carriage return (CRLF line ends), so it cannot start (fix: sed -i 's/\\r\$//' tools.d/dos)" ]
	sed -i 's/\r$//' tools.d/dos
	run --separate-stderr tool-run --list
	assert_success
	[ -z "$stderr" ]
}

# limited NAME BODY X_LLM_TOOLS: a tool with a sidecar that sets its limits
limited() {
	printf '#!/bin/sh\n%s\n' "$2" >"tools.d/$1"
	chmod +x "tools.d/$1"
	printf '{"name":"%s","parameters":{"type":"object"},"x-llm-tools":%s}\n' "$1" "$3" >"tools.d/$1.json"
}

call() { # call NAME: a call of NAME without arguments, as a file
	printf '[{"id":"c1","type":"function","function":{"name":"%s","arguments":"{}"}}]' "$1" >calls.json
}

@test "a sidecar shortens the time limit; it never lengthens the user's" {
	limited slow 'sleep 5; echo late' '{"timeout":0.3}'
	call slow
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content | fromjson | .error' <<<"$output")" = "tool slow timed out after 0.3 s and was stopped" ]
	limited slow 'sleep 5; echo late' '{"timeout":20}'
	run --separate-stderr tool-run -T 0.2 calls.json
	assert_success
	[ "$(jq -r '.[0].content | fromjson | .error' <<<"$output")" = "tool slow timed out after 0.2 s and was stopped" ]
}

@test "a sidecar lowers the output cap; it never raises the user's" {
	limited loud 'printf "%s" 0123456789abcdefghij' '{"max_output":8}'
	call loud
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "$(printf '01234567\n[output truncated at 8 bytes]')" ]
	limited loud 'printf "%s" 0123456789abcdefghij' '{"max_output":1000}'
	run --separate-stderr tool-run -b 4 calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "$(printf '0123\n[output truncated at 4 bytes]')" ]
}

@test "a sidecar that asks for isolation gets it under --sandbox none" {
	limited whoami 'echo "pid $$"' '{"sandbox":"isolated"}'
	call whoami
	run --separate-stderr tool-run -B none calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "pid 2" ]
	limited whoami 'echo "pid $$"' '{"sandbox":"none"}'
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "pid 2" ]
}

@test "bad limits in a sidecar: skipped in the list, refused in a call" {
	limited odd 'echo hi' '{"timeout":"soon"}'
	run --separate-stderr tool-run --list
	assert_success
	json_eq "$output" '[]'
	[ "$stderr" = 'tool-run: tools.d/odd: skipped: x-llm-tools.timeout: not a positive number of seconds' ]
	call odd
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content | fromjson | .error' <<<"$output")" = 'tool odd was not run: tools.d/odd.json: x-llm-tools.timeout: not a positive number of seconds' ]
	limited odd 'echo hi' '{"timeout":1,"memory":5}'
	run --separate-stderr tool-run --list
	[ "$stderr" = 'tool-run: tools.d/odd: skipped: x-llm-tools: unknown key "memory" (known: timeout, max_output, sandbox)' ]
}

@test "a sidecar that asks for the default sandbox runs under it; a wrapper of the user's stays" {
	command -v bwrap >/dev/null || skip "bubblewrap is not installed"
	bwrap --ro-bind / / --unshare-all true 2>/dev/null || skip "bwrap cannot create namespaces here"
	limited scribble 'touch "$PWD/made" 2>/dev/null && echo wrote || echo read-only' '{"sandbox":"default"}'
	call scribble
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = read-only ]
	[ ! -e made ]
	printf '#!/bin/sh\nexec "$@"\n' >wrap
	chmod +x wrap
	run --separate-stderr tool-run -B "$TMP/wrap" calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = wrote ]
}

@test "--new writes a tool and its sidecar that tool-run lists and runs" {
	run --separate-stderr tool-run --new shout 'text:string the words to shout, times:integer? how often, loud:boolean?'
	assert_success
	[ -z "$output" ]
	[ "$stderr" = "tool-run: wrote tools.d/shout (what it does) and tools.d/shout.json (what the model reads)" ]
	[ "$(stat -c %a tools.d/shout)" = 755 ]
	[ "$(stat -c %a tools.d/shout.json)" = 644 ]
	shellcheck -s sh tools.d/shout
	json_eq "$(jq -c .parameters tools.d/shout.json)" '{"type":"object","properties":{"text":{"type":"string","description":"the words to shout"},"times":{"type":"integer","description":"how often"},"loud":{"type":"boolean"}},"required":["text"],"additionalProperties":false}'
	run --separate-stderr tool-run --list
	assert_success
	[ -z "$stderr" ]
	[ "$(jq -r '.[0].function.name' <<<"$output")" = shout ]
	printf '[{"id":"c1","type":"function","function":{"name":"shout","arguments":"{\\"text\\":\\"hey\\",\\"times\\":2}"}},{"id":"c2","type":"function","function":{"name":"shout","arguments":"{\\"times\\":\\"x\\"}"}}]' >calls.json
	run --separate-stderr tool-run calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "$(printf 'text: hey\ntimes: 2\nloud: ')" ]
	[[ "$(jq -r '.[1].content | fromjson | .error' <<<"$output")" == "invalid arguments for shout, not run: "* ]]
}

@test "--new with no signature writes a tool without parameters; types number and string" {
	run --separate-stderr tool-run -d mine --new ping
	assert_success
	json_eq "$(jq -c .parameters mine/ping.json)" '{"type":"object","properties":{},"required":[],"additionalProperties":false}'
	run --separate-stderr tool-run -d mine --new area 'w:number,h:number'
	assert_success
	printf '[{"id":"c1","type":"function","function":{"name":"area","arguments":"{\\"w\\":1.5,\\"h\\":2}"}}]' >calls.json
	run --separate-stderr tool-run -d mine calls.json
	assert_success
	[ "$(jq -r '.[0].content' <<<"$output")" = "$(printf 'w: 1.5\nh: 2')" ]
}

@test "--new refuses to overwrite, and refuses a bad signature" {
	echo keep >tools.d/shout.json
	run --separate-stderr tool-run --new shout 'text:string'
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "tool-run: tools.d/shout.json: already exists; nothing written" ]
	[ "$(cat tools.d/shout.json)" = keep ]
	[ ! -e tools.d/shout ]
	run --separate-stderr tool-run --new yell 'text:strin'
	[ "$status" -eq 2 ]
	[ "$stderr" = 'tool-run: --new yell: "text:strin": the type is not string, integer, number or boolean' ]
	run --separate-stderr tool-run --new yell 'Text:string'
	[ "$status" -eq 2 ]
	[ "$stderr" = 'tool-run: --new yell: "Text:string": a parameter name matches ^[a-z_][a-z0-9_]*$' ]
	run --separate-stderr tool-run --new yell 'a:string,a:number'
	[ "$status" -eq 2 ]
	[ "$stderr" = 'tool-run: --new yell: "a:number": parameter a is named twice' ]
	run --separate-stderr tool-run --new 'no/pe' 'a:string'
	[ "$status" -eq 2 ]
	[ "$stderr" = 'tool-run: --new: invalid tool name "no/pe": a name matches ^[A-Za-z0-9_-]{1,64}$' ]
	[ -z "$(ls tools.d | grep -v shout.json)" ]
}
