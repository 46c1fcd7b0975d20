#!/usr/bin/env bats
# The tools in tools.d, run directly: arguments as JSON on stdin, the
# result on stdout, exit 1 and a one-line message on stderr on failure.

load helper
bats_require_minimum_version 1.5.0

# call NAME ARGS: run tools.d/NAME with the JSON ARGS on its stdin.
call() {
	run --separate-stderr "$ROOT/tools.d/$1" <<<"$2"
}

# The tools: regular executable files with a valid tool name.
tool_names() {
	local f name
	for f in "$ROOT"/tools.d/*; do
		name=${f##*/}
		[[ $name =~ ^[A-Za-z0-9_-]{1,64}$ ]] || continue
		[ -f "$f" ] && [ -x "$f" ] && printf '%s\n' "$name"
	done
	return 0
}

@test "add: adds two integers" {
	call add '{"a": 5, "b": 4}'
	assert_success
	assert_output 9
	assert_equal "$stderr" ""
}

@test "add: adds decimals and negative numbers" {
	call add '{"a": 0.5, "b": -1.75}'
	assert_success
	json_eq "$output" -1.25
}

@test "add: prints a large sum as a JSON number" {
	call add '{"a": 1e300, "b": 1e300}'
	assert_success
	json_eq "$output" 2e300
}

@test "add: a missing argument is an error" {
	call add '{"a": 5}'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "add: missing argument: b"
}

@test "add: an argument that is not a number is an error" {
	call add '{"a": "5", "b": 4}'
	assert_failure 1
	assert_equal "$stderr" "add: argument a must be a number, not string"
}

@test "add: arguments that are not JSON are an error" {
	call add '{"a": 5,'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "add: arguments are not valid JSON"
}

@test "add: arguments that are not an object are an error" {
	call add '[5, 4]'
	assert_failure 1
	assert_equal "$stderr" \
	    "add: arguments must be a JSON object, not array"
}

@test "add: an operand on the command line is a usage error" {
	run --separate-stderr "$ROOT/tools.d/add" 5 </dev/null
	assert_failure 1
	assert_equal "$stderr" "usage: add < arguments.json"
}

@test "get_weather: answers in celsius by default" {
	call get_weather '{"city": "Tokyo"}'
	assert_success
	json_eq "$output" '{"city": "Tokyo", "temperature": 22,
	    "units": "celsius", "condition": "partly cloudy",
	    "source": "sample data"}'
}

@test "get_weather: matches a city ignoring case and blanks" {
	call get_weather '{"city": "  new YORK "}'
	assert_success
	json_eq "$(jq -c '[.city, .temperature]' <<<"$output")" \
	    '["New York", 25]'
}

@test "get_weather: converts to fahrenheit" {
	call get_weather '{"city": "London", "units": "fahrenheit"}'
	assert_success
	json_eq "$(jq -c '[.temperature, .units]' <<<"$output")" \
	    '[57.2, "fahrenheit"]'
}

@test "get_weather: an unknown city is an error naming the known ones" {
	call get_weather '{"city": "Atlantis"}'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "get_weather: unknown city: Atlantis (known:\
 Tokyo, London, Paris, New York, San Francisco, Sydney, Berlin, Cairo)"
}

@test "get_weather: units other than celsius or fahrenheit are an error" {
	call get_weather '{"city": "Paris", "units": "kelvin"}'
	assert_failure 1
	assert_equal "$stderr" "get_weather: argument units must be\
 celsius or fahrenheit, not kelvin"
}

@test "get_weather: a missing city is an error" {
	call get_weather '{"units": "celsius"}'
	assert_failure 1
	assert_equal "$stderr" "get_weather: missing argument: city"
}

@test "get_weather: a city that is not a string is an error" {
	call get_weather '{"city": 42}'
	assert_failure 1
	assert_equal "$stderr" \
	    "get_weather: argument city must be a string, not number"
}

@test "get_weather: arguments that are not an object are an error" {
	call get_weather '"Tokyo"'
	assert_failure 1
	assert_equal "$stderr" \
	    "get_weather: arguments must be a JSON object, not string"
}

@test "get_weather: arguments that are not JSON are an error" {
	call get_weather 'city=Tokyo'
	assert_failure 1
	assert_equal "$stderr" "get_weather: arguments are not valid JSON"
}

@test "search_products: finds products by name, ignoring case" {
	call search_products '{"query": "COFFEE"}'
	assert_success
	json_eq "$(jq -c 'map(.id)' <<<"$output")" '["P-3001", "P-3002"]'
}

@test "search_products: every word of the query must match" {
	call search_products '{"query": "kitchen knife"}'
	assert_success
	json_eq "$output" '[{"id": "P-3003", "name": "Chef'\''s Knife",
	    "price": 64.5, "category": "kitchen", "in_stock": true}]'
}

@test "search_products: returns at most 5 products by default" {
	call search_products '{"query": "e"}'
	assert_success
	assert_equal "$(jq length <<<"$output")" 5
}

@test "search_products: returns at most max_results products" {
	call search_products '{"query": "electronics", "max_results": 2}'
	assert_success
	json_eq "$(jq -c 'map(.id)' <<<"$output")" '["P-1001", "P-1002"]'
}

@test "search_products: no match is an empty array" {
	call search_products '{"query": "unicorn"}'
	assert_success
	assert_output "[]"
}

@test "search_products: max_results outside 1 to 20 is an error" {
	local n
	for n in 0 21 2.5 '"3"'; do
		call search_products "{\"query\": \"mug\", \"max_results\": $n}"
		assert_failure 1
		assert_output ""
		assert_regex "$stderr" \
		    '^search_products: argument max_results must'
	done
}

@test "search_products: an empty query is an error" {
	call search_products '{"query": " "}'
	assert_failure 1
	assert_equal "$stderr" \
	    "search_products: argument query must not be empty"
}

@test "search_products: a missing query is an error" {
	call search_products '{}'
	assert_failure 1
	assert_equal "$stderr" "search_products: missing argument: query"
}

@test "get_order_status: reports a shipped order with carrier and eta" {
	call get_order_status '{"order_id": "12345"}'
	assert_success
	json_eq "$(jq -c '[.order_id, .status, .carrier, .eta, .source]' \
	    <<<"$output")" '["12345", "shipped", "UPS", "2026-11-24",
	    "sample data"]'
}

@test "get_order_status: takes #12345 and 12345 for the same order" {
	call get_order_status '{"order_id": "12345"}'
	local plain=$output
	call get_order_status '{"order_id": "#12345"}'
	assert_success
	json_eq "$output" "$plain"
	call get_order_status '{"order_id": 12345}'
	assert_success
	json_eq "$output" "$plain"
}

@test "get_order_status: an unknown order is an error" {
	call get_order_status '{"order_id": "99999"}'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "get_order_status: unknown order: 99999\
 (sample orders: 12345, 12346, 12347, 12348, 12349)"
}

@test "get_order_status: a missing or mistyped order_id is an error" {
	call get_order_status '{}'
	assert_failure 1
	assert_equal "$stderr" "get_order_status: missing argument: order_id"
	call get_order_status '{"order_id": ["12345"]}'
	assert_failure 1
	assert_equal "$stderr" \
	    "get_order_status: argument order_id must be a string, not array"
}

@test "get_order_status: arguments that are not an object are an error" {
	call get_order_status 'null'
	assert_failure 1
	assert_equal "$stderr" \
	    "get_order_status: arguments must be a JSON object, not null"
}

@test "get_time: prints the UTC time as ISO 8601 and Unix seconds" {
	call get_time '{}'
	assert_success
	assert_equal "$stderr" ""
	run jq -r '[.utc, (.unix | tostring)] | join(" ")' <<<"$output"
	assert_success
	local utc=${output% *} unix=${output#* }
	assert_regex "$utc" \
	    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
	assert_equal "$(date -u -d "@$unix" +%Y-%m-%dT%H:%M:%SZ)" "$utc"
	local now
	now=$(date +%s)
	(( unix <= now && unix > now - 60 ))
}

@test "get_time: does not wait for arguments on a closed stdin" {
	run --separate-stderr "$ROOT/tools.d/get_time" </dev/null
	assert_success
	assert_regex "$output" '^\{"utc":"[^"]+","unix":[0-9]+\}$'
}

@test "get_time: --schema prints its function object" {
	run --separate-stderr "$ROOT/tools.d/get_time" --schema
	assert_success
	json_eq "$output" '{"name": "get_time",
	    "description": "Get the current date and time in UTC.",
	    "parameters": {"type": "object", "properties": {},
	    "additionalProperties": false}}'
}

@test "get_time: other operands are a usage error" {
	run --separate-stderr "$ROOT/tools.d/get_time" --help </dev/null
	assert_failure 1
	assert_equal "$stderr" "usage: get_time [--schema] < arguments.json"
}

@test "every sidecar is a function object named like its file" {
	local f name
	for f in "$ROOT"/tools.d/*.json; do
		name=${f##*/}
		name=${name%.json}
		run jq -e --arg name "$name" '
			.name == $name
			and (.description | type) == "string"
			and .parameters.type == "object"
			and (.parameters.properties | type) == "object"
			and ((.parameters.required // [])
			    - (.parameters.properties | keys) == [])
			and ([.parameters.properties[] | has("type")
			    and has("description")] | all)' "$f"
		assert_success
		[ -x "$ROOT/tools.d/$name" ] ||
		    [ -f "$ROOT/tools.d/$name.c" ]
	done
}

@test "every tool has a schema, from a sidecar or from --schema" {
	local name schema count=0
	while read -r name; do
		if [ -f "$ROOT/tools.d/$name.json" ]; then
			schema=$(cat "$ROOT/tools.d/$name.json")
		else
			schema=$("$ROOT/tools.d/$name" --schema </dev/null)
		fi
		json_eq "$(jq -c .name <<<"$schema")" "\"$name\""
		count=$((count + 1))
	done < <(tool_names)
	assert_equal "$count" 5
}

@test "the sample data says it is sample data" {
	local f
	for f in "$ROOT"/tools.d/sample-data/*.json; do
		run jq -r ._note "$f"
		assert_success
		assert_output --partial "SAMPLE DATA"
	done
}

@test "tools find their data from anywhere, in a bare environment" {
	mkdir -p "$TMP/share"
	cp -R "$ROOT/tools.d" "$TMP/share/"
	cd /
	run --separate-stderr env -i PATH="$PATH" \
	    "$TMP/share/tools.d/get_weather" <<<'{"city": "cairo"}'
	assert_success
	json_eq "$(jq -c .temperature <<<"$output")" 33
	run --separate-stderr env -i PATH="$PATH" \
	    "$TMP/share/tools.d/get_order_status" <<<'{"order_id": "12346"}'
	assert_success
	run --separate-stderr env -i PATH="$PATH" \
	    "$TMP/share/tools.d/search_products" <<<'{"query": "mug"}'
	assert_success
	json_eq "$(jq -c 'map(.id)' <<<"$output")" '["P-3001"]'
}
