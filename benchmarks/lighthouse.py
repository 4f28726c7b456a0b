"""Lighthouse on the public pages: the four category scores and what the campaign page weighs before images.

    .venv/bin/python -m benchmarks lighthouse [--runs N] [--save DIR]

``social-campaign serve --role web`` on the shipped campaign (fresh SQLite data dir, rate limits off) and one
confirmed supporter made through the pages (pledge form, confirm button), so the share page exists. Lighthouse
12.2.3 (npm, ``make node-deps``; 13 needs Node 22) drives Debian's Chromium (``--headless=new``) with its default
mobile profile (Moto G Power emulation, simulated slow 4G and 4x CPU slowdown) on the campaign, share, badge and
embed pages. Baseline in the same run, same flags: a bare, well-formed HTML page served by ``http.server`` (one
heading, one paragraph, no CSS, no script). With ``--runs`` > 1 each figure is the median.

Targets: at least 95 in performance, accessibility, best practices and SEO on each page; the campaign page under
40 KB transferred before images (``transferSize`` of every non-image request in the ``network-requests`` audit).
Below each table: the audits that cost a page points, for the page owners.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._lighthouse_site import SLUG, bare_page, serve, supporter
from benchmarks._web import ROOT

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
BYTES_TARGET = 40 * 1024
SCORE_TARGET = 95
def lighthouse(url: str) -> dict[str, Any] | str:
    """One Lighthouse run (mobile profile) on ``url``: its JSON report, or why there is none."""
    cmd = [
        str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet", f"--chrome-path={CHROMIUM}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu", "--form-factor=mobile",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    if out.returncode != 0:
        lines = [line for line in out.stderr.splitlines() if "Runtime error" in line or "Error" in line]
        return (lines or [f"exit {out.returncode}"])[-1].strip()[:300]
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _detail(audit: dict[str, Any]) -> str:
    """What an audit found, briefly: the first item (a console error's URL, an element) or its display value."""
    items = (audit.get("details") or {}).get("items") or []
    if items:
        first = items[0]
        node = first.get("node") or first.get("source") or {}
        node = {"snippet": node} if isinstance(node, str) else node
        where = (first.get("sourceLocation") or {}).get("url") or node.get("snippet") or ""
        what = str(first.get("description") or where or "")
        return f": {what[:90]}{' at ' + where[:80] if where and where != what else ''}" + (
            f" (+{len(items) - 1} more)" if len(items) > 1 else "")
    return f": {audit['displayValue']}" if audit.get("displayValue") else ""


def figures(report: dict[str, Any]) -> dict[str, Any]:
    """The four scores (0-100), bytes before images, FCP and LCP (ms), and the audits that cost points."""
    cats = report["categories"]
    scores = {c: round((cats[c]["score"] or 0) * 100) for c in CATEGORIES}
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    before_images = sum(int(r.get("transferSize") or 0) for r in requests if r.get("resourceType") != "Image")
    weights = {ref["id"]: ref["weight"] for c in CATEGORIES for ref in cats[c]["auditRefs"] if ref["weight"]}
    lost = sorted(
        f"{a['id']} ({a['score']:.2f}{_detail(a)})" for a in audits.values()
        if a["id"] in weights and a.get("score") is not None and a["score"] < 0.9
    )
    if report.get("runtimeError"):  # e.g. the page answered 404: Lighthouse scores what it could
        lost.insert(0, f"runtimeError {report['runtimeError'].get('code')}")
    return {
        **scores, "bytes": before_images, "requests": len(requests),
        "fcp": round(audits["first-contentful-paint"]["numericValue"]),
        "lcp": round(audits["largest-contentful-paint"]["numericValue"]), "lost": lost,
    }


NUMBERS = (*CATEGORIES, "bytes", "requests", "fcp", "lcp")


def failed(reason: str) -> dict[str, Any]:
    return {**dict.fromkeys(NUMBERS, 0), "lost": [f"no report: {reason}"]}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: round(statistics.median(r[k] for r in runs)) for k in NUMBERS}
    out["lost"] = sorted({a for r in runs for a in r["lost"]})
    return out


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    base = rows[0][1]
    lines = [
        "| page | perf | a11y | best practices | SEO | KB before images (requests) | vs baseline | FCP ms | LCP ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, f in rows:
        ratio = "1.00x (baseline)" if f is base else f"{f['bytes'] / max(base['bytes'], 1):.2f}x"
        lines.append(
            f"| {label} | {f['performance']} | {f['accessibility']} | {f['best-practices']} | {f['seo']} | "
            f"{f['bytes'] / 1024:.1f} ({f['requests']}) | {ratio} | {f['fcp']} | {f['lcp']} |"
        )
    return "\n".join(lines)


def misses(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    out = []
    for label, f in rows[1:]:
        below = [f"{c} {f[c]}" for c in CATEGORIES if f[c] < SCORE_TARGET]
        if label == "campaign" and f["bytes"] >= BYTES_TARGET:
            below.append(f"{f['bytes'] / 1024:.1f} KB before images (target < 40 KB)")
        verdict = "meets every target" if not below else "misses: " + ", ".join(below)
        cost = f"; audits below 0.9: {', '.join(f['lost'])}" if f["lost"] else ""
        out.append(f"- {label}: {verdict}{cost}")
    return out


def conditions() -> str:
    def version(*cmd: str) -> str:
        return subprocess.run([*cmd, "--version"], capture_output=True, text=True).stdout.strip()

    return (f"Lighthouse {version(str(LIGHTHOUSE))} (Node {version('node')}), {version(CHROMIUM)} --headless=new, "
            "default mobile profile (simulated "
            f"throttling), {os.cpu_count()} cores shared with other work, measured "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks lighthouse", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page; figures are medians (default 1)")
    ap.add_argument("--save", type=Path, help="also write each page's last JSON report into this folder")
    args = ap.parse_args(argv)
    if not LIGHTHOUSE.exists() or not Path(CHROMIUM).exists():
        print(f"error: needs {LIGHTHOUSE} (make node-deps) and {CHROMIUM} (make system-deps)", file=sys.stderr)
        return 2
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp) / "data") as base, bare_page() as bare:
        share = supporter(base, Path(tmp) / "data")
        pages = [("baseline: bare HTML page", bare), ("campaign", f"{base}/c/{SLUG}"), ("share", f"{base}{share}"),
                 ("badge", f"{base}/c/{SLUG}/badge"), ("embed", f"{base}/c/{SLUG}/embed")]
        for label, url in pages:
            httpx.get(url, timeout=30)  # warm: first renders (cards, templates) are not what a visitor waits for
            reports = [lighthouse(url) for _ in range(args.runs)]
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{label.split(':')[0]}.json").write_text(json.dumps(reports[-1]))
            rows.append((label, median_of([figures(r) if isinstance(r, dict) else failed(r) for r in reports])))
    print(f"Conditions: {conditions()}; {args.runs} run(s) per page.\n")
    print(table(rows))
    print()
    print("\n".join(misses(rows)))
    return 0
