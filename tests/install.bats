#!/usr/bin/env bats
# make install / uninstall, and an installed copy finding its tools.

load helper

@test "make install honours DESTDIR and PREFIX; the example tools run only when named" {
	run make -s -C "$ROOT" install DESTDIR="$TMP/stage" PREFIX=/opt/llm
	assert_success
	for p in llm-request tool-extract tool-run tool-append llm-prompt llm-loop llm-mock; do
		[ -x "stage/opt/llm/bin/$p" ]
		[ -f "stage/opt/llm/share/man/man1/$p.1" ]
	done
	[ -f stage/opt/llm/share/man/man7/llm-tools.7 ]
	[ -f stage/opt/llm/share/llm-tools/demo-model.jq ]
	# No -d, no $LLM_TOOLS_DIR, no configured directory: no tools.
	mkdir elsewhere && cd elsewhere
	run stage_tool_run --list
	assert_success
	assert_output '[]'
	samples=$TMP/stage/opt/llm/share/llm-tools/tools.d
	run stage_tool_run -d "$samples" --list
	assert_success
	run jq -c '[.[].function.name] | sort' <<<"$output"
	assert_output '["add","get_order_status","get_time","get_weather","search_products"]'
	echo '[{"id":"c","type":"function","function":{"name":"add","arguments":"{\"a\":2,\"b\":3}"}}]' >calls.json
	LLM_TOOLS_DIR=$samples run stage_tool_run calls.json
	assert_success
	run jq -r '.[0].content' <<<"$output"
	assert_output 5
}

stage_tool_run() {
	"$TMP/stage/opt/llm/bin/tool-run" "$@"
}

@test "make uninstall removes what install put there" {
	make -s -C "$ROOT" install DESTDIR="$TMP/stage" PREFIX=/opt/llm
	run make -s -C "$ROOT" uninstall DESTDIR="$TMP/stage" PREFIX=/opt/llm
	assert_success
	run find stage -type f
	assert_output ''
}

@test "user CFLAGS, CPPFLAGS and LDFLAGS reach the compiler" {
	run make -n -B -C "$ROOT" bin/tool-extract CFLAGS=-O1 CPPFLAGS=-DUSER_MARK LDFLAGS=-Wl,-O1
	assert_success
	assert_output --partial '-O1'
	assert_output --partial '-DUSER_MARK'
	assert_output --partial '-Wl,-O1'
}

@test "every program and script prints the one version, the Makefile's VERSION" {
	version=$(make -s -C "$ROOT" print-version)
	[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	for p in llm-request tool-extract tool-run tool-append llm-prompt llm-mock \
		llm-loop llm-guard-blocklist llm-guard-json; do
		run --separate-stderr "$p" --version
		assert_success
		assert_output "$p $version"
		assert_equal "$stderr" ""
	done
}
