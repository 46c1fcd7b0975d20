// The openai-node SDK's own function-calling loop (runTools) on the
// same server and with the same tool process as llm-loop: prints the
// final text. usage: node runtools.mjs BASE_URL TOOL TOOL_JSON PROMPT
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const [baseURL, tool, toolJSON, prompt] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(toolJSON, 'utf8'));
const client = new OpenAI({ baseURL, apiKey: 'bench' });
const runner = client.chat.completions.runTools({
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user', content: prompt }],
  tools: [{
    type: 'function',
    function: {
      name: spec.name,
      description: spec.description,
      parameters: spec.parameters,
      // The arguments as the model wrote them, on the tool's stdin.
      function: (args) => execFileSync(tool, { input: args }).toString(),
    },
  }],
}, { maxChatCompletions: 1000 });
console.log(await runner.finalContent());
