/*
 * The text of a reply, and the tool calls a model wrote into it as text
 * when the server's parser missed them (local models behind vLLM,
 * Ollama or llama.cpp).  Three forms are read:
 *
 *	<tool_call>{"name":N,"arguments":A}</tool_call>   Hermes, Qwen
 *	    (repeatable; the last closing tag may be missing)
 *	[TOOL_CALLS][{"name":N,"arguments":A,"id":I},...]  Mistral
 *	[TOOL_CALLS]N[ARGS]A    or  [TOOL_CALLS]N[CALL_ID]I[ARGS]A
 *	    (Mistral's newer form, repeatable)
 *	<|python_tag|>{"name":N,"parameters":A}           Llama 3
 *	    (several separated by ";"; <|eom_id|> or <|eot_id|> after)
 *
 * A call needs a non-empty string name; its arguments ("arguments" or
 * "parameters") are an object, a string or absent, and every JSON text
 * must be strict JSON.  When any call of a text is broken, the text holds
 * no call at all: it stays a reply.  Nothing here prints or exits.
 */
#ifndef LLM_TEXTCALLS_H
#define LLM_TEXTCALLS_H

#include <stddef.h>

#include <jv.h>

/* The text of message.content (message borrowed): the string itself, or
 * the "text" parts of a list of parts joined (Mistral's "thinking" parts
 * and other kinds left out); null when there is none. */
jv message_text(jv message);

/* message (consumed), its content made message_text() when it is a list
 * of parts. */
jv message_with_text(jv message);

/* The calls written in text[0..len), as [{type:"function", function:
 * {name, arguments (a JSON string)}}] with an "id" where the text gives
 * one, and in *rest the text around them, trimmed (null when nothing is
 * left).  An invalid value when the text holds no well-formed call;
 * *rest is then untouched. */
jv text_calls_parse(const char *text, size_t len, jv *rest);

/* response (consumed), with the calls written in the text of choices[0]
 * made its tool_calls and its content the text around them, when that
 * message has no tool_calls of its own; else as it was. */
jv text_calls_response(jv response);

#endif
