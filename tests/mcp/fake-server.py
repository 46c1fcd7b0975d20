#!/usr/bin/env python3
"""A legacy-era MCP stdio server whose misbehaviour the client tests need:
tools/list in two pages (the second cursor is the empty string, which is
valid), a tool that adds a tool and says the list changed, a tool that
reports progress, a tool that kills the server, and one that counts the
calls this process served."""
import json
import os
import sys
import time

tools = [{"name": "one", "inputSchema": {"type": "object"}},
         {"name": "two", "description": "on page two", "inputSchema": {"type": "object"}},
         {"name": "grow", "inputSchema": {"type": "object"}},
         {"name": "progress", "inputSchema": {"type": "object"}},
         {"name": "die", "inputSchema": {"type": "object"}},
         {"name": "count", "inputSchema": {"type": "object"}},
         {"name": "pid", "inputSchema": {"type": "object"}}]
calls = 0


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def text(s):
    return {"content": [{"type": "text", "text": s}]}


def answer(msg):
    """The response to msg, or None."""
    global calls
    method, rid = msg.get("method"), msg.get("id")
    if rid is None:
        return None
    if method == "initialize":
        return {"jsonrpc": "2.0", "id": rid, "result": {
            "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1"}}}
    if method == "tools/list":
        return {"jsonrpc": "2.0", "id": rid, "result": {"tools": tools[:2]}}
    if method == "tools/call":
        calls += 1
        return {"jsonrpc": "2.0", "id": rid, "result": text("%s %d" % (msg["params"]["name"], calls))}
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no " + method}}


def serve_http(port_file, log_file):
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def record(self, what):
            with open(log_file, "a") as f:
                f.write("%s %s %s %s\n" % (self.command, self.headers.get("Mcp-Session-Id", "-"),
                                          what, self.headers.get("X-Token", "-")))

        def do_POST(self):
            msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.record(msg.get("method"))
            sid = self.headers.get("Mcp-Session-Id")
            if msg.get("method") != "initialize" and sid != "s-1":
                self.send_response(400)
                self.end_headers()
                return
            out = answer(msg)
            if out is None:
                self.send_response(202)
                self.end_headers()
                return
            body = json.dumps(out).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s-1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_DELETE(self):
            self.record("-")
            self.send_response(200)
            self.end_headers()

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_port))
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if len(sys.argv) > 3 and sys.argv[1] == "--http":
    serve_http(sys.argv[2], sys.argv[3])
    sys.exit(0)
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
        if name == "pid":
            send({"jsonrpc": "2.0", "id": rid, "result": text(str(os.getpid()))})
            continue
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
