#!/usr/bin/env bats
# Every program agrees on what is JSON: JSONTestSuite's parsing files
# (tests/fixtures/JSONTestSuite, see its SOURCE and LICENSE) through each
# filter that reads JSON. Every y_ file is read as JSON (a wrong shape
# may still be refused, but never as "not a JSON document"), every n_
# file is refused as not JSON with nothing on stdout, and an i_ file
# never crashes a filter. One test per filter, looping over the files.

load helper

SUITE=$ROOT/tests/fixtures/JSONTestSuite/test_parsing

local_setup() {
	printf '%s\n' '{"model":"m","messages":[{"role":"user","content":"hi"}]}' >req.json
	printf '%s\n' '{"choices":[{"message":{"role":"assistant","content":"hello"}}]}' >resp.json
	export OPENAI_BASE_URL=http://127.0.0.1:1/v1
}

# The files of the suite; under valgrind every seventh, to stay fast.
suite_files() {
	local i=0 f
	for f in "$SUITE"/[yni]_*.json; do
		if [ -z "${LLM_TEST_VALGRIND:-}" ] || [ $((i % 7)) -eq 0 ]; then
			printf '%s\n' "$f"
		fi
		i=$((i + 1))
	done
}

# suite SUBJECT [blank]: run try FILE for every file; SUBJECT starts
# the message that names a document that is not JSON. With "blank",
# files of only white space are left out: they mean "nothing" there.
# Fails naming every file that was judged wrongly.
suite() {
	local f base rc msg wrong=0 n=0
	while IFS= read -r f; do
		base=${f##*/}
		if [ "${2:-}" = blank ] && [ -z "$(tr -d ' \t\r\n' <"$f")" ]; then
			continue
		fi
		rc=0
		try "$f" >out 2>err || rc=$?
		msg=$(<err)
		n=$((n + 1))
		case $base in
		y_*)
			if [ "$rc" -gt 3 ] || [[ $msg == *'not a JSON document'* ]]; then
				echo "$base: valid JSON refused (exit $rc): ${msg:0:300}" >&2
				wrong=$((wrong + 1))
			fi ;;
		n_*)
			if [ "$rc" -ne 3 ] || [ -s out ] || ! [[ $msg =~ ^[a-z-]+:\ $1.*:\ (not\ a\ JSON\ document:\ |empty\ input) ]]; then
				echo "$base: invalid JSON read (exit $rc): ${msg:0:300}" >&2
				wrong=$((wrong + 1))
			fi ;;
		i_*)
			if [ "$rc" -gt 3 ]; then
				echo "$base: exit $rc: ${msg:0:300}" >&2
				wrong=$((wrong + 1))
			fi ;;
		esac
	done < <(suite_files)
	[ "$n" -gt 40 ]
	[ "$wrong" -eq 0 ]
}

@test "llm-request reads JSON as JSONTestSuite says" {
	try() { llm-request "$1"; }
	suite 'request'
}

@test "tool-extract reads JSON as JSONTestSuite says" {
	try() { tool-extract "$1"; }
	suite 'response'
}

@test "tool-run reads its calls as JSONTestSuite says" {
	mkdir tools.d
	try() { tool-run -d tools.d "$1"; }
	suite 'tool calls'
}

@test "tool-append reads a request and the results as JSONTestSuite says" {
	try() { tool-append "$1" resp.json </dev/null; }
	suite 'request'
	try() { tool-append req.json resp.json <"$1"; }
	suite 'results' blank
}

@test "llm-prompt reads a request and tools as JSONTestSuite says" {
	try() { llm-prompt -c "$1"; }
	suite 'request'
	try() { llm-prompt -w "$1" hi </dev/null; }
	suite 'tools'
}

@test "tool-run reads call arguments as JSONTestSuite says, before any check" {
	mkdir tools.d
	printf '#!/bin/sh\ncat >/dev/null\necho ran\n' >tools.d/keep
	chmod +x tools.d/keep
	echo '{"name":"keep","parameters":{"type":"object"}}' >tools.d/keep.json
	# A call for each file that can be a JSON string's text (UTF-8) and
	# is not empty (no arguments at all mean {}).
	suite_files | python3 -c '
import json, os, sys
calls = []
for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    try:
        text = open(path, "rb").read().decode("utf-8")
    except UnicodeDecodeError:
        continue
    if text:
        calls.append({"id": os.path.basename(path),
                      "function": {"name": "keep", "arguments": text}})
json.dump(calls, sys.stdout)
' >calls.json
	run --separate-stderr tool-run -d tools.d calls.json
	assert_success
	printf '%s' "$output" >results.json
	# Every file is there, and nothing else.
	run jq -r 'length' results.json
	[ "$output" -eq "$(jq length calls.json)" ]
	[ "$output" -gt 40 ]
	# What each call got: ran, not JSON, a key twice, or not an object.
	run jq -r '.[] | .tool_call_id + " " + (if .content == "ran" then "ran"
		else (.content | fromjson | .error |
		if startswith("the arguments are not valid JSON (") then "notjson"
		elif test("^the arguments hold the key .* twice") then "twice"
		elif startswith("the arguments must be a JSON object (got ") then "notobject"
		else "other: " + . end) end)' results.json
	local line wrong=0
	for line in "${lines[@]}"; do
		case $line in
		y_object_duplicated_key*' twice' | y_*' ran' | y_*' notobject') ;;
		n_*' notjson' | i_*' ran' | i_*' notjson' | i_*' notobject') ;;
		*) echo "wrong: $line" >&2; wrong=$((wrong + 1)) ;;
		esac
	done
	[ "$wrong" -eq 0 ]
}
