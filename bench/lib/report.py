"""Renders the suite's results as one Markdown table set, every gateway figure beside its baselines,
and lists what failed (errors, never timings: timings are reported against the targets, not asserted)."""

# The targets on the reference machine (2 cores shared by load generator, gateway and simulator).
TARGETS = {
    "throughput_vs_nginx": 0.50,      # non-streaming req/s through the gateway / through nginx, c=16 and 64
    "added_p50_ms": 0.15,             # c=1, gateway - direct
    "added_p99_ms": 0.50,
    "chunks_vs_nginx": 0.50,          # relayed chunks/s, gateway / nginx
    "added_ttft_ms": 1.0,             # p50, gateway - direct
    "cpu_us_per_request": 100.0,
    "cpu_us_per_chunk": 5.0,
    "rss_streams_mib": 100.0,         # 1,000 streams open
    "rss_idle_mib": 30.0,
}


def ms(us):
    return us / 1000.0


def fmt_rate(value):
    return f"{value:,.0f}"


def mib(kib):
    return kib / 1024.0


def render(r):
    out = []
    m = r["machine"]
    out.append(f"Command: `{r['command']}` — {r['seconds']} s; commit {m['commit']}")
    out.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; {m['swift']}; "
               f"{m['nginx']}; {m['wrk']}. Load generator (wrk -t1, Python clients), gateway, nginx and "
               f"simulator share the cores.")
    out.append(f"API keys: {r.get('api_keys', '?')}; usage accounting on. Direct = the simulator's `/api/chat`; "
               f"nginx = `proxy_pass` with upstream keep-alive in front of the same simulator.")
    out.append("")

    ns = r.get("nonstreaming", {})
    if ns:
        p = r["profile"]
        out.append(f"**Non-streaming chat** (32-token answers; wrk, {p['duration']} s per cell after a warm-up). "
                   "Latency p50 / p99 in ms; *added* = gateway − direct.")
        out.append("")
        out.append("| endpoint | conc | direct req/s | nginx req/s | gateway req/s | gw ÷ nginx | direct p50 / p99 | "
                   "nginx p50 / p99 | gateway p50 / p99 | added p50 / p99 | gateway CPU µs/req | nginx CPU µs/req | errors |")
        out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for endpoint, target in (("/v1/chat/completions", "gateway"), ("/v1/messages", "gateway-messages")):
            for c in p["concurrency"]:
                g = ns.get(f"{target}@{c}")
                if g is None:
                    continue
                d, n = ns[f"direct@{c}"], ns[f"nginx@{c}"]
                dl, nl, gl = d["latency_us"], n["latency_us"], g["latency_us"]
                errors = sum(sum(x["errors"].values()) for x in (d, n, g))
                out.append(
                    f"| {endpoint} | {c} | {fmt_rate(d['rps'])} | {fmt_rate(n['rps'])} | {fmt_rate(g['rps'])} | "
                    f"{g['rps'] / n['rps']:.2f} | {ms(dl['p50']):.3f} / {ms(dl['p99']):.3f} | "
                    f"{ms(nl['p50']):.3f} / {ms(nl['p99']):.3f} | {ms(gl['p50']):.3f} / {ms(gl['p99']):.3f} | "
                    f"{ms(gl['p50'] - dl['p50']):+.3f} / {ms(gl['p99'] - dl['p99']):+.3f} | "
                    f"{cpu_us(g, 'gateway'):.0f} | {cpu_us(n, 'nginx'):.0f} | {errors} |")
        out.append("")

    st = r.get("streaming", {})
    tt = r.get("ttft", {})
    if st:
        d, n, g = st["direct"], st["nginx"], st["gateway"]
        chunks = {k: v["rps"] * v["chunks_per_request"] for k, v in st.items()}
        out.append(f"**Streaming** (1,000-token answers, {r['profile']['stream_concurrency']} streams at once, each read to its end; "
                   f"TTFT over {r['profile']['ttft_requests']} sequential requests, connect to first token).")
        out.append("")
        out.append("| | direct | nginx | gateway | gateway vs baselines |")
        out.append("|---|--:|--:|--:|--:|")
        out.append(f"| chunks relayed / s | {fmt_rate(chunks['direct'])} | {fmt_rate(chunks['nginx'])} | "
                   f"{fmt_rate(chunks['gateway'])} | {chunks['gateway'] / chunks['nginx']:.2f} × nginx |")
        out.append(f"| streams / s | {d['rps']:.1f} | {n['rps']:.1f} | {g['rps']:.1f} | |")
        if tt:
            td, tn, tg = tt["direct"], tt["nginx"], tt["gateway"]
            out.append(f"| TTFT p50 (ms) | {td['p50_ms']:.3f} | {tn['p50_ms']:.3f} | {tg['p50_ms']:.3f} | "
                       f"{tg['p50_ms'] - td['p50_ms']:+.3f} ms added |")
            out.append(f"| TTFT p99 (ms) | {td['p99_ms']:.3f} | {tn['p99_ms']:.3f} | {tg['p99_ms']:.3f} | "
                       f"{tg['p99_ms'] - td['p99_ms']:+.3f} ms added |")
        tp = r.get("ttft_paced", {})
        if tp:
            td, tn, tg = tp["direct"], tp["nginx"], tp["gateway"]
            out.append(f"| TTFT p50, paced answers (ms) | {td['p50_ms']:.3f} | {tn['p50_ms']:.3f} | {tg['p50_ms']:.3f} | "
                       f"{tg['p50_ms'] - td['p50_ms']:+.3f} ms added |")
            out.append(f"| TTFT p99, paced answers (ms) | {td['p99_ms']:.3f} | {tn['p99_ms']:.3f} | {tg['p99_ms']:.3f} | "
                       f"{tg['p99_ms'] - td['p99_ms']:+.3f} ms added |")
        per_chunk = {k: 1e6 * st[k]["cpu_s"][proc] / (st[k]["requests"] * st[k]["chunks_per_request"])
                     for k, proc in (("nginx", "nginx"), ("gateway", "gateway"))}
        sim_chunk = 1e6 * d["cpu_s"]["ollama-sim"] / (d["requests"] * d["chunks_per_request"])
        out.append(f"| CPU µs / chunk (of the proxy) | ({sim_chunk:.2f} simulator) | {per_chunk['nginx']:.2f} | "
                   f"{per_chunk['gateway']:.2f} | |")
        errors = sum(sum(v["errors"].values()) for v in st.values()) + sum(
            v["errors"] + v["wrong_chunk_counts"] for v in list(tt.values()) + list(tp.values()))
        out.append(f"| errors (non-2xx, socket, streams without their end; wrong chunk counts) | | | | {errors} |")
        out.append("")

    held = r.get("held_streams", {})
    if held:
        idle = r["rss_idle_kib"]
        after = r.get("rss_idle_after_load_kib", {})
        n, g = held.get("nginx"), held.get("gateway")
        out.append(f"**Memory** (resident, MiB; {g['streams']} streams opened at once with slow pacing and held).")
        out.append("")
        out.append("| | nginx (all processes) | gateway | simulator |")
        out.append("|---|--:|--:|--:|")
        out.append(f"| idle after start-up | {mib(idle['nginx']):.1f} | {mib(idle['gateway']):.1f} | "
                   f"{mib(idle['ollama-sim']):.1f} |")
        if after:
            out.append(f"| idle after the load runs | {mib(after['nginx']):.1f} | {mib(after['gateway']):.1f} | "
                       f"{mib(after['ollama-sim']):.1f} |")
        out.append(f"| {g['streams']} streams open through nginx | {mib(n['rss_kib']['nginx']):.1f} | | "
                   f"{mib(n['rss_kib']['ollama-sim']):.1f} |")
        out.append(f"| {g['streams']} streams open through the gateway | | {mib(g['rss_kib']['gateway']):.1f} | "
                   f"{mib(g['rss_kib']['ollama-sim']):.1f} |")
        out.append(f"| streams open at once (peak) / errors | {n['peak_concurrent']} / {n['errors']} | "
                   f"{g['peak_concurrent']} / {g['errors']} | |")
        out.append("")

    targets = evaluate(r)
    if targets:
        out.append("**Targets**")
        out.append("")
        out.append("| target | measured | holds |")
        out.append("|---|--:|:-:|")
        for name, measured, holds in targets:
            out.append(f"| {name} | {measured} | {'yes' if holds else '**no**'} |")
        out.append("")

    uq = r.get("usage_queries")
    if uq:
        out.append("**Usage queries** (bench/usage-queries/run.sh):")
        out.append("")
        out.append("```")
        out.append(uq["output"].strip())
        out.append("```")
        out.append("")
    for note in r.get("notes", []):
        out.append(f"Note: {note}")
    return "\n".join(out) + "\n"


def cpu_us(run, process):
    return 1e6 * run["cpu_s"][process] / max(run["requests"], 1)


def evaluate(r):
    t = TARGETS
    rows = []
    ns = r.get("nonstreaming", {})
    for c in (16, 64):
        g, n = ns.get(f"gateway@{c}"), ns.get(f"nginx@{c}")
        if g and n:
            ratio = g["rps"] / n["rps"]
            rows.append((f"throughput ≥ {t['throughput_vs_nginx']:.0%} of nginx, c={c}", f"{ratio:.0%}",
                         ratio >= t["throughput_vs_nginx"]))
    g, d = ns.get("gateway@1"), ns.get("direct@1")
    if g and d:
        a50 = ms(g["latency_us"]["p50"] - d["latency_us"]["p50"])
        a99 = ms(g["latency_us"]["p99"] - d["latency_us"]["p99"])
        rows.append((f"added p50 ≤ {t['added_p50_ms']} ms, c=1", f"{a50:.3f} ms", a50 <= t["added_p50_ms"]))
        rows.append((f"added p99 ≤ {t['added_p99_ms']} ms, c=1", f"{a99:.3f} ms", a99 <= t["added_p99_ms"]))
    st = r.get("streaming")
    if st:
        ratio = st["gateway"]["rps"] / st["nginx"]["rps"]
        rows.append((f"chunks/s ≥ {t['chunks_vs_nginx']:.0%} of nginx", f"{ratio:.0%}", ratio >= t["chunks_vs_nginx"]))
    tt = r.get("ttft")
    if tt:
        added = tt["gateway"]["p50_ms"] - tt["direct"]["p50_ms"]
        rows.append((f"added TTFT ≤ {t['added_ttft_ms']} ms (p50)", f"{added:.3f} ms", added <= t["added_ttft_ms"]))
    if ns:
        worst = max(cpu_us(v, "gateway") for k, v in ns.items() if k.startswith("gateway@"))
        rows.append((f"gateway CPU ≤ {t['cpu_us_per_request']:.0f} µs / request (worst concurrency)", f"{worst:.0f} µs",
                     worst <= t["cpu_us_per_request"]))
    if st:
        g = st["gateway"]
        per_chunk = 1e6 * g["cpu_s"]["gateway"] / (g["requests"] * g["chunks_per_request"])
        rows.append((f"gateway CPU ≤ {t['cpu_us_per_chunk']:.0f} µs / chunk", f"{per_chunk:.2f} µs",
                     per_chunk <= t["cpu_us_per_chunk"]))
    held = r.get("held_streams", {})
    if "gateway" in held:
        g = held["gateway"]
        rss = mib(g["rss_kib"]["gateway"])
        rows.append((f"≤ {t['rss_streams_mib']:.0f} MB with {g['streams']} streams, 0 errors",
                     f"{rss:.1f} MiB, {g['errors']} errors", rss <= t["rss_streams_mib"] and g["errors"] == 0))
    if "rss_idle_kib" in r:
        rss = mib(r["rss_idle_kib"]["gateway"])
        rows.append((f"idle ≤ {t['rss_idle_mib']:.0f} MB", f"{rss:.1f} MiB", rss <= t["rss_idle_mib"]))
    return rows


def failures(r):
    """What makes the run fail: errors of any kind, and scenarios that did not do what they claim."""
    found = []
    for group in ("nonstreaming", "streaming"):
        for name, run in r.get(group, {}).items():
            errors = sum(run["errors"].values())
            if errors:
                found.append(f"{group} {name}: {errors} errors {run['errors']}")
            if run["requests"] == 0:
                found.append(f"{group} {name}: no request completed")
    for scenario in ("ttft", "ttft_paced"):
        for name, run in r.get(scenario, {}).items():
            if run["errors"] or run["wrong_chunk_counts"]:
                found.append(f"{scenario} {name}: {run['errors']} errors, "
                             f"{run['wrong_chunk_counts']} streams with a wrong chunk count")
    for name, run in r.get("held_streams", {}).items():
        if run["errors"]:
            found.append(f"held streams {name}: {run['errors']} of {run['streams']} failed")
        if run["open_seconds"] is None:
            found.append(f"held streams {name}: the {run['streams']} streams were never all open at once")
    uq = r.get("usage_queries")
    if uq and uq["exit"] != 0:
        found.append(f"usage queries: exit {uq['exit']}")
    return found
