# model.jq: a deterministic offline model for "llm-mock --jq-file model.jq".
#
# Input:  a Chat Completions request body ($n, the request number, is bound
#         by llm-mock and not needed here).
# Output: one reply spec, either {"content": "text"} or
#         {"tool_calls": [{"name": "get_weather", "arguments": {...}}, ...]}.
#
# It reads only the last message. A question from the user becomes calls
# to the tools the request offers, or a text answer; tool results become a
# text answer composed from them. Written for jq 1.6 and later.

# The text of a message: content as a string or as an array of text parts.
def text_of:
  if (.content | type) == "string" then .content
  elif (.content | type) == "array" then
    [.content[] | select(type == "object") | .text? // empty] | join(" ")
  else "" end;

# Without the blanks around it and the punctuation after it.
def trim: sub("^\\s+"; "") | sub("[\\s?.!]+$"; "");

def reply($text): {content: $text};

def capabilities:
  "I am the offline demo model: I can add numbers, look up sample"
  + " weather, orders and products, and tell the time.";

# A price in dollars and cents: 34 -> "$34.00".
def dollars:
  (. * 100 | round) as $cents
  | ($cents % 100 | tostring | if length == 1 then "0" + . else . end)
    as $c
  | "$\($cents / 100 | floor).\($c)";

def number_re: "-?[0-9]+(?:\\.[0-9]+)?";

# "what is 5 + 4", "5 plus 4", "add 5 and 4", "the sum of 5 and 4"
def add_calls:
  [ capture("(?<a>\(number_re))\\s*(?:\\+|plus)\\s*(?<b>\(number_re))"; "i"),
    capture("(?:add|sum of)\\s+(?<a>\(number_re))\\s+(?:and|to)\\s+"
      + "(?<b>\(number_re))"; "i") ][:1]
  | map({name: "add",
         arguments: {a: (.a | tonumber), b: (.b | tonumber)}});

# "weather in Tokyo and London", "weather in Paris, Berlin and Cairo":
# one call per city, made in parallel.
def weather_calls:
  (if test("fahrenheit"; "i") then {units: "fahrenheit"} else {} end)
    as $units
  | [ capture("weather\\b.*?\\bin\\s+(?<places>.+)"; "i") | .places
      | gsub("\\b(?:in\\s+)?(?:fahrenheit|celsius|today|right now|now)\\b";
          ""; "i")
      | splits("\\s*(?:,|&|\\band\\b)\\s*"; "i") | trim | select(. != "")
      | {name: "get_weather", arguments: ({city: .} + $units)} ];

# "where is my order #12345", "status of order 12345"
def order_calls:
  [ [scan("[0-9]{3,}")][0] // empty
    | {name: "get_order_status", arguments: {order_id: .}} ];

def search_re:
  "^\\s*(?:please\\s+)?(?:search(?:\\s+for)?|find(?:\\s+me)?|look for"
  + "|do you (?:have|sell)|show me)\\b";

# "search for keyboards", "do you have a coffee mug", "find running shoes"
def search_calls:
  ascii_downcase
  | sub(search_re; "") | sub("^\\s*(?:an?|any|some|the)\\s+"; "")
  | sub("\\s+in stock\\b.*$"; "") | trim
  # plural to singular, so that "keyboards" finds "Mechanical Keyboard"
  | [splits("\\s+") | select(. != "")
     | if length > 3 then sub("s$"; "") else . end]
  | join(" ")
  | if . == "" then []
    else [{name: "search_products", arguments: {query: .}}] end;

# The calls that the question (the input text) asks for: [] when a detail
# is missing, null when it is no question for a tool.
def calls_for_question:
  if add_calls != [] then add_calls
  elif test("weather"; "i") then weather_calls
  elif test("\\border"; "i") then order_calls
  elif test(search_re; "i") then search_calls
  elif test("\\btime\\b|\\bdate\\b|what day"; "i") then
    [{name: "get_time", arguments: {}}]
  else null end;

# The answer to the user's question $text, given the tools on offer.
def answer_question($text):
  [.tools[]? | .function.name? // empty] as $offered
  | ($text | calls_for_question) as $calls
  | if $calls == null then reply(capabilities)
    elif $calls == [] and ($text | test("weather"; "i")) then
      reply("Which city? I know the sample weather of Tokyo, London,"
        + " Paris, New York, San Francisco, Sydney, Berlin and Cairo.")
    elif $calls == [] and ($text | test("order"; "i")) then
      reply("Which order? Please give me the order number, e.g. 12345.")
    elif $calls == [] then reply(capabilities)
    elif .tool_choice == "none" then
      reply("I would call \($calls[0].name) for that,"
        + " but tools are turned off.")
    elif all($calls[]; .name as $name | $offered | index([$name])) then
      {tool_calls: $calls}
    else
      reply("I would need the \($calls[0].name) tool for that,"
        + " and it is not available.")
    end;

def order_sentence:
  "Order \(.order_id) "
  + if .status == "shipped" then
      "is shipped via \(.carrier // "the carrier")"
      + (if .tracking then " (tracking \(.tracking))" else "" end)
      + (if .eta then ", expected \(.eta)" else "" end)
    elif .status == "delivered" then
      "was delivered" + (if .delivered then " on \(.delivered)" else "" end)
    else
      "is \(.status)" + (if .eta then ", expected \(.eta)" else "" end)
    end
  + ".";

def products_sentence($query):
  if . == [] then "No products match \"\($query)\"."
  else
    "Found \(length) product\(if length > 1 then "s" else "" end)"
    + " for \"\($query)\": "
    + ([.[] | "\(.name) (\(.price | dollars), "
        + (if .in_stock then "in stock" else "out of stock" end) + ")"]
       | join(", "))
    + "."
  end;

# One sentence from one tool result: $call is {name, arguments} (arguments
# parsed when they are JSON), $content the result text.
def sentence($call; $content):
  ($content | fromjson? // $content) as $result
  | ($result | type) as $kind
  | $call.arguments as $args
  | if $kind == "object" and ($result | has("error")) then
      "The tool reported an error: \($result.error
        | if type == "string" then . else .message? // tojson end | trim)."
    elif $call.name == "add" and ($args | type) == "object" then
      "\($args.a) + \($args.b) = \($content | trim)."
    elif $call.name == "get_weather" and $kind == "object" then
      "\($result.city): \($result.temperature) °"
      + (if $result.units == "fahrenheit" then "F" else "C" end)
      + ", \($result.condition) (sample data)."
    elif $call.name == "get_order_status" and $kind == "object" then
      $result | order_sentence
    elif $call.name == "search_products" and $kind == "array" then
      $result | products_sentence($args.query)
    elif $call.name == "get_time" and $kind == "object" then
      "It is \($result.utc) (UTC)."
    else "\($call.name // "The tool") returned: \($content | trim)."
    end;

# The answer from the tool results that end the conversation, each
# matched by its id to a call in the assistant message before them.
def answer_results:
  .messages as $messages
  | ([range(0; $messages | length) | select($messages[.].role != "tool")]
     | last // -1) as $before
  | ([$messages[$before].tool_calls?[]?
      | {key: .id,
         value: {name: .function.name,
                 arguments: (.function.arguments | fromjson? // .)}}]
     | from_entries) as $calls
  | [$messages[$before + 1:][]
     | sentence($calls[.tool_call_id // ""] // {}; text_of)]
  | reply(join(" "));

(.messages // []) as $messages
| if $messages == [] then reply(capabilities)
  elif $messages[-1].role == "tool" then answer_results
  elif $messages[-1].role == "user" then
    answer_question($messages[-1] | text_of)
  else reply(capabilities)
  end
