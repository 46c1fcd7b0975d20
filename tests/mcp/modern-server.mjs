// A modern-era (2026-07-28) stdio server on the MCP SDK v2 that refuses
// the initialize handshake: a client reaches its tool only through
// server/discover and per-request _meta. $MCP_NODE_MODULES names the
// node_modules directory of tests/mcp/install.
const nm = process.env.MCP_NODE_MODULES;
const { McpServer } = await import(`${nm}/@modelcontextprotocol/server/dist/index.mjs`);
const { serveStdio } = await import(`${nm}/@modelcontextprotocol/server/dist/stdio.mjs`);
const z = await import(`${nm}/zod/index.js`);

serveStdio(() => {
	const server = new McpServer({ name: "modern-fixture", version: "1.0.0" },
		{ capabilities: { tools: {} } });
	server.registerTool("add", {
		description: "Add two numbers",
		inputSchema: z.object({ a: z.number(), b: z.number() }),
	}, async ({ a, b }) => ({ content: [{ type: "text", text: `${a + b}` }] }));
	return server;
}, { legacy: "reject" });
