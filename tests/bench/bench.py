"""The benchmark of make bench: every figure the README quotes, measured
with repeated runs against llm-mock on loopback, min and median.

  1. each filter on a small document and on a 10 MB conversation
     (1,000+ messages): time and peak RSS;
  2. llm-request against curl posting the same body to the same server;
  3. a two-turn llm-loop with one tool call against its bare parts (two
     curl POSTs and one tool process): the loop's own cost per turn;
  4. tool-run with 8 parallel calls of a 0.5 s tool, and what the
     default isolation of a tool (its own namespaces) costs per call;
  5. streaming: reassembly throughput and time to the first text byte;
  6. 1,000, 10,000 and 100,000 tool calls through tool-extract,
     tool-run --dry-run and tool-append: linear in the number of calls.
  7. schema patterns: a match that backtracks for ever, stopped at its
     bound (on 30,000 characters and on 1 MB), and 1,000 and 10,000
     calls whose patterns are compiled once.
  8. a tools/call of add through tool-serve over stdio, per call, against
     tool-run running the same call and the tool's own run.
  9. MCP servers as tools (when tests/mcp/install has installed them): a
     call to a warm server-everything through tool-mcp and through
     tool-run, against the server's own round trip, and the start-up a
     run pays once per server.

usage: tests/bench/run [-n RUNS]
"""
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[sys.argv.index("-n") + 1]) if "-n" in sys.argv else 30
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = tempfile.mkdtemp(prefix="llm-bench.")
# The loop keeps its runs here, not in the user's state directory, and
# the holder it keeps for the next runs listens here, not in the user's.
os.environ["LLM_RUNS_DIR"] = os.path.join(WORK, "runs")
os.environ["XDG_RUNTIME_DIR"] = os.path.join(WORK, "run")
os.mkdir(os.environ["XDG_RUNTIME_DIR"], 0o700)
for v in ("LLM_HOLDER", "LLM_HOLDER_IDLE"):
    os.environ.pop(v, None)
rows = []


MEASURE = os.path.join(ROOT, "build", "bench", "measure")


def measure(argv, stdin=None, runs=RUNS):
    """Min and median wall seconds, and peak RSS in KiB, of argv."""
    out = subprocess.run([MEASURE, str(runs), stdin or "-"] + argv, cwd=WORK,
                         stdout=subprocess.PIPE, check=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def row(name, mn, med, extra=""):
    rows.append((name, "%.2f" % (mn * 1000), "%.2f" % (med * 1000), extra))


def section(title):
    rows.append((title, None, None, None))


def write(name, obj):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


mocks = [0]


@contextlib.contextmanager
def mock(*args):
    """An llm-mock with args on a free port, for a with block: its URL."""
    mocks[0] += 1
    port_file = os.path.join(WORK, "port.%d" % mocks[0])
    p = subprocess.Popen(["llm-mock", "-p", "0", "--port-file", port_file] + list(args),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.01)
        with open(port_file) as f:
            yield "http://127.0.0.1:%s/v1" % f.read().strip()
    finally:
        p.terminate()
        p.wait()


def server_round_trip(node, server, runs):
    """Min and median seconds of a get-sum call straight to a warm
    server-everything over its pipes: the server's own time."""
    p = subprocess.Popen([node, server, "stdio"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def ask(i, method, params):
        p.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method,
                                   "params": params}) + "\n").encode())
        p.stdin.flush()
        while True:
            msg = json.loads(p.stdout.readline())
            if msg.get("id") == i:
                return msg
    ask(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                          "clientInfo": {"name": "bench", "version": "1"}})
    p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    times = []
    for i in range(runs + 5):
        t = time.perf_counter()
        ask(10 + i, "tools/call", {"name": "get-sum", "arguments": {"a": 5, "b": 4}})
        times.append(time.perf_counter() - t)
    p.stdin.close()
    p.wait()
    times = times[5:]
    return min(times), statistics.median(times)


def bench_mcp(d):
    nm = os.path.join(ROOT, "build", "mcp", "node_modules")
    node = os.path.join(nm, "node", "bin", "node")
    server = os.path.join(nm, "@modelcontextprotocol", "server-everything",
                          "dist", "index.js")
    section("9. MCP: server-everything's get-sum, warm, and a server's start-up")
    if not os.path.exists(server):
        rows.append(("  (not measured: run sh tests/mcp/install first)",
                     None, None, None))
        return
    cfg = write("mcp.json", {"mcpServers": {"ev": {"command": node,
                                                   "args": [server, "stdio"]}}})
    own = server_round_trip(node, server, RUNS)
    row("server's own round trip (a client in Python)", own[0], own[1], "")
    hold = os.path.join(WORK, "hold")
    os.mkdir(hold)
    holder = subprocess.Popen(["tool-mcp", "--hold", hold, "-M", cfg],
                              stderr=subprocess.DEVNULL)
    os.environ["LLM_MCP_SOCKET"] = os.path.join(hold, "mcp.sock")
    try:
        subprocess.check_output(["tool-mcp", "-l"])     # the server starts
        os.environ["TOOL_NAME"] = "ev_get-sum"
        args = os.path.join(WORK, "sum-args.json")
        with open(args, "w") as f:
            f.write('{"a":5,"b":4}')
        warm = measure(["tool-mcp"], stdin=args)
        del os.environ["TOOL_NAME"]
        row("tool-mcp, one call, warm", warm[0], warm[1],
            "%.1f ms beyond the server's own time" % ((warm[1] - own[1]) * 1000))
        calls = write("mcp-calls.json", [{"id": "c1", "type": "function",
            "function": {"name": "ev_get-sum", "arguments": '{"a":5,"b":4}'}}])
        run = measure(["tool-run"] + d + [calls])
        row("tool-run, one call, warm holder", run[0], run[1],
            "%.1f ms beyond the server's own time" % ((run[1] - own[1]) * 1000))
        lst = measure(["tool-mcp", "-l"])
        row("tool-mcp -l, warm", lst[0], lst[1], "")
    finally:
        del os.environ["LLM_MCP_SOCKET"]
        holder.terminate()
        holder.wait()
    cold = measure(["tool-mcp", "-l", "-M", cfg], runs=max(3, RUNS // 6))
    row("tool-mcp -l, cold (holder and server started)", cold[0], cold[1],
        "start-up per server: %.0f ms" % ((cold[1] - lst[1]) * 1000))


def main():
    os.makedirs(os.path.join(WORK, "tools.d"))
    for f in ("add", "add.json"):
        shutil.copy(os.path.join(ROOT, "tools.d", f), os.path.join(WORK, "tools.d"))
    tools = json.loads(subprocess.check_output(
        ["tool-run", "-d", os.path.join(WORK, "tools.d"), "--list"]))
    call = {"id": "call_1", "type": "function",
            "function": {"name": "add", "arguments": "{\"a\":5,\"b\":4}"}}
    small_req = write("small-req.json", {"model": "m", "tools": tools,
        "messages": [{"role": "user", "content": "What is 5 + 4?"}]})
    small_resp = write("small-resp.json", {"id": "c", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [call]}}]})
    small_calls = write("small-calls.json", [call])
    small_results = write("small-results.json", [
        {"role": "tool", "tool_call_id": "call_1", "content": "9"}])
    # A 10 MB conversation: 1,800 messages, 1,200 of them of 8.5 KB.
    text = ("All work and no play makes a dull model. " * 200)[:8500]
    msgs = []
    for i in range(600):
        cid = "call_%d" % i
        msgs += [{"role": "user", "content": text},
                 {"role": "assistant", "content": None, "tool_calls": [
                     dict(call, id=cid)]},
                 {"role": "tool", "tool_call_id": cid, "content": text}]
    big_req = write("big-req.json", {"model": "m", "tools": tools, "messages": msgs})
    big_resp = write("big-resp.json", {"id": "c", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": text * 1200,
            "tool_calls": [call]}}]})
    big_args = json.dumps({"a": 1, "b": 2, "pad": text * 1200})
    big_calls = write("big-calls.json", [dict(call, function={
        "name": "add_pad", "arguments": big_args})])
    with open(os.path.join(WORK, "tools.d", "add_pad"), "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\necho 3\n")
    os.chmod(os.path.join(WORK, "tools.d", "add_pad"), 0o755)
    big_size = os.path.getsize(big_req)

    mid_req = write("mid-req.json", {"model": "m", "tools": tools,
                                      "messages": msgs[:180]})
    mid_resp = write("mid-resp.json", {"id": "c", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": text * 120, "tool_calls": [call]}}]})
    mid_calls = write("mid-calls.json", [dict(call, function={
        "name": "add_pad", "arguments": json.dumps(
            {"a": 1, "b": 2, "pad": text * 120})})])
    d = ["-d", os.path.join(WORK, "tools.d")]
    size = os.path.getsize
    cases = [
        ("tool-extract", ["tool-extract", small_resp], None,
         ["tool-extract", big_resp], None, ["tool-extract", mid_resp],
         size(big_resp)),
        ("tool-append", ["tool-append", small_req, small_resp], small_results,
         ["tool-append", big_req, small_resp], small_results,
         ["tool-append", mid_req, small_resp], size(big_req)),
        ("llm-prompt -c", ["llm-prompt", "-c", small_req, "more"], None,
         ["llm-prompt", "-c", big_req, "more"], None,
         ["llm-prompt", "-c", mid_req, "more"], size(big_req)),
        ("tool-run (add)", ["tool-run"] + d + [small_calls], None,
         ["tool-run"] + d + [big_calls], None,
         ["tool-run"] + d + [mid_calls], size(big_calls)),
    ]
    print("machine: %s, %d cores, %s; %d runs each" % (
        platform.processor() or platform.machine(), os.cpu_count(),
        platform.platform(), RUNS))
    section("1. filters: small document / %.1f MB conversation (%d messages)"
            % (big_size / 1e6, len(msgs)))
    t_floor = measure(["true"])
    row("(process start: true)", t_floor[0], t_floor[1], "")
    for name, small, sin, big, bin_, mid, inp in cases:
        s = measure(small, sin)
        m = measure(mid, bin_, runs=max(5, RUNS // 3))
        b = measure(big, bin_, runs=max(5, RUNS // 3))
        row(name + " small", s[0], s[1], "peak RSS %.1f MB" % (s[2] / 1024))
        row(name + " 1 MB", m[0], m[1], "")
        row(name + " 10 MB", b[0], b[1], "%.1fx the 1 MB time; peak RSS "
            "%.1f MB = %.1fx input" % (b[1] / m[1], b[2] / 1024,
                                        b[2] * 1024 / inp))

    with mock("--jq", "{content: \"ok\"}") as url:
        section("2. llm-request against curl, same body, same server")
        for label, body in (("small", small_req), ("10 MB", big_req)):
            a = measure(["llm-request", "-u", url, body])
            c = measure(["curl", "-s", "-o", "/dev/null", "-H",
                         "Content-Type: application/json",
                         "--data-binary", "@" + body, url + "/chat/completions"])
            row("llm-request " + label, a[0], a[1], "")
            row("curl " + label, c[0], c[1], "ratio of medians %.2f" % (a[1] / c[1]))

    section("3. a two-turn loop (one tool call) against its bare parts")
    call_add = {"tool_calls": [{"id": "call_1", "name": "add",
                                "arguments": {"a": 5, "b": 4}}]}
    script = write("loop-script.json",
                   ([call_add, {"content": "9"}] * (RUNS + 10)))
    # A six-turn loop too (five calls, then the answer): the difference
    # between the two separates what a turn costs from what a run costs.
    script6 = write("loop6-script.json",
                    ([call_add] * 5 + [{"content": "9"}]) * (RUNS + 10))
    with mock("--script", script) as url:
        loop = measure(["llm-loop", "-q", "-u", url] + d + ["What is 5 + 4?"],
                       runs=RUNS)
    with mock("--script", script6) as url:
        loop6 = measure(["llm-loop", "-q", "-u", url] + d + ["What is 5 + 4?"],
                        runs=RUNS)
    with mock("--jq", "{content: \"ok\"}") as url:
        post = measure(["curl", "-s", "-o", "/dev/null", "-H",
                        "Content-Type: application/json",
                        "--data-binary", "@" + small_req, url + "/chat/completions"])
        tool = measure([os.path.join(WORK, "tools.d", "add")],
                       write("args.json", {"a": 5, "b": 4}))
    parts = 2 * post[1] + tool[1]
    row("llm-loop, 2 turns", loop[0], loop[1], "")
    row("2 curl POSTs + 1 tool", 2 * post[0] + tool[0], parts, "")
    row("loop overhead per turn (2 turns)", (loop[0] - 2 * post[0] - tool[0]) / 2,
        (loop[1] - parts) / 2, "run costs included")
    row("llm-loop, 6 turns", loop6[0], loop6[1], "")
    per_turn = (loop6[1] - loop[1] - 4 * post[1] - 4 * tool[1]) / 4
    row("loop overhead of one more turn", (loop6[0] - loop[0] - 4 * post[0]
        - 4 * tool[0]) / 4, per_turn, "run costs once: %.1f ms" % (
        (loop[1] - parts - 2 * per_turn) * 1000))
    # The same two turns with 1 MB of arguments in the call: what they add
    # is the filters' work on the megabyte; the shell never reads it.
    pad = {"tool_calls": [{"id": "call_1", "name": "add_pad", "arguments": {
        "a": 5, "b": 4, "pad": text * 120}}]}
    pad_runs = max(5, RUNS // 3)
    script_pad = write("loop-pad-script.json",
                       [pad, {"content": "9"}] * (pad_runs + 10))
    with mock("--script", script_pad) as url:
        loop_pad = measure(["llm-loop", "-q", "-u", url] + d +
                           ["What is 5 + 4?"], runs=pad_runs)
    row("llm-loop, 2 turns, 1 MB of arguments", loop_pad[0], loop_pad[1],
        "%.0f ms over the small call" % ((loop_pad[1] - loop[1]) * 1000))

    section("4. tool-run: 8 parallel calls of a 0.5 s tool; isolation per call")
    with open(os.path.join(WORK, "tools.d", "nap"), "w") as f:
        f.write("#!/bin/sh\nsleep 0.5\necho rested\n")
    os.chmod(os.path.join(WORK, "tools.d", "nap"), 0o755)
    write("tools.d/nap.json", {"name": "nap", "parameters": {"type": "object"}})
    naps = write("naps.json", [{"id": "n%d" % i, "type": "function",
        "function": {"name": "nap", "arguments": "{}"}} for i in range(8)])
    par = measure(["tool-run"] + d + [naps], runs=max(5, RUNS // 6))
    row("tool-run 8 x 0.5 s", par[0], par[1], "%.0f ms over the slowest tool"
        % ((par[1] - 0.5) * 1000))
    # The same call of add, in its own user and PID namespace (the
    # default) and with --sandbox none: the difference is what isolation
    # costs a call; 8 calls in one run show it per call, not per run.
    calls8 = write("calls8.json", [dict(call, id="c%d" % i) for i in range(8)])
    iso = measure(["tool-run"] + d + [small_calls])
    bare = measure(["tool-run", "-B", "none"] + d + [small_calls])
    iso8 = measure(["tool-run", "-P", "1"] + d + [calls8])
    bare8 = measure(["tool-run", "-P", "1", "-B", "none"] + d + [calls8])
    row("tool-run 1 call, isolated (default)", iso[0], iso[1], "")
    row("tool-run 1 call, --sandbox none", bare[0], bare[1],
        "isolation costs %.2f ms" % ((iso[1] - bare[1]) * 1000))
    row("tool-run 8 calls -P 1, isolated", iso8[0], iso8[1], "")
    row("tool-run 8 calls -P 1, --sandbox none", bare8[0], bare8[1],
        "isolation costs %.2f ms per call" % ((iso8[1] - bare8[1]) * 1000 / 8))

    section("5. streaming")
    stream = os.path.join(WORK, "big.sse")
    chunk = ('data: {"id":"x","object":"chat.completion.chunk","created":1,'
             '"model":"m","choices":[{"index":0,"delta":{"content":"%s"},'
             '"finish_reason":null}]}\n\n') % ("stream " * 8)
    with open(stream, "w") as f:
        n = 0
        while n < 20_000_000:
            f.write(chunk)
            n += len(chunk)
        f.write('data: {"id":"x","object":"chat.completion.chunk","choices":'
                '[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
    size = os.path.getsize(stream)
    with mock("--jq", '{sse_file: "%s"}' % stream) as url:
        st = measure(["llm-request", "-S", "--max-response", str(1 << 30), "-u", url, small_req],
                     runs=5)
        cu = measure(["curl", "-s", "-N", "-o", "/dev/null", "--data-binary",
                      "@" + small_req, url + "/chat/completions"], runs=5)
    row("llm-request -S, %.0f MB stream" % (size / 1e6), st[0], st[1],
        "%.0f MB/s" % (size / 1e6 / st[1]))
    row("curl, same stream", cu[0], cu[1], "%.0f MB/s" % (size / 1e6 / cu[1]))

    # First byte: the mock holds the stream back 300 ms; both clients start
    # at once, and we note when each first writes a byte.
    lat = {"llm-request": [], "curl": []}
    with mock("--jq", '{content: "first byte", delay_ms: 300, chunk_bytes: 64}') as url:
        for _ in range(max(5, RUNS // 3)):
            for name, argv, which in (
                    ("llm-request", ["llm-request", "-S", "--show", "-u", url, small_req], "stderr"),
                    ("curl", ["curl", "-s", "-N", "--data-binary", "@" + small_req,
                              url + "/chat/completions"], "stdout")):
                t0 = time.perf_counter()
                p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                getattr(p, which).read(1)
                lat[name].append(time.perf_counter() - t0)
                p.communicate()
    lr, lc = statistics.median(lat["llm-request"]), statistics.median(lat["curl"])
    row("first text byte, llm-request", min(lat["llm-request"]), lr, "")
    row("first body byte, curl", min(lat["curl"]), lc,
        "difference of medians %.2f ms" % ((lr - lc) * 1000))

    section("6. many tool calls: 1,000 / 10,000 / 100,000 (x10 in time "
            "is linear)")
    many = {}
    for n in (1000, 10000, 100000):
        calls = [{"id": "call_%d" % i, "type": "function", "function": {
            "name": "add", "arguments": json.dumps({"a": i, "b": 1})}}
            for i in range(n)]
        many[n] = (
            write("many-resp.%d.json" % n, {"id": "c", "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": None, "tool_calls": calls}}]}),
            write("many-calls.%d.json" % n, calls),
            write("many-results.%d.json" % n, [{"role": "tool",
                "tool_call_id": "call_%d" % i, "content": "%d" % (i + 1)}
                for i in range(n)[::-1]]))
    for name, argv in (
            ("tool-extract", lambda r, c: ["tool-extract", r]),
            ("tool-run --dry-run", lambda r, c: ["tool-run"] + d + ["--dry-run", c]),
            ("tool-append", lambda r, c: ["tool-append", small_req, r])):
        prev = None
        for n in (1000, 10000, 100000):
            resp, calls, results = many[n]
            t = measure(argv(resp, calls), results if name == "tool-append"
                        else None, runs=3 if n == 100000 else max(5, RUNS // 3))
            row("%s, %d calls" % (name, n), t[0], t[1],
                "%.1fx the time of %d" % (t[1] / prev[1], n // 10) if prev
                else "")
            prev = t
    section("7. schema patterns: ECMA-262 with a bound on each match")
    with open(os.path.join(WORK, "tools.d", "pat"), "w") as f:
        f.write("#!/bin/sh\necho matched\n")
    os.chmod(os.path.join(WORK, "tools.d", "pat"), 0o755)
    write("tools.d/pat.json", {"name": "pat", "parameters": {
        "type": "object", "properties": {
            "s": {"type": "string", "pattern": "\\s+$"},
            "id": {"type": "string", "pattern": "^(?<a>[a-z]+)-\\d{1,6}$"}}}})
    for label, n in (("30,000 spaces", 30000), ("1 MB of spaces", 1 << 20)):
        calls = write("pat%d.json" % n, [{"id": "p", "type": "function",
            "function": {"name": "pat", "arguments": json.dumps(
                {"s": " " * n + "x"})}}])
        t = measure(["tool-run"] + d + [calls], runs=max(3, RUNS // 6))
        row("tool-run, \\s+$ on %s and x" % label, t[0], t[1],
            "refused: pattern too expensive")
    for n in (1000, 10000):
        calls = write("ids%d.json" % n, [{"id": "c%d" % i, "type": "function",
            "function": {"name": "pat", "arguments": json.dumps(
                {"id": "item-%d" % i, "s": "a "})}} for i in range(n)])
        t = measure(["tool-run", "--dry-run"] + d + [calls], runs=max(3, RUNS // 6))
        row("tool-run --dry-run, %d calls, 2 patterns each" % n, t[0], t[1],
            "%.1f us per call" % (t[1] / n * 1e6))

    section("8. tool-serve: tools/call of add over stdio, per call")
    serve_runs = max(200, RUNS * 10)
    server = subprocess.Popen(["tool-serve"] + d, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, cwd=WORK)

    def rpc(msg):
        server.stdin.write((json.dumps(msg) + "\n").encode())
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    rpc({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"}}})
    times = []
    for i in range(serve_runs):
        t0 = time.perf_counter()
        answer = rpc({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
                      "params": {"name": "add", "arguments": {"a": 5, "b": 4}}})
        times.append(time.perf_counter() - t0)
        assert answer["result"]["content"][0]["text"] == "9", answer
    server.stdin.close()
    server.wait()
    own = measure([os.path.join(WORK, "tools.d", "add")],
                  stdin=write("add-args.json", {"a": 5, "b": 4}))
    run_one = measure(["tool-run"] + d + [small_calls])
    row("add alone (its own process)", own[0], own[1], "")
    row("tool-run, 1 call of add", run_one[0], run_one[1], "")
    row("tool-serve tools/call of add", min(times), statistics.median(times),
        "%.2f ms over the tool's own run; %d calls" % (
            (statistics.median(times) - own[1]) * 1000, serve_runs))

    bench_mcp(d)

    w = max(len(r[0]) for r in rows if r[1] is not None) + 2
    print("\n%-*s  %9s  %9s" % (w, "", "min ms", "median ms"))
    for r in rows:
        if r[1] is None:
            print(r[0])
        else:
            print("  %-*s  %9s  %9s  %s" % (w - 2, r[0], r[1], r[2], r[3]))
    subprocess.run(["pkill", "-f", "llm-holder --idle [^ ]* %s/" %
                    os.environ["XDG_RUNTIME_DIR"]])
    shutil.rmtree(WORK)


main()
