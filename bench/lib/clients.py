"""Small load clients the suite needs beside wrk: a time-to-first-token timer over sequential
requests, and a holder that opens many streams at once and keeps them open.

Both speak raw HTTP/1.1 over loopback sockets with `Connection: close`, so that the only work on the
client side is the same for every target (simulator, nginx, gateway): send a prebuilt request, watch
the bytes for a marker.
"""

import asyncio
import socket
import time


def http_request(host, port, path, body, key=None):
    """A prebuilt POST request; the server closes the connection after the answer."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if key:
        head.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def body_of(response):
    """The body of a complete HTTP/1.1 response, chunked transfer coding undone (proxies re-chunk, which
    can split a line across chunks)."""
    head, _, body = response.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out = []
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            break
        size = int(body[position:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(body[line_end + 2:line_end + 2 + size])
        position = line_end + 2 + size + 2
    return b"".join(out)


def time_to_first_token(host, port, request, first_marker, end_marker, count_marker, requests, timeout=30.0):
    """Sends `requests` requests one after the other. For each: the time from connecting to the first
    byte that completes `first_marker` (the first token), whether it ended with `end_marker` and a 200,
    and how many `count_marker`s it carried (the relayed chunks)."""
    samples = []
    errors = 0
    counts = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        first = None
        pieces = []
        tail = b""
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(request)
                while True:
                    data = sock.recv(262144)
                    if not data:
                        break
                    if first is None and first_marker in tail + data:
                        first = time.perf_counter_ns()
                    pieces.append(data)
                    tail = data[-64:]
        except OSError:
            errors += 1
            continue
        response = b"".join(pieces)
        if first is None or status_of(response) != 200 or end_marker not in response:
            errors += 1
            continue
        samples.append((first - started) / 1e6)
        counts.append(body_of(response).count(count_marker))
    return {"ttft_ms": samples, "errors": errors, "counts": counts}


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


async def _hold(host, port, request, first_marker, end_marker, streams, watch, open_timeout):
    opened = 0
    all_open = asyncio.Event()
    state = {"concurrent": 0, "peak": 0}

    async def one():
        nonlocal opened
        reader = writer = None
        got_first = False
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            await writer.drain()
            pieces = []
            tail = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                pieces.append(data)
                if not got_first and first_marker in tail + data:
                    got_first = True
                    opened += 1
                    state["concurrent"] += 1
                    state["peak"] = max(state["peak"], state["concurrent"])
                    if opened == streams:
                        all_open.set()
                tail = data[-64:]
            response = b"".join(pieces)
            return got_first and status_of(response) == 200 and end_marker in response
        except OSError:
            return False
        finally:
            if got_first:
                state["concurrent"] -= 1
            if writer is not None:
                writer.close()

    started = time.monotonic()
    tasks = [asyncio.create_task(one()) for _ in range(streams)]
    rss = {name: 0 for name in watch}
    try:
        await asyncio.wait_for(all_open.wait(), open_timeout)
        open_seconds = time.monotonic() - started
        # Every stream is open: sample resident memory while they are held.
        for _ in range(10):
            for name, pids in watch.items():
                rss[name] = max(rss[name], rss_kib(pids))
            await asyncio.sleep(0.1)
    except asyncio.TimeoutError:
        open_seconds = None
    results = await asyncio.gather(*tasks)
    return {
        "streams": streams,
        "open_seconds": open_seconds,
        "peak_concurrent": state["peak"],
        "errors": sum(1 for ok in results if not ok),
        "rss_kib": rss,
    }


def hold_streams(host, port, request, first_marker, end_marker, streams, watch, open_timeout=60.0):
    """Opens `streams` streaming requests at once and holds them until every one has had its first
    token; then samples the resident memory of each process group in `watch` ({name: [pid]}), and
    reads every stream to its end."""
    return asyncio.run(_hold(host, port, request, first_marker, end_marker, streams, watch, open_timeout))


async def _stream_load(host, port, request, end_marker, connections, duration):
    deadline = time.monotonic() + duration
    counts = {"completed": 0, "errors": 0, "bytes": 0}

    async def worker():
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection(host, port)
                writer.write(request)
                await writer.drain()
                pieces = []
                tail = b""
                while True:
                    data = await reader.read(262144)
                    if not data:
                        break
                    pieces.append(data)
                    tail = data[-64:]
                writer.close()
                response = b"".join(pieces)
                counts["bytes"] += len(response)
                if status_of(response) == 200 and end_marker in response[-256:] + tail:
                    counts["completed"] += 1
                else:
                    counts["errors"] += 1
            except OSError:
                counts["errors"] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    counts["seconds"] = time.monotonic() - started
    return counts


def stream_load(host, port, request, end_marker, connections, duration):
    """`connections` clients each send streaming requests one after another (`Connection: close`:
    the gateway closes the connection after a stream anyway) until `duration` seconds have passed,
    reading every stream to its end. wrk cannot be used here: it counts a server's close after a
    complete response as a read error unless the response says `Connection: close`, which
    Hummingbird does not."""
    return asyncio.run(_stream_load(host, port, request, end_marker, connections, duration))
