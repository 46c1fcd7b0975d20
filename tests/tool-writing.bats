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
