"""The real-network part of make bench: llm-loop against the official
openai-node SDK's runTools, both talking TLS (nginx from Debian, HTTP/2
offered, a private CA made here) to llm-mock, directly (0 ms) and
through delay.py (a round trip of 50 ms). A run is one prompt that
makes the model call the add tool N-1 times and then answer: N model
calls. Each figure is the median of RUNS whole runs (a process each,
start-up included), after one warm-up run; the programs compared take
turns, so that each sees the same load on the machine.

Where a call's time goes: one model call alone, llm-request through a
warm holder against curl sending the same request over one kept
connection (the round trip and the server, without the loop's other
processes); and what a process start costs right after the machine
has idled for a round trip, as it has in a loop waiting on the network.

usage: tests/bench/run network [-n RUNS]
"""
import contextlib
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[sys.argv.index("-n") + 1]) if "-n" in sys.argv else 5
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE = os.path.join(ROOT, "tests", "bench", "node")
WORK = tempfile.mkdtemp(prefix="llm-bench-net.")
CALLS = (2, 10, 30)
RTTS = (50, 0)

# N model calls: a tool call while fewer than N-1 results came back.
MODEL = ('(.messages[0].content | ltrimstr("calls ") | tonumber) as $n | '
         '([.messages[] | select(.role == "tool")] | length) as $k | '
         'if $k < $n - 1 then {tool_calls: [{name: "add", '
         'arguments: {a: $k, b: 1}}]} else {content: "done: \\($k) sums"} end')


def wait_for_file(path):
    for _ in range(500):
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return open(path).read().strip()
        time.sleep(0.01)
    raise SystemExit("bench: %s never appeared" % path)


@contextlib.contextmanager
def process(argv, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, **kw)
    try:
        yield p
    finally:
        p.terminate()
        p.wait()


def make_ca():
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    q = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(["openssl", "req", "-x509"] + ec + ["-keyout", "ca.key",
                    "-out", "ca.crt", "-subj", "/CN=bench CA", "-days", "2"],
                   cwd=WORK, **q)
    subprocess.run(["openssl", "req"] + ec + ["-keyout", "server.key", "-out",
                    "server.csr", "-subj", "/CN=127.0.0.1"], cwd=WORK, **q)
    with open(os.path.join(WORK, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(["openssl", "x509", "-req", "-in", "server.csr", "-CA",
                    "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days",
                    "2", "-extfile", "ext", "-out", "server.crt"], cwd=WORK, **q)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def nginx_conf(port, mock_port):
    d = os.path.join(WORK, "nginx")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %(d)s/body;
	proxy_temp_path %(d)s/proxy;
	fastcgi_temp_path %(d)s/fastcgi;
	uwsgi_temp_path %(d)s/uwsgi;
	scgi_temp_path %(d)s/scgi;
	keepalive_requests 10000;
	server {
		listen 127.0.0.1:%(port)d ssl http2;
		ssl_certificate %(w)s/server.crt;
		ssl_certificate_key %(w)s/server.key;
		location / {
			proxy_pass http://127.0.0.1:%(mock)d;
			proxy_buffering off;
			proxy_http_version 1.1;
		}
	}
}
""" % {"d": d, "w": WORK, "port": port, "mock": mock_port})
    return d, conf


def timed(commands, runs):
    """Median and min wall seconds of each (argv, env) of commands, run
    runs times after a warm-up, taking turns so that each sees the same
    load on the machine; every run must succeed."""
    times = [[] for _ in commands]
    for i in range(runs + 1):
        for j, (argv, env) in enumerate(commands):
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, cwd=WORK, stdout=subprocess.DEVNULL,
                           check=True)
            if i > 0:
                times[j].append(time.perf_counter() - t0)
    return [(statistics.median(t), min(t)) for t in times]


def per_request(argv, env, runs, count=10):
    """Median seconds of each further request of curl: argv sends one,
    argv, -:, argv, ... sends count + 1 over one connection."""
    many = list(argv)
    for _ in range(count):
        many += ["-:"] + argv[1:]
    one, more = timed([(argv, env), (many, env)], runs)
    return (more[0] - one[0]) / count


def timed_after_idle(argv, env, runs, idle):
    """Median wall seconds of argv, each run after idle seconds of
    sleep (0: back to back)."""
    times = []
    for i in range(runs + 1):
        if idle > 0:
            time.sleep(idle)
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, cwd=WORK, stdout=subprocess.DEVNULL,
                       check=True)
        if i > 0:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_call(url, ca, env):
    """One model call alone, in seconds: llm-request through a warm
    holder (process start included), and each further request of curl
    over one connection."""
    with open(os.path.join(WORK, "one.json"), "w") as f:
        f.write('{"model": "m", "messages": [{"role": "user", "content": "calls 1"}]}')
    hold = os.path.join(WORK, "hold")
    os.makedirs(hold, mode=0o700, exist_ok=True)
    sock = os.path.join(hold, "socket")
    pid = int(subprocess.run(["llm-holder", "--idle", "600", sock], env=env,
                             stdout=subprocess.PIPE, check=True).stdout)
    try:
        held = timed([(["llm-request", "--cacert", ca, "-u", url, "one.json"],
                       dict(env, LLM_HOLDER=sock))], 20)[0][0]
    finally:
        os.kill(pid, 15)
    curl = per_request(["curl", "-s", "-o", "/dev/null", "--cacert", ca,
                        "-H", "Content-Type: application/json",
                        "--data-binary", "@one.json",
                        url + "/chat/completions"], env, RUNS)
    return held, curl


def main():
    # Stopped early, it still stops its servers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    make_ca()
    tools = os.path.join(WORK, "tools.d")
    os.makedirs(tools)
    for f in ("add", "add.json"):
        shutil.copy(os.path.join(ROOT, "tools.d", f), tools)
    ca = os.path.join(WORK, "ca.crt")
    # The runs are kept, as by default, but in the bench's directory;
    # so is the holder llm-loop keeps for the next runs (10 s idle).
    run_dir = os.path.join(WORK, "run")
    os.makedirs(run_dir, mode=0o700)
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=ca, NODE_NO_WARNINGS="1",
               LLM_RUNS_DIR=os.path.join(WORK, "runs"), XDG_RUNTIME_DIR=run_dir)
    for v in ("LLM_HOLDER", "LLM_HOLDER_IDLE", "LLM_NO_STORE", "OPENAI_API_KEY",
              "OPENAI_BASE_URL", "LLM_MODEL", "http_proxy", "https_proxy",
              "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(v, None)
    # The user's holder, kept from run to run: the other programs run in
    # between, for up to 10 s. Each run with a holder of its own, and
    # with none.
    kept = dict(env, LLM_HOLDER_IDLE="60")
    own_holder = dict(env, LLM_HOLDER_IDLE="0")
    no_holder = dict(env, LLM_HOLDER=os.path.join(WORK, "no-holder"))
    results = {}
    alone = {}
    port_file = os.path.join(WORK, "mock.port")
    with process(["llm-mock", "-p", "0", "--port-file", port_file, "--jq", MODEL]):
        mock_port = int(wait_for_file(port_file))
        tls_port = free_port()
        d, conf = nginx_conf(tls_port, mock_port)
        with process(["nginx", "-e", os.path.join(d, "error.log"), "-p", d,
                      "-c", conf]):
            for _ in range(500):
                if subprocess.run(["curl", "-s", "-o", "/dev/null", "--cacert",
                                   ca, "https://127.0.0.1:%d/" % tls_port]).returncode == 0:
                    break
                time.sleep(0.01)
            for rtt in RTTS:
                port = tls_port
                delay = contextlib.nullcontext()
                if rtt > 0:
                    pf = os.path.join(WORK, "delay.%d" % rtt)
                    delay = process([sys.executable, os.path.join(
                        ROOT, "tests", "bench", "delay.py"), pf, str(tls_port),
                        str(rtt / 2)])
                with delay:
                    if rtt > 0:
                        port = int(wait_for_file(pf))
                    url = "https://127.0.0.1:%d/v1" % port
                    for n in CALLS:
                        prompt = "calls %d" % n
                        loop = ["llm-loop", "-q", "-n", "1000", "--cacert", ca,
                                "-d", tools, "-u", url, prompt]
                        node = ["node", os.path.join(NODE, "runtools.mjs"), url,
                                os.path.join(tools, "add"),
                                os.path.join(tools, "add.json"), prompt]
                        results[rtt, n] = timed([(loop, kept), (loop, own_holder),
                                                 (loop, no_holder),
                                                 (node, env)], RUNS)
                        sys.stderr.write("bench: %d ms, %d calls done\n" % (rtt, n))
                    alone[rtt] = one_call(url, ca, env)

    # Start-up: what a process costs before it does any work.
    start = {}
    names = ("true", "tool-extract", "llm-request")
    for name, t in zip(names, timed([(["true"], env), (["tool-extract", "-V"], env),
                                     (["llm-request", "-V"], env)], 50)):
        start[name] = t
    idle = {}
    for name, argv in (("true", ["true"]), ("tool-extract", ["tool-extract", "-V"])):
        idle[name] = (timed_after_idle(argv, env, 50, 0),
                      timed_after_idle(argv, env, 50, 0.05))

    print("machine: %s, %d cores, %s; median of %d runs; load average "
          "%.1f" % (platform.processor() or platform.machine(), os.cpu_count(),
                    platform.platform(), RUNS, os.getloadavg()[0]))
    print("\nllm-loop: the user's holder keeps its connection from one run "
          "to the next\n(LLM_HOLDER_IDLE=60: the other programs run in "
          "between); a holder of the\nrun's own (LLM_HOLDER_IDLE=0), which "
          "handshakes once a run, as runTools does;\nno holder, a handshake "
          "every call.")
    print("\n| model calls, RTT | llm-loop | runTools | ratio | a holder per "
          "run | ratio | no holder |")
    print("|---|---|---|---|---|---|---|")
    for rtt in RTTS:
        for n in CALLS:
            loop, own, bare, node = results[rtt, n]
            print("| %d, %d ms | %.3f s | %.3f s | %.2f | %.3f s | %.2f | "
                  "%.3f s |" % (n, rtt, loop[0], node[0], loop[0] / node[0],
                                own[0], own[0] / node[0], bare[0]))
    print("\nEach further model call (from the 10- and 30-call runs), beyond "
          "the round trip:")
    for rtt in RTTS:
        for i, name in enumerate(("llm-loop", "a holder per run",
                                  "no holder", "runTools")):
            per = (results[rtt, 30][i][0] - results[rtt, 10][i][0]) / 20
            least = (results[rtt, 30][i][1] - results[rtt, 10][i][1]) / 20
            print("  %d ms RTT, %-20s %.1f ms a call, %.1f ms beyond the RTT "
                  "(from the minima: %.1f)" % (rtt, name + ":", per * 1000,
                                               per * 1000 - rtt,
                                               least * 1000 - rtt))
    print("\nOne model call alone, beyond the RTT (medians): llm-request "
          "through a warm holder, process start included, against each "
          "further request of curl over one connection:")
    for rtt in RTTS:
        held, curl = alone[rtt]
        print("  %d ms RTT: llm-request %.1f ms, curl %.1f ms" % (
            rtt, held * 1000 - rtt, curl * 1000 - rtt))
    print("\nStart-up (median of 50): true %.1f ms, tool-extract -V %.1f ms, "
          "llm-request -V %.1f ms" % tuple(start[k][0] * 1000 for k in (
              "true", "tool-extract", "llm-request")))
    print("Start-up back to back / after 50 ms idle (median of 50): "
          + ", ".join("%s %.2f / %.2f ms" % (k, v[0] * 1000, v[1] * 1000)
                      for k, v in idle.items()))
    subprocess.run(["pkill", "-f", "llm-holder --idle [^ ]* %s/" % run_dir])
    shutil.rmtree(WORK)


main()
