#!/usr/bin/env python3
"""The gateway's benchmark suite (run through bench/run.sh, which builds the release binaries first).

Starts ollama-sim in benchmark mode, nginx as a plain reverse proxy in front of it, and the gateway
with API keys required and usage accounting on; drives each with the same load; prints one table in
which every gateway figure stands beside the same figure measured straight at the simulator
("direct") and through nginx ("floor of proxying") in this run. See bench/README.md.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import clients  # noqa: E402
import report  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIB = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"

# Answers: 32 tokens for non-streamed chat; 1,000 for the streaming scenarios.
ANSWER_TOKENS = 32
STREAM_TOKENS = 1000
# The paced time-to-first-token scenario: short answers at a model's pace.
PACED_TOKENS = 10
PACED_INTERVAL_MS = 5
SCENARIOS = ("nonstreaming", "streaming", "memory", "usage")
PROMPT = [{"role": "user", "content": "Say something."}]

FULL = dict(duration=10, warmup=2, concurrency=[1, 16, 64], stream_concurrency=16, ttft_requests=300, ttft_paced_requests=200,
            hold_streams=1000, hold_tokens=30, hold_interval_ms=500)
QUICK = dict(duration=2, warmup=1, concurrency=[1, 16, 64], stream_concurrency=16, ttft_requests=30, ttft_paced_requests=20,
             hold_streams=1000, hold_tokens=16, hold_interval_ms=500)


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# MARK: - Processes


class Process:
    """A server started by the suite, stopped by its pid when the suite ends."""

    def __init__(self, name, argv, env=None, workdir=None, logdir=None):
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(argv, env=env, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def wait_for_listening(self, timeout=60.0):
        """The port from the `… listening on http://HOST:PORT` line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")
            with open(self.log_path, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    if "listening on http://" in line:
                        return int(line.rsplit(":", 1)[1].strip().rstrip("/"))
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start listening; see {self.log_path}")

    def pids(self):
        """The process and its children (nginx's workers)."""
        found = [self.pid]
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                found += [int(p) for p in f.read().split()]
        except OSError:
            for entry in os.listdir("/proc"):
                if entry.isdigit() and parent_of(int(entry)) == self.pid:
                    found.append(int(entry))
        return found

    def stop(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds(pids):
    """User + system CPU time of the processes, from /proc/PID/stat."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def post(port, path, body, key=None, timeout=10):
    request = clients.http_request(HOST, port, path, json.dumps(body).encode(), key)
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    response = b"".join(chunks)
    return clients.status_of(response), response


# MARK: - The suite


class Suite:
    def __init__(self, args):
        self.args = args
        self.profile = QUICK if args.quick else FULL
        self.bin = args.bin_dir
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.results_dir = args.results or os.path.join(ROOT, "bench", "results", stamp + ("-quick" if args.quick else ""))
        os.makedirs(self.results_dir, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="ollama-gateway-bench-")
        self.processes = []
        self.notes = []
        self.results = {"quick": args.quick, "profile": self.profile, "notes": self.notes}

    # Servers

    def start_simulator(self):
        sim = Process("ollama-sim", [os.path.join(self.bin, "ollama-sim"), "--port", "0", "--tokens", str(ANSWER_TOKENS)],
                      logdir=self.work)
        self.processes.append(sim)
        self.sim_port = sim.wait_for_listening()
        self.sim = sim
        log(f"ollama-sim on port {self.sim_port} (answers of {ANSWER_TOKENS} tokens)")

    def start_nginx(self):
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = os.path.join(self.work, "nginx")
        os.makedirs(prefix, exist_ok=True)
        self.nginx_port = free_port()
        with open(os.path.join(LIB, "nginx.conf.in")) as f:
            conf = f.read()
        conf = (conf.replace("@PREFIX@", prefix).replace("@SIM_PORT@", str(self.sim_port))
                .replace("@PORT@", str(self.nginx_port))
                .replace("@USER@", "user root;" if os.geteuid() == 0 else ""))
        conf_path = os.path.join(prefix, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        nginx = Process("nginx", [nginx_bin, "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", conf_path],
                        logdir=self.work)
        self.processes.append(nginx)
        self.nginx = nginx
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.nginx_port), timeout=1).close()
                break
            except OSError:
                if nginx.popen.poll() is not None:
                    raise RuntimeError(f"nginx exited; see {prefix}/error.log")
                time.sleep(0.05)
        log(f"nginx on port {self.nginx_port}")

    def start_gateway(self):
        gateway_bin = os.path.join(self.bin, "ollama-gateway")
        data = os.path.join(self.work, "gateway-data")
        os.makedirs(data, exist_ok=True)
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update({"DATA_DIR": data, "OLLAMA_URL": f"http://{HOST}:{self.sim_port}", "HOST": HOST})
        created = subprocess.run([gateway_bin, "keys", "create", "--name", "bench"], env=env, cwd=self.work,
                                 capture_output=True, text=True)
        if created.returncode == 0 and created.stdout.strip():
            self.key = created.stdout.strip().splitlines()[-1].strip()
            env["REQUIRE_API_KEY"] = "true"
            self.results["api_keys"] = "required (key made with `ollama-gateway keys create --name bench`)"
        else:
            self.key = None
            env["REQUIRE_API_KEY"] = "false"
            self.notes.append("`ollama-gateway keys create` is not available in this build: the gateway ran with "
                              "REQUIRE_API_KEY=false (requests still accounted).")
            self.results["api_keys"] = "not required (no `keys create` in this build)"
        gateway = Process("ollama-gateway", [gateway_bin, "serve", "--port", "0"], env=env, workdir=self.work,
                          logdir=self.work)
        self.processes.append(gateway)
        self.gateway = gateway
        self.gateway_port = gateway.wait_for_listening()
        # Models are discovered at start-up: wait until a chat goes through.
        deadline = time.monotonic() + 30
        while True:
            status, response = post(self.gateway_port, "/v1/chat/completions",
                                    {"model": "sim-chat", "messages": PROMPT}, self.key)
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway does not answer chats: {response[:500]!r}")
            time.sleep(0.2)
        status, _ = post(self.gateway_port, "/v1/messages",
                         {"model": "sim-chat", "max_tokens": 1024, "messages": PROMPT}, self.key)
        self.has_messages = status == 200
        if not self.has_messages:
            self.notes.append(f"/v1/messages answered {status}: the Anthropic route was skipped.")
        log(f"ollama-gateway on port {self.gateway_port}")

    # Targets: (name, port, path, body, key)

    def nonstream_targets(self):
        native = {"model": "sim-chat", "messages": PROMPT, "stream": False}
        targets = [
            ("direct", self.sim_port, "/api/chat", native, None),
            ("nginx", self.nginx_port, "/api/chat", native, None),
            ("gateway", self.gateway_port, "/v1/chat/completions", {"model": "sim-chat", "messages": PROMPT}, self.key),
        ]
        if self.has_messages:
            targets.append(("gateway-messages", self.gateway_port, "/v1/messages",
                            {"model": "sim-chat", "max_tokens": 1024, "messages": PROMPT}, self.key))
        return targets

    def stream_targets(self, tokens, interval_ms=0):
        options = {"sim_tokens": tokens}
        if interval_ms:
            options["sim_token_interval_ms"] = interval_ms
        native = {"model": "sim-chat", "messages": PROMPT, "stream": True, "options": options}
        return [
            ("direct", self.sim_port, "/api/chat", native, None),
            ("nginx", self.nginx_port, "/api/chat", native, None),
            ("gateway", self.gateway_port, "/v1/chat/completions",
             {"model": "sim-chat", "messages": PROMPT, "stream": True, "options": options}, self.key),
        ]

    def watched(self):
        return {"gateway": self.gateway, "nginx": self.nginx, "ollama-sim": self.sim}

    # Load

    def wrk(self, name, port, path, body, key, connections, duration):
        body_path = os.path.join(self.work, f"body-{name}.json")
        with open(body_path, "w") as f:
            json.dump(body, f)
        out = os.path.join(self.work, "wrk-out.json")
        if os.path.exists(out):
            os.remove(out)
        env = dict(os.environ, BENCH_BODY=body_path, BENCH_KEY=key or "", BENCH_OUT=out)
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
                "-s", os.path.join(LIB, "wrk.lua"), f"http://{HOST}:{port}{path}"]
        cpu_before = {n: cpu_seconds(p.pids()) for n, p in self.watched().items()}
        run = subprocess.run(argv, env=env, capture_output=True, text=True)
        cpu_after = {n: cpu_seconds(p.pids()) for n, p in self.watched().items()}
        if run.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"wrk failed against {name}: {run.stderr or run.stdout}")
        with open(out) as f:
            result = json.load(f)
        result["cpu_s"] = {n: cpu_after[n] - cpu_before[n] for n in cpu_before}
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        return result

    def measure(self, name, port, path, body, key, connections):
        p = self.profile
        self.wrk(name, port, path, body, key, connections, p["warmup"])
        result = self.wrk(name, port, path, body, key, connections, p["duration"])
        errors = sum(result["errors"].values())
        log(f"  {name:17s} c={connections:<3d} {result['rps']:9.0f} req/s  p50 {result['latency_us']['p50']:6d} µs  "
            f"p99 {result['latency_us']['p99']:6d} µs  errors {errors}")
        return result

    def nonstreaming(self):
        log("non-streaming chat")
        runs = {}
        for connections in self.profile["concurrency"]:
            for name, port, path, body, key in self.nonstream_targets():
                runs[f"{name}@{connections}"] = self.measure(name, port, path, body, key, connections)
        self.results["nonstreaming"] = runs

    def streaming(self):
        connections = self.profile["stream_concurrency"]
        log(f"streaming: {STREAM_TOKENS}-token answers, {connections} at once")
        runs = {}
        for name, port, path, body, key in self.stream_targets(STREAM_TOKENS):
            request = clients.http_request(HOST, port, path, json.dumps(body).encode(), key)
            end = b"data: [DONE]" if name.startswith("gateway") else b'"done":true'
            clients.stream_load(HOST, port, request, end, connections, self.profile["warmup"])
            cpu_before = {n: cpu_seconds(p.pids()) for n, p in self.watched().items()}
            run = clients.stream_load(HOST, port, request, end, connections, self.profile["duration"])
            cpu_after = {n: cpu_seconds(p.pids()) for n, p in self.watched().items()}
            result = {
                "requests": run["completed"], "rps": run["completed"] / run["seconds"], "bytes": run["bytes"],
                "errors": {"stream": run["errors"]}, "chunks_per_request": STREAM_TOKENS,
                "cpu_s": {n: cpu_after[n] - cpu_before[n] for n in cpu_before},
            }
            log(f"  {name:17s} c={connections:<3d} {result['rps'] * STREAM_TOKENS:9.0f} chunks/s  "
                f"({result['rps']:.1f} streams/s)  errors {run['errors']}")
            runs[name] = result
        self.results["streaming"] = runs

        log(f"time to first token: {self.profile['ttft_requests']} sequential requests per target")
        self.results["ttft"] = self.time_to_first_token(STREAM_TOKENS, 0, self.profile["ttft_requests"])
        # As a model answers: one token per read, so the first one is not queued behind a burst.
        log(f"time to first token, paced ({PACED_TOKENS} tokens, one per {PACED_INTERVAL_MS} ms): "
            f"{self.profile['ttft_paced_requests']} sequential requests per target")
        self.results["ttft_paced"] = self.time_to_first_token(
            PACED_TOKENS, PACED_INTERVAL_MS, self.profile["ttft_paced_requests"])

    def time_to_first_token(self, tokens, interval_ms, requests):
        ttft = {}
        for name, port, path, body, key in self.stream_targets(tokens, interval_ms):
            request = clients.http_request(HOST, port, path, json.dumps(body).encode(), key)
            gateway = name.startswith("gateway")
            end = b"data: [DONE]" if gateway else b'"done":true'
            count = b'"content":"' if gateway else b'"done":false'
            clients.time_to_first_token(HOST, port, request, b"Lorem", end, count, 5)  # warm-up
            run = clients.time_to_first_token(HOST, port, request, b"Lorem", end, count, requests)
            samples = sorted(run["ttft_ms"])
            run["p50_ms"] = percentile(samples, 50)
            run["p99_ms"] = percentile(samples, 99)
            run["wrong_chunk_counts"] = sum(1 for c in run["counts"] if c != tokens)
            del run["counts"]
            run["ttft_ms"] = None
            log(f"  {name:17s} TTFT p50 {run['p50_ms']:.3f} ms  p99 {run['p99_ms']:.3f} ms  errors {run['errors']}  "
                f"wrong chunk counts {run['wrong_chunk_counts']}")
            ttft[name] = run
        return ttft

    def memory(self):
        p = self.profile
        idle = {n: clients.rss_kib(proc.pids()) for n, proc in self.watched().items()}
        self.results["rss_idle_after_load_kib"] = idle
        log(f"{p['hold_streams']} streams open at once ({p['hold_tokens']} tokens, one per {p['hold_interval_ms']} ms)")
        held = {}
        for name, port, path, body, key in self.stream_targets(p["hold_tokens"], p["hold_interval_ms"]):
            if name == "direct":
                continue
            gateway = name.startswith("gateway")
            request = clients.http_request(HOST, port, path, json.dumps(body).encode(), key)
            end = b"data: [DONE]" if gateway else b'"done":true'
            watch = {n: proc.pids() for n, proc in self.watched().items()}
            run = clients.hold_streams(HOST, port, request, b"Lorem", end, p["hold_streams"], watch)
            log(f"  {name:17s} open in {run['open_seconds'] or float('nan'):.1f} s, peak {run['peak_concurrent']} at once, "
                f"RSS {run['rss_kib'][name] / 1024:.1f} MiB, errors {run['errors']}")
            held[name] = run
        self.results["held_streams"] = held

    def usage_queries(self):
        script = os.path.join(ROOT, "bench", "usage-queries", "run.sh")
        if not os.path.exists(script):
            self.notes.append("bench/usage-queries/run.sh is not in this tree: the usage-query benchmark was skipped.")
            self.results["usage_queries"] = None
            return
        log("usage-query benchmark (bench/usage-queries/run.sh)")
        argv = [script] + (["--quick"] if self.args.quick else [])
        run = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        with open(os.path.join(self.results_dir, "usage-queries.txt"), "w") as f:
            f.write(run.stdout)
            f.write(run.stderr)
        self.results["usage_queries"] = {"exit": run.returncode, "output": run.stdout[-6000:]}
        if run.returncode != 0:
            self.notes.append(f"bench/usage-queries/run.sh failed with exit {run.returncode}; see usage-queries.txt.")

    def machine(self):
        def first_line(argv):
            try:
                run = subprocess.run(argv, capture_output=True, text=True)
                return ((run.stdout or "") + (run.stderr or "")).strip().splitlines()[0]
            except (OSError, IndexError):
                return "?"
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
        return {
            "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024),
            "kernel": platform.release(), "swift": first_line(["swift", "--version"]),
            "nginx": first_line(["nginx", "-v"]), "wrk": first_line(["wrk", "-v"]),
            "commit": first_line(["git", "-C", ROOT, "log", "-1", "--format=%h %s"]),
        }

    def run(self):
        started = time.monotonic()
        self.results["machine"] = self.machine()
        self.results["command"] = "bench/run.sh" + (" --quick" if self.args.quick else "") + (
            "" if tuple(self.args.only) == SCENARIOS else " --only=" + ",".join(self.args.only))
        try:
            self.start_simulator()
            self.start_nginx()
            self.start_gateway()
            time.sleep(1)
            self.results["rss_idle_kib"] = {n: clients.rss_kib(proc.pids()) for n, proc in self.watched().items()}
            for name in ("nonstreaming", "streaming", "memory"):
                if name in self.args.only:
                    getattr(self, name)()
        finally:
            for process in reversed(self.processes):
                process.stop()
            for process in self.processes:
                shutil.copy(process.log_path, self.results_dir)
            shutil.rmtree(self.work, ignore_errors=True)
        if "usage" in self.args.only:
            self.usage_queries()
        self.results["seconds"] = round(time.monotonic() - started)
        with open(os.path.join(self.results_dir, "results.json"), "w") as f:
            json.dump(self.results, f, indent=2)
        table = report.render(self.results)
        with open(os.path.join(self.results_dir, "table.md"), "w") as f:
            f.write(table)
        print(table)
        log(f"results in {os.path.relpath(self.results_dir, ROOT)} ({self.results['seconds']} s)")
        failures = report.failures(self.results)
        for failure in failures:
            log(f"FAILED: {failure}")
        return 1 if failures else 0


def percentile(sorted_samples, p):
    if not sorted_samples:
        return float("nan")
    index = min(len(sorted_samples) - 1, max(0, int(round(p / 100 * len(sorted_samples) + 0.5)) - 1))
    return sorted_samples[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario, briefly (CI)")
    parser.add_argument("--bin-dir", required=True, help="directory of the release ollama-gateway and ollama-sim")
    parser.add_argument("--results", help="directory for results (default bench/results/<time>)")
    parser.add_argument("--only", default=",".join(SCENARIOS), type=lambda text: text.split(","),
                        help=f"comma-separated scenarios to run (default: all of {','.join(SCENARIOS)})")
    args = parser.parse_args()
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    sys.exit(Suite(args).run())


if __name__ == "__main__":
    main()
