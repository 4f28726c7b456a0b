"""progress.json under load: requests/s for ``GET /c/{slug}/progress.json`` against a trivial endpoint.

    .venv/bin/python -m benchmarks progress [--count N]

uvicorn (one process) on the shipped campaign with SQLite; the load generator in its own process, 32 keep-alive
connections. Baseline in the same run: ``GET /healthz``. Target: ≥3,000 requests/s.
"""

from __future__ import annotations

import argparse

from benchmarks._web import HEADER, conditions, load, row, server


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks progress", description=__doc__)
    ap.add_argument("--count", type=int, default=20000, help="requests per run (default 20000)")
    args = ap.parse_args(argv)
    with server() as port:
        load(port, "--get", "/c/childrens-day/progress.json", "--count", "1000", "--concurrency", "8")  # warm-up
        base = load(port, "--get", "/healthz", "--count", str(args.count), "--concurrency", "32")
        prog = load(port, "--get", "/c/childrens-day/progress.json", "--count", str(args.count), "--concurrency", "32")
    print(f"Conditions: {conditions()}; {args.count} requests per run.\n")
    print(HEADER)
    print(row("GET /healthz, closed loop x32", base))
    print(row("GET /c/childrens-day/progress.json, closed loop x32", prog, float(base["rate"])))  # type: ignore[arg-type]
    return 0
