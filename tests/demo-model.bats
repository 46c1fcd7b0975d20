#!/usr/bin/env bats
# tests/demo/model.jq, the offline model behind the demo: the reply spec
# it gives for a request, run the way llm-mock runs it (with $n bound).

load helper
bats_require_minimum_version 1.5.0

local_setup() {
	# The tools of tools.d as a request's "tools" array.
	TOOLS=$( { cat "$ROOT"/tools.d/*.json
		"$ROOT/tools.d/get_time" --schema </dev/null; } |
	    jq -cs 'map({type: "function", function: .})')
}

# model REQUEST: run the model on the request document REQUEST.
model() {
	run --separate-stderr jq -c --argjson n 1 \
	    -f "$ROOT/tests/demo/model.jq" <<<"$1"
}

# ask TEXT [TOOLS]: the reply to a user asking TEXT, with TOOLS on offer
# (default: every tool in tools.d).
ask() {
	model "$(jq -nc --arg text "$1" --argjson tools "${2:-$TOOLS}" '
	    {model: "demo", tools: $tools, messages: [
	      {role: "system", content: "You are a helpful assistant."},
	      {role: "user", content: $text}]}')"
}

# answer CALLS RESULTS: the reply once the calls (an array of {name,
# arguments}) have the results (an array of strings), in the same order.
answer() {
	model "$(jq -nc --argjson calls "$1" --argjson results "$2" \
	    --argjson tools "$TOOLS" '
	    {model: "demo", tools: $tools, messages: ([
	      {role: "user", content: "question"},
	      {role: "assistant", content: null, tool_calls: [$calls
	        | to_entries[] | {id: "call_\(.key)", type: "function",
	          function: {name: .value.name,
	                     arguments: (.value.arguments | tojson)}}]}]
	      + [$results | to_entries[]
	        | {role: "tool", tool_call_id: "call_\(.key)",
	           content: .value}])}')"
}

# as_results VALUE...: the JSON VALUEs as an array of result texts.
as_results() {
	printf '%s\n' "$@" | jq -cs 'map(tojson)'
}

# expect SPEC: the model succeeded and replied SPEC, one JSON line.
expect() {
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	json_eq "$output" "$1"
}

# expect_text TEXT: the model succeeded and answered TEXT.
expect_text() {
	expect "$(jq -nc --arg text "$1" '{content: $text}')"
}

@test "calls add for 'what is X + Y'" {
	ask "What is 5 + 4?"
	expect '{"tool_calls": [{"name": "add",
	    "arguments": {"a": 5, "b": 4}}]}'
}

@test "calls add with decimals and negative numbers" {
	ask "what is -1.5 plus 2.25"
	expect '{"tool_calls": [{"name": "add",
	    "arguments": {"a": -1.5, "b": 2.25}}]}'
}

@test "calls add for 'add X and Y'" {
	ask "Please add 3 and 7."
	expect '{"tool_calls": [{"name": "add",
	    "arguments": {"a": 3, "b": 7}}]}'
}

@test "calls get_weather for one city" {
	ask "What's the weather like in Tokyo?"
	expect '{"tool_calls": [{"name": "get_weather",
	    "arguments": {"city": "Tokyo"}}]}'
}

@test "calls get_weather in parallel, once per city" {
	ask "What is the weather in Tokyo and London?"
	expect '{"tool_calls": [
	    {"name": "get_weather", "arguments": {"city": "Tokyo"}},
	    {"name": "get_weather", "arguments": {"city": "London"}}]}'
}

@test "calls get_weather for a list of cities, in fahrenheit when asked" {
	ask "Weather in Paris, New York and San Francisco in Fahrenheit"
	expect '{"tool_calls": [
	    {"name": "get_weather",
	     "arguments": {"city": "Paris", "units": "fahrenheit"}},
	    {"name": "get_weather",
	     "arguments": {"city": "New York", "units": "fahrenheit"}},
	    {"name": "get_weather",
	     "arguments": {"city": "San Francisco", "units": "fahrenheit"}}]}'
}

@test "asks which city when the weather question names none" {
	ask "How is the weather?"
	expect_text "Which city? I know the\
 sample weather of Tokyo, London, Paris, New York, San Francisco, Sydney,\
 Berlin and Cairo."
}

@test "calls get_order_status for an order number with or without #" {
	ask "Where is my order #12345?"
	expect '{"tool_calls": [{"name": "get_order_status",
	    "arguments": {"order_id": "12345"}}]}'
	ask "status of order 12349 please"
	expect '{"tool_calls": [{"name": "get_order_status",
	    "arguments": {"order_id": "12349"}}]}'
}

@test "asks for the order number when there is none" {
	ask "Where is my order?"
	expect_text "Which order? Please give me the order number, e.g. 12345."
}

@test "calls search_products with the words searched for" {
	ask "Do you have a coffee mug?"
	expect '{"tool_calls": [{"name": "search_products",
	    "arguments": {"query": "coffee mug"}}]}'
	ask "Search for keyboards"
	expect '{"tool_calls": [{"name": "search_products",
	    "arguments": {"query": "keyboard"}}]}'
}

@test "calls get_time for the time" {
	ask "What time is it?"
	expect '{"tool_calls": [{"name": "get_time", "arguments": {}}]}'
}

@test "reads a user message given as text parts" {
	model "$(jq -nc --argjson tools "$TOOLS" '{tools: $tools, messages: [
	    {role: "user",
	     content: [{type: "text", text: "what is 2 + 2"}]}]}')"
	expect '{"tool_calls": [{"name": "add",
	    "arguments": {"a": 2, "b": 2}}]}'
}

@test "answers in text when no tool fits the question" {
	ask "Hello there"
	expect_text "I am the offline demo model: I can add numbers,\
 look up sample weather, orders and products, and tell the time."
}

@test "does not call a tool that the request does not offer" {
	local tools
	tools=$(jq -c 'map(select(.function.name != "get_weather"))' \
	    <<<"$TOOLS")
	ask "What is the weather in Tokyo?" "$tools"
	expect_text "I would need the get_weather tool for that,\
 and it is not available."
	ask "What is 1 + 1?" "[]"
	expect_text "I would need the add tool for that,\
 and it is not available."
}

@test "does not call tools with tool_choice none" {
	model "$(jq -nc --argjson tools "$TOOLS" '{tools: $tools,
	    tool_choice: "none",
	    messages: [{role: "user", content: "1 + 1?"}]}')"
	assert_success
	assert_equal "$(jq -c 'has("tool_calls")' <<<"$output")" false
}

@test "answers from an add result" {
	answer '[{"name": "add", "arguments": {"a": 5, "b": 4}}]' '["9"]'
	expect_text "5 + 4 = 9."
}

@test "answers from parallel weather results, one sentence each" {
	answer '[{"name": "get_weather", "arguments": {"city": "Tokyo"}},
	    {"name": "get_weather", "arguments": {"city": "London"}}]' \
	    "$(as_results '{"city": "Tokyo", "temperature": 22,
	    "units": "celsius", "condition": "partly cloudy"}' \
	    '{"city": "London", "temperature": 57.2, "units": "fahrenheit",
	    "condition": "light rain"}')"
	expect_text "Tokyo: 22 °C, partly cloudy (sample data).\
 London: 57.2 °F, light rain (sample data)."
}

@test "answers from an order result" {
	answer '[{"name": "get_order_status",
	    "arguments": {"order_id": "12345"}}]' \
	    "$(as_results '{"order_id": "12345", "status": "shipped",
	    "carrier": "UPS", "tracking": "1Z9", "eta": "2026-11-24"}')"
	expect_text "Order 12345 is shipped via UPS (tracking 1Z9),\
 expected 2026-11-24."
}

@test "answers from a product search result" {
	answer '[{"name": "search_products",
	    "arguments": {"query": "coffee"}}]' \
	    "$(as_results '[{"name": "Coffee Mug", "price": 9.99,
	    "in_stock": true}, {"name": "French Press", "price": 34,
	    "in_stock": false}]')"
	expect_text "Found 2 products for \"coffee\": Coffee Mug\
 (\$9.99, in stock), French Press (\$34.00, out of stock)."
	answer '[{"name": "search_products",
	    "arguments": {"query": "unicorn"}}]' \
	    "$(as_results '[]')"
	expect_text "No products match \"unicorn\"."
}

@test "answers from a get_time result" {
	answer '[{"name": "get_time", "arguments": {}}]' \
	    "$(as_results '{"utc": "2026-11-21T05:43:48Z",
	    "unix": 1795239828}')"
	expect_text "It is 2026-11-21T05:43:48Z (UTC)."
}

@test "reports an error result to the user" {
	answer '[{"name": "get_weather", "arguments": {"city": "Tokyo"}},
	    {"name": "get_weather", "arguments": {"city": "Atlantis"}}]' \
	    "$(as_results '{"city": "Tokyo", "temperature": 22,
	    "units": "celsius", "condition": "partly cloudy"}' \
	    '{"error": "get_weather: unknown city: Atlantis"}')"
	expect_text "Tokyo: 22 °C, partly cloudy (sample data).\
 The tool reported an error: get_weather: unknown city: Atlantis."
}

@test "answers from a plain text result of an unknown tool" {
	answer '[{"name": "echo", "arguments": {}}]' '["hello\n"]'
	expect_text "echo returned: hello."
}

@test "answers the last user question after earlier tool results" {
	model "$(jq -nc --argjson tools "$TOOLS" '{tools: $tools, messages: [
	    {role: "user", content: "what is 1 + 1"},
	    {role: "assistant", content: null, tool_calls: [{id: "c1",
	      type: "function",
	      function: {name: "add", arguments: "{\"a\":1,\"b\":1}"}}]},
	    {role: "tool", tool_call_id: "c1", content: "2"},
	    {role: "assistant", content: "1 + 1 = 2."},
	    {role: "user", content: "and the time?"}]}')"
	expect '{"tool_calls": [{"name": "get_time", "arguments": {}}]}'
}

@test "gives the same reply whatever the request number" {
	local first
	ask "weather in Berlin"
	first=$output
	run --separate-stderr jq -c --argjson n 7 \
	    -f "$ROOT/tests/demo/model.jq" \
	    <<<"$(jq -nc --argjson tools "$TOOLS" '{tools: $tools,
	    messages: [{role: "user", content: "weather in Berlin"}]}')"
	assert_success
	json_eq "$output" "$first"
}

@test "its calls run as the tools expect, and it answers from them" {
	local question calls call results
	for question in "what is 2.5 + 4" "weather in Tokyo and Cairo" \
	    "where is order #12347" "find a desk lamp" "what time is it"; do
		ask "$question"
		assert_success
		calls=$(jq -c .tool_calls <<<"$output")
		results='[]'
		while read -r call; do
			run --separate-stderr \
			    "$ROOT/tools.d/$(jq -r .name <<<"$call")" \
			    <<<"$(jq -c .arguments <<<"$call")"
			assert_success
			results=$(jq -c --arg result "$output" '. + [$result]' \
			    <<<"$results")
		done < <(jq -c '.[]' <<<"$calls")
		assert_equal "$(jq length <<<"$results")" \
		    "$(jq length <<<"$calls")"
		answer "$calls" "$results"
		assert_success
		refute_output --partial "error"
		assert_equal "$(jq -r 'keys | join(",")' <<<"$output")" content
	done
}
