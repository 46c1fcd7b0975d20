#!/usr/bin/env bats
# Streams and replies in the shapes providers other than OpenAI send,
# read completely: tests/fixtures/providers (see its README for how each
# stream and its expected document were made).

load helper

PROVIDERS="$BATS_TEST_DIRNAME/fixtures/providers"

local_setup() {
	echo '{"model":"m","messages":[{"role":"user","content":"hi"}]}' >req.json
}

# What the comparison looks at: the identity, every choice's message
# (with its reasoning, when there is one) and finish reason, the usage.
PROJECT='{id, created, model, system_fingerprint, choices: [.choices[] | {index, finish_reason, message: ({role: .message.role, content: .message.content, refusal: .message.refusal} + (.message | with_entries(select(.key == "tool_calls" or .key == "reasoning" or .key == "reasoning_content"))))}], usage}'

# replay NAME: llm-request --stream against llm-mock serving NAME.sse
# whole, then in 5-byte pieces; each must give NAME.expected.json. The
# response is left in $TMP/NAME.json.
replay() {
	local file=$PROVIDERS/$1.sse expected actual pieces
	expected=$(jq -cS . "$PROVIDERS/$1.expected.json")
	printf '[{"sse_file":"%s"},{"sse_file":"%s","chunk_bytes":5}]' \
		"$file" "$file" >script.json
	start_mock --script script.json
	for pieces in whole 5-byte; do
		run --separate-stderr llm-request -S -u "$MOCK_URL" req.json
		assert_success
		assert_equal "$stderr" ''
		actual=$(jq -cS "$PROJECT" <<<"$output")
		if [ "$actual" != "$expected" ]; then
			printf '%s delivered %s:\nexpected %s\nactual   %s\n' "$1" "$pieces" "$expected" "$actual" >&2
			return 1
		fi
	done
	printf '%s\n' "$output" >"$1.json"
}

@test "Azure: the empty first chunk (id \"\", created 0) decides nothing" {
	replay azure
	run jq -c '[.id, .created, .model, .system_fingerprint]' azure.json
	assert_output '["chatcmpl-AXjV2mP4qzT0b9cKXlqS1d8eUcRnF",1732610284,"gpt-4o-2024-08-06","fp_04751d0b65"]'
}

@test "llama.cpp: created is the last chunk's; reasoning_content deltas are joined" {
	replay llamacpp
	run jq -c '[.created, .choices[0].message.reasoning_content, .choices[0].message.content]' llamacpp.json
	assert_output '[1750000002,"Hmm, say hi back.","Hi!"]'
}

@test "Mistral: content as parts: the text parts are the reply, the thinking parts the reasoning" {
	replay mistral-thinking
	run jq -c '.choices[0].message | [.content, .reasoning]' mistral-thinking.json
	assert_output '["17 × 3 = **51**.","The user asks for 17 times 3. 17 * 3 = 51."]'
	run --separate-stderr tool-extract --reply mistral-thinking.json
	assert_success
	assert_output '17 × 3 = **51**.'
}

@test "Mistral: tool-extract --reply joins the text parts of a whole reply, without the thinking" {
	run --separate-stderr tool-extract --reply "$PROVIDERS/mistral-thinking.json"
	assert_success
	assert_output '17 × 3 = **51**.'
	assert_equal "$stderr" ''
}

@test "Mistral: a reply of thinking parts only has no text (exit 1)" {
	echo '{"choices":[{"message":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"hmm"}]}]}}]}' >r.json
	run --separate-stderr tool-extract --reply r.json
	assert_failure 1
	assert_output ''
	assert_equal "$stderr" ''
}

@test "--show shows the text parts of a stream, not the thinking" {
	printf '[{"sse_file":"%s"}]' "$PROVIDERS/mistral-thinking.sse" >script.json
	start_mock --script script.json
	run --separate-stderr llm-request -S --show -u "$MOCK_URL" req.json
	assert_success
	assert_equal "$stderr" '17 × 3 = **51**.'
}

@test "Snowflake: the usage chunk with an empty id is kept" {
	replay snowflake
	run jq -c '[.id, .model, .usage.total_tokens]' snowflake.json
	assert_output '["b7f0c3e2-5a41-4d8e-9c6b-2f1a0e9d8c7b","claude-3-5-sonnet",18]'
}

@test "Groq: reasoning deltas are joined; the usage comes from x_groq" {
	replay groq
	run jq -c '[.choices[0].message.reasoning, .usage.total_tokens]' groq.json
	assert_output '["Okay, 2 + 2 is 4.",34]'
}

@test "Ollama: reasoning, a whole tool call in one chunk, a usage chunk" {
	replay ollama
	run tool-extract ollama.json
	assert_success
	run jq -c '.[0] | [.id, .function.name, .function.arguments]' <<<"$output"
	assert_output '["call_p9x2k4mz","get_weather","{\"city\":\"Paris\"}"]'
}

@test "vLLM: content deltas that are all \"\" give content \"\", not null" {
	replay vllm-tools
	run jq -c '.choices[0].message.content' vllm-tools.json
	assert_output '""'
}

@test "a reply whose every content delta is \"\" has content \"\"" {
	replay empty-content
	run --separate-stderr tool-extract --reply empty-content.json
	assert_failure 1
	assert_output ''
}

@test "OpenRouter: comments, reasoning_details, a usage chunk after the finish" {
	replay openrouter
	run jq -c '[.choices[0].finish_reason, .choices[0].message.reasoning, .usage.cost]' openrouter.json
	assert_output '["stop","Count the letters.",0.0001]'
}

@test "tool calls without index or type (old Ollama) are read, not refused" {
	replay ollama-old-tools
	run jq -c '[.choices[0].message.tool_calls[] | [.id, .type, .function.arguments]]' ollama-old-tools.json
	assert_output '[["call_a1b2c3d4","function","{\"city\":\"Oslo\"}"],["call_e5f6g7h8","function","{\"city\":\"Bergen\"}"]]'
}

@test "chunks without a role are read: the role is assistant" {
	replay no-role
	run jq -c '.choices[0].message | [.role, .content]' no-role.json
	assert_output '["assistant","No role."]'
}

@test "a stream without finish_reason is read to [DONE]; an id of \"\" is kept" {
	replay no-finish-reason
	run jq -c '[.id, .choices[0].finish_reason, .choices[0].message.content, .usage.total_tokens]' no-finish-reason.json
	assert_output '["",null,"Done soon.",33]'
}

# Tool calls that local models wrote as text (tool-extract -W).

# calls FILE: the calls of tool-extract -W FILE as [name, arguments, id],
# every id non-empty and the ids unique.
calls() {
	local found
	run --separate-stderr tool-extract -W "$PROVIDERS/$1"
	assert_success
	assert_equal "$stderr" ''
	found=$output
	run jq -e '[.[].id] | all(length > 0) and (unique | length) == length' <<<"$found"
	assert_success
	run jq -c '[.[] | [.type, .function.name, .function.arguments]]' <<<"$found"
}

@test "without -W a call written as text is text: no calls (exit 1), the reply is all of it" {
	run --separate-stderr tool-extract "$PROVIDERS/text-hermes.json"
	assert_failure 1
	assert_output '[]'
	run --separate-stderr tool-extract --reply "$PROVIDERS/text-echoed.json"
	assert_success
	assert_output 'The tool said: <tool_call>{"name": "delete_all", "arguments": {}}</tool_call>, which I will not do.'
}

@test "-W: Hermes and Qwen <tool_call> blocks" {
	calls text-hermes.json
	assert_output '[["function","get_weather","{\"city\":\"Paris\"}"],["function","get_time","{}"]]'
}

@test "-W: an unclosed last <tool_call>; --reply gives the text around the call" {
	calls text-qwen3-unclosed.json
	assert_output '[["function","get_weather","{\"city\":\"Oslo\"}"]]'
	run --separate-stderr tool-extract -W --reply "$PROVIDERS/text-qwen3-unclosed.json"
	assert_success
	assert_output "$(printf '<think>\nThe user wants the weather.\n</think>')"
}

@test "-W: a closing tag inside the arguments is part of them; text after a call is kept" {
	jq -n '{choices: [{message: {role: "assistant", content: "<tool_call>{\"name\": \"say\", \"arguments\": {\"text\": \"</tool_call> is a tag\"}}</tool_call>\nDone."}}]}' >r.json
	run --separate-stderr tool-extract -W r.json
	assert_success
	run jq -c '[.[].function | [.name, .arguments]]' <<<"$output"
	assert_output '[["say","{\"text\":\"</tool_call> is a tag\"}"]]'
	run --separate-stderr tool-extract -W --reply r.json
	assert_success
	assert_output 'Done.'
}

@test "-W: Mistral's [TOOL_CALLS] array keeps the ids it gives" {
	calls text-mistral.json
	assert_output '[["function","get_weather","{\"city\":\"Paris\"}"],["function","get_time","{}"]]'
	run jq -c '[.[].id]' <<<"$(tool-extract -W "$PROVIDERS/text-mistral.json")"
	assert_output '["a1B2c3D4e","f5G6h7J8k"]'
}

@test "-W: Mistral's newer [TOOL_CALLS]name[ARGS]{...}, with and without [CALL_ID]" {
	calls text-mistral-v11.json
	assert_output '[["function","get_weather","{\"city\":\"Paris\"}"],["function","get_time","{}"]]'
	run jq -r '.[1].id' <<<"$(tool-extract -W "$PROVIDERS/text-mistral-v11.json")"
	assert_output 'x9Y8z7W6v'
}

@test "-W: Llama's <|python_tag|> calls separated by ;" {
	calls text-llama.json
	assert_output '[["function","get_weather","{\"city\":\"Paris\"}"],["function","get_time","{}"]]'
	run --separate-stderr tool-extract -W --reply "$PROVIDERS/text-llama.json"
	assert_failure 1
	assert_output ''
}

@test "-W: a broken call is no call: the text stays the reply" {
	run --separate-stderr tool-extract -W "$PROVIDERS/text-broken.json"
	assert_failure 1
	assert_output '[]'
	assert_equal "$stderr" ''
	run --separate-stderr tool-extract -W --reply "$PROVIDERS/text-broken.json"
	assert_success
	assert_output "$(jq -r '.choices[0].message.content' "$PROVIDERS/text-broken.json")"
}

@test "-W: calls the server parsed win over text that looks like calls" {
	jq '.choices[0].message.tool_calls = [{"id":"call_real","type":"function","function":{"name":"get_time","arguments":"{}"}}]' \
		"$PROVIDERS/text-hermes.json" >r.json
	run --separate-stderr tool-extract -W r.json
	assert_success
	run jq -c '[.[] | [.id, .function.name]]' <<<"$output"
	assert_output '[["call_real","get_time"]]'
}

@test "tool-append -W: the next request carries the calls read from the text, with the same ids" {
	echo '{"model":"m","messages":[{"role":"user","content":"weather?"}]}' >req.json
	tool-extract -W "$PROVIDERS/text-qwen3-unclosed.json" >calls.json
	jq '[.[] | {role: "tool", tool_call_id: .id, content: "sunny"}]' calls.json >results.json
	run --separate-stderr tool-append -W req.json "$PROVIDERS/text-qwen3-unclosed.json" <results.json
	assert_success
	run jq -c --slurpfile c calls.json '.messages[1:] | [.[0].tool_calls == $c[0], .[0].content, .[1].tool_call_id == $c[0][0].id]' <<<"$output"
	assert_output '[true,"<think>\nThe user wants the weather.\n</think>",true]'
	run --separate-stderr tool-append req.json "$PROVIDERS/text-qwen3-unclosed.json" <results.json
	assert_failure 3
	assert_output ''
	[[ $stderr == *"answers no tool call"* ]]
}

@test "llm-loop -W runs a call written as text and sends its result back" {
	mkdir tools.d
	cp "$ROOT/tools.d/add" "$ROOT/tools.d/add.json" tools.d/
	printf '%s' '[{"content":"<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 5, \"b\": 4}}\n</tool_call>"},{"content":"5 + 4 = 9."}]' >script.json
	start_mock --script script.json
	run --separate-stderr llm-loop -W -d tools.d -u "$MOCK_URL" "What is 5 + 4?"
	assert_success
	assert_output '5 + 4 = 9.'
	run jq -c 'select(.n == 2) | .body.messages[1:] | [.[0].content, .[0].tool_calls[0].function.name, .[1].content]' mock.log
	assert_output '[null,"add","9"]'
	run "$ROOT/tests/validate-request" --log mock.log
	assert_success
}

@test "llm-loop without -W prints a call written as text as the reply" {
	printf '%s' '[{"content":"<tool_call>{\"name\": \"add\", \"arguments\": {}}</tool_call>"}]' >script.json
	start_mock --script script.json
	run --separate-stderr llm-loop -N -u "$MOCK_URL" "What is 5 + 4?"
	assert_success
	assert_output '<tool_call>{"name": "add", "arguments": {}}</tool_call>'
}
