#!/usr/bin/env python3
"""Routing between two Ollama servers, with and without preferring the one that has the model loaded.

Two simulators that each hold at most two models in memory and take LOAD_MS to load one; a mix of four
models asked by a few concurrent clients through the gateway's native /api/chat. Run once with
BACKEND_PREFER_LOADED=true (the default) and once with false; for each, counts the requests that landed
on a server where their model was not loaded (the simulator reports the load in `load_duration`) and
the latencies. The router's own cost per decision is printed by the Swift tests
(`swift test --filter "cost per routing decision"`).

    bench/backends.py [--bin-dir .build/release] [--requests 200] [--clients 4]
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HOST = "127.0.0.1"
MODELS = ["sim-chat", "sim-think", "sim-tools", "sim-code"]
LOAD_MS = 200


def start(argv, env, workdir, name):
    log = open(os.path.join(workdir, f"{name}.log"), "wb")
    process = subprocess.Popen(argv, env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited; see {log.name}")
        with open(log.name, "rb") as f:
            for line in f.read().decode(errors="replace").splitlines():
                if "listening on http://" in line:
                    return process, int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not start; see {log.name}")


def chat(port, model, text):
    body = json.dumps({"model": model, "stream": False, "keep_alive": "5m",
                       "messages": [{"role": "user", "content": text}]}).encode()
    request = urllib.request.Request(f"http://{HOST}:{port}/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    return time.monotonic() - started, answer.get("load_duration", 0) >= LOAD_MS * 1_000_000


def run(bin_dir, prefer_loaded, requests, clients, workdir):
    sims = []
    processes = []
    try:
        for index in range(2):
            process, port = start([os.path.join(bin_dir, "ollama-sim"), "--port", "0", "--tokens", "16",
                                   "--load-time-ms", str(LOAD_MS), "--max-loaded", "2"], None, workdir, f"sim{index}")
            processes.append(process)
            sims.append(port)
        data = tempfile.mkdtemp(dir=workdir)
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)
        env.update({"DATA_DIR": data, "HOST": HOST, "REQUIRE_API_KEY": "false", "LOG_LEVEL": "warning",
                    "OLLAMA_URL": ",".join(f"s{i}=http://{HOST}:{port}" for i, port in enumerate(sims)),
                    "BACKEND_PREFER_LOADED": "true" if prefer_loaded else "false",
                    "BACKEND_STICKY_SESSIONS": "false", "BACKEND_PROBE_INTERVAL_MS": "1000"})
        process, port = start([os.path.join(bin_dir, "ollama-gateway"), "serve", "--port", "0"], env, workdir,
                              f"gateway-{prefer_loaded}")
        processes.append(process)
        deadline = time.monotonic() + 30
        while True:
            try:
                chat(port, "sim-chat", "warm up")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        rng = random.Random(7)
        plan = [rng.choice(MODELS) for _ in range(requests)]
        results = []
        lock = threading.Lock()

        def worker(offset):
            for index in range(offset, requests, clients):
                outcome = chat(port, plan[index], f"request {index}")
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        latencies = sorted(latency for latency, _ in results)
        cold = sum(1 for _, was_cold in results if was_cold)
        return dict(requests=len(results), cold=cold, wall=wall,
                    p50=latencies[len(latencies) // 2] * 1000, p99=latencies[int(len(latencies) * 0.99) - 1] * 1000,
                    mean=sum(latencies) / len(latencies) * 1000)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=".build/release")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    args.bin_dir = os.path.abspath(args.bin_dir)
    workdir = tempfile.mkdtemp(prefix="bench-backends-")
    rows = []
    for prefer in (True, False):
        print(f"[bench] prefer loaded: {prefer}", file=sys.stderr, flush=True)
        rows.append((prefer, run(args.bin_dir, prefer, args.requests, args.clients, workdir)))
    print(f"2 simulators (room for 2 models each, {LOAD_MS} ms per load), {len(MODELS)} models, "
          f"{args.requests} requests from {args.clients} clients\n")
    print("| routing | requests | landed where the model was not loaded | mean ms | p50 ms | p99 ms | wall s |")
    print("|---|---|---|---|---|---|---|")
    for prefer, r in rows:
        name = "prefers loaded (default)" if prefer else "least busy only"
        print(f"| {name} | {r['requests']} | {r['cold']} ({100 * r['cold'] / r['requests']:.0f}%) | {r['mean']:.0f} | "
              f"{r['p50']:.0f} | {r['p99']:.0f} | {r['wall']:.1f} |")
    print(f"\nlogs: {workdir}")


if __name__ == "__main__":
    main()
