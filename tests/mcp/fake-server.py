#!/usr/bin/env python3
"""A legacy-era MCP stdio server whose misbehaviour the client tests need:
tools/list in two pages (the second cursor is the empty string, which is
valid), a tool that adds a tool and says the list changed, a tool that
reports progress, a tool that kills the server, and one that counts the
calls this process served."""
import json
import sys
import time

tools = [{"name": "one", "inputSchema": {"type": "object"}},
         {"name": "two", "description": "on page two", "inputSchema": {"type": "object"}},
         {"name": "grow", "inputSchema": {"type": "object"}},
         {"name": "progress", "inputSchema": {"type": "object"}},
         {"name": "die", "inputSchema": {"type": "object"}},
         {"name": "count", "inputSchema": {"type": "object"}}]
calls = 0


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def text(s):
    return {"content": [{"type": "text", "text": s}]}


wire = open(sys.argv[1], "a") if len(sys.argv) > 1 else None
for line in sys.stdin:
    if wire:
        wire.write(line)
        wire.flush()
    msg = json.loads(line)
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        continue
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": "2025-06-18", "capabilities": {"tools": {"listChanged": True}},
            "serverInfo": {"name": "fake", "version": "1"}}})
    elif method == "tools/list":
        cursor = msg.get("params", {}).get("cursor")
        if cursor is None:
            send({"jsonrpc": "2.0", "id": rid, "result": {"tools": tools[:1], "nextCursor": ""}})
        else:
            send({"jsonrpc": "2.0", "id": rid, "result": {"tools": tools[1:]}})
    elif method == "tools/call":
        calls += 1
        name = msg["params"]["name"]
        token = msg["params"].get("_meta", {}).get("progressToken")
        if name == "die":
            sys.exit(1)
        if name == "grow":
            tools.append({"name": "three", "inputSchema": {"type": "object"}})
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        if name == "progress":
            for i in (1, 2):
                send({"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                    "progressToken": token, "progress": i, "total": 2, "message": "step %d" % i}})
                time.sleep(0.05)
        send({"jsonrpc": "2.0", "id": rid, "result": text("%s %d" % (name, calls))})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no " + method}})
