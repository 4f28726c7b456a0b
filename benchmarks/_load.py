"""A small HTTP/1.1 load generator on raw asyncio sockets (keep-alive), run in its own process by the benchmarks.

Two modes, bounded in count and time:

* ``closed``: ``--concurrency`` connections each send the next request as soon as the previous answer is in: the
  sustained throughput.
* ``open``: request *i* is due at ``start + i / rate`` whatever happened before (a fixed offered rate); latency is
  measured from the due time, so queueing in the client or the server counts (no coordinated omission).

Requests: ``--get PATH`` or ``--pledge SLUG`` (fetches the campaign page once for its CSRF token, then posts pledges
with distinct emails). Prints one JSON object: count, errors, statuses, elapsed, rate, latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlencode


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        match = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if match:
            await self.reader.readexactly(int(match.group(1)))
        if re.search(rb"(?i)\r\nconnection: *close", head):
            self.writer.close()
            self.writer = None
        return status


def build_requests(args: argparse.Namespace) -> Callable[[int], bytes]:
    host = f"{args.host}:{args.port}"
    if args.get:
        raw = f"GET {args.get} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode()
        return lambda i: raw
    page = urllib.request.urlopen(f"http://{host}/c/{args.pledge}", timeout=10).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    tag = f"{time.time_ns():x}"

    def pledge(i: int) -> bytes:
        body = urlencode({"csrf": csrf, "name": f"Supporter {i}", "email": f"s{tag}.{i}@example.org", "consent": "yes",
                          "country": "", "postcode": "", "website": ""}).encode()
        return (
            f"POST /c/{args.pledge}/pledge HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return pledge


async def run(args: argparse.Namespace) -> dict[str, object]:
    make = build_requests(args)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    start = time.perf_counter()
    stop_at = start + args.max_seconds
    counter = iter(range(args.count))

    async def one(conn: Conn, i: int, due: float) -> None:
        nonlocal errors
        try:
            status = await conn.request(make(i))
            statuses[status] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            conn.writer = None
            return
        latencies.append(time.perf_counter() - due)

    if args.mode == "closed":
        async def loop() -> None:
            conn = Conn(args.host, args.port)
            for i in counter:
                if time.perf_counter() > stop_at:
                    break
                await one(conn, i, time.perf_counter())

        await asyncio.gather(*(loop() for _ in range(args.concurrency)))
    else:
        idle: asyncio.Queue[Conn] = asyncio.Queue()
        for _ in range(args.concurrency):
            idle.put_nowait(Conn(args.host, args.port))
        tasks = []

        async def scheduled(i: int, due: float) -> None:
            conn = await idle.get()
            try:
                await one(conn, i, due)
            finally:
                idle.put_nowait(conn)

        for i in counter:
            due = start + i / args.rate
            if due > stop_at:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(scheduled(i, due)))
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    done = len(latencies)
    return {
        "mode": args.mode, "count": done, "errors": errors, "statuses": dict(statuses), "elapsed_s": round(elapsed, 3),
        "rate": round(done / elapsed, 1) if elapsed else 0.0,
        "offered_rate": args.rate if args.mode == "open" else None,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2), "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--get")
    what.add_argument("--pledge", metavar="SLUG")
    ap.add_argument("--mode", choices=("closed", "open"), default="closed")
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    json.dump(asyncio.run(run(args)), sys.stdout)


if __name__ == "__main__":
    main()
