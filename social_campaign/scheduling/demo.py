"""``social-campaign demo``: the shipped campaign, re-timed to the next minute, posted to the outbox before your eyes.

1. Copies ``schedule.toml``, ``messages/`` and ``infographics/`` to ``DATA_DIR/demo/campaign/`` (fresh each run).
2. Rewrites each post's time (tomlkit keeps the file readable) to a few seconds from now, 15 s apart.
3. Runs the scheduler and a worker in this process with every credential cleared, so every channel posts to the
   outbox (``DATA_DIR/demo/data/``), and prints each post as it arrives.
4. Serves the demo campaign's pages (``/c/<slug>``, pledge form, badge maker) on SOCIAL_CAMPAIGN_PORT (or a free port),
   with emails going to the mail folder ``DATA_DIR/demo/data/mail`` instead of SMTP.
5. Exits by itself when every delivery is settled (or after ``--minutes``). With ``--keep``, or in an interactive
   terminal, it then says it is still serving the pages, where, and how to stop (Ctrl-C or SIGTERM). Outside a
   terminal (``make demo`` in a script or CI) it ends by itself. SIGTERM or Ctrl-C stops it cleanly at any time.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from rich.console import Console
from sqlmodel import Session, select

from social_campaign.config import Settings
from social_campaign.errors import InputError
from social_campaign.models import Delivery, DeliveryState, OutboxItem, utcnow

FIRST_AFTER = 5.0  # seconds from start to the first post
SPACING = 15.0  # seconds between posts
SETTLED = {DeliveryState.sent, DeliveryState.failed, DeliveryState.missed, DeliveryState.cancelled, DeliveryState.needs_reconnect}
CREDENTIALS = {
    "x_consumer_key": None, "x_consumer_secret": None, "x_access_token": None, "x_access_token_secret": None,
    "x_client_id": None, "x_client_secret": None, "x_oauth2_refresh_token": None, "x_user_id": None,
    "facebook_page_id": None, "facebook_page_token": None,
}  # fmt: skip


def find_source(settings: Settings, source: Path | None) -> Path:
    """The campaign to copy: ``--schedule``, else ./schedule.toml (or SOCIAL_CAMPAIGN_SCHEDULE), else the checkout's."""
    candidates = [source] if source is not None else [settings.schedule, Path(__file__).resolve().parents[2] / "schedule.toml"]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return candidate.resolve()
    raise InputError(f"{candidates[0]}: no schedule.toml to run the demo on (give one with --schedule)")


def prepare(settings: Settings, source: Path, now: datetime) -> tuple[Path, list[tuple[str, datetime]]]:
    """Copy the campaign into ``DATA_DIR/demo/campaign`` with re-timed posts; returns the new schedule and the times."""
    demo_root = settings.data_dir.resolve() / "demo"
    target = demo_root / "campaign"
    if demo_root.exists():
        shutil.rmtree(demo_root)
    target.mkdir(parents=True)
    for folder in ("messages", "infographics"):
        if (source.parent / folder).is_dir():
            shutil.copytree(source.parent / folder, target / folder)
    try:
        doc = tomlkit.parse(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise InputError(f"{source}: cannot be read as TOML ({exc})") from None
    times: list[tuple[str, datetime]] = []
    for i, post in enumerate(doc.get("post", [])):
        for key in ("cron", "start", "end"):
            post.pop(key, None)
        at = (now + timedelta(seconds=FIRST_AFTER + SPACING * i)).replace(microsecond=0)
        post["at"] = at
        times.append((str(post.get("id", f"post {i + 1}")), at))
    doc.add(tomlkit.comment(f"demo copy of {source}, re-timed at {now:%Y-%m-%d %H:%M:%S} UTC"))
    out = target / "schedule.toml"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(out)
    return out, times


def demo_settings(settings: Settings, schedule: Path) -> Settings:
    """The user's settings on a scratch data dir, with every credential cleared (so everything goes to the outbox),
    serving the demo copy alone (SOCIAL_CAMPAIGN_CAMPAIGNS does not apply)."""
    data = schedule.parent.parent / "data"
    data.mkdir(parents=True, exist_ok=True)
    update: dict[str, Any] = {
        **CREDENTIALS, "data_dir": data, "database_url": None, "schedule": schedule, "campaigns": [], "smtp_url": None,
        "poll_seconds": 0.5, "sync_seconds": 5.0, "grace_minutes": 15.0,
    }  # fmt: skip
    return settings.model_copy(update=update)


def run_demo(
    settings: Settings,
    *,
    source: Path | None = None,
    minutes: float = 3.0,
    keep: bool = False,
    serve: bool = True,
    out: Console | None = None,
) -> int:
    """Run the demo; returns how many deliveries were sent."""
    from social_campaign.db import engine_for
    from social_campaign.scheduling.roles import on_signals, start

    out = out or Console(highlight=False)
    now = utcnow()
    src = find_source(settings, source)
    schedule, times = prepare(settings, src, now)
    dsettings = demo_settings(settings, schedule)
    engine = engine_for(dsettings)
    out.print(f"Demo of [bold]{src}[/bold], copied to {schedule.parent}")
    out.print(f"{len(times)} posts re-timed {FIRST_AFTER:.0f} s from now, {SPACING:.0f} s apart; no credentials are used, so every channel posts to the outbox.")
    web = _serve_pages(dsettings, engine, out) if serve else None
    if web is not None:
        dsettings = web.settings
    stop = threading.Event()
    with on_signals(stop):  # SIGTERM or Ctrl-C: a clean stop, whatever the demo is doing
        handle = start(dsettings, {"scheduler", "worker"}, engine=engine)
        seen: set[int] = set()
        deadline = time.monotonic() + minutes * 60
        try:
            while (time.monotonic() < deadline or keep) and not stop.is_set():
                rows, files = _snapshot(engine)
                for row in rows:
                    if row.id in seen or row.state not in SETTLED:
                        continue
                    seen.add(row.id)  # type: ignore[arg-type]
                    _print_row(out, row, files.get(row.id))
                if rows and all(r.state in SETTLED for r in rows):
                    break
                stop.wait(0.3)
            if (keep or (web is not None and sys.stdin.isatty())) and not stop.is_set():
                serving = f"Still serving the pages at {web.url} (and sending their emails)" if web else "Still running"
                out.print(f"\nEvery post went out. {serving}; press Ctrl-C, or send SIGTERM, to stop.")
                while not stop.wait(0.5) and (web is None or web.thread.is_alive()):
                    pass
            elif web is not None and not stop.is_set():
                out.print("\nThe pages stop with the demo (not in a terminal); `social-campaign demo --keep` keeps serving.")
            if stop.is_set():
                out.print("stopping")
        finally:
            if web is not None:
                web.server.should_exit = True  # no new requests while the roles stop
            handle.stop()
            if web is not None:
                web.stop()
    rows, files = _snapshot(engine)
    engine.dispose()
    sent = sum(1 for r in rows if r.state == DeliveryState.sent)
    pending = [r for r in rows if r.state not in SETTLED]
    out.print(f"\n[bold]{sent} of {len(rows)} deliveries sent[/bold]" + (f", {len(pending)} still pending ({'stopped' if stop.is_set() else 'time limit reached'})" if pending else "."))
    folders = [str(Path(f).parent) for f in files.values() if f]
    out.print(f"Outbox folder: {os.path.commonpath(folders) if folders else dsettings.data_dir / 'outbox'}")
    out.print(f"Database: {dsettings.resolved_database_url}  (SOCIAL_CAMPAIGN_DATA_DIR={dsettings.data_dir} social-campaign status)")
    return sent


def _snapshot(engine: Any) -> tuple[list[Delivery], dict[int | None, str | None]]:
    with Session(engine) as session:
        rows = list(session.exec(select(Delivery).order_by(Delivery.due_at, Delivery.id)).all())  # type: ignore[arg-type]
        files = {item.delivery_id: item.file for item in session.exec(select(OutboxItem)).all()}
    return rows, files


def _print_row(out: Console, row: Delivery, file: str | None) -> None:
    when = (row.sent_at or utcnow()).astimezone(UTC)
    late = f" ({(row.sent_at - row.due_at).total_seconds():+.1f} s from due)" if row.sent_at else ""
    first = row.text.strip().splitlines()[0] if row.text.strip() else ""
    head = f"{when:%H:%M:%S} {row.state:<8} {row.post_id} → {row.channel}{late}"
    out.print(head, markup=False)
    out.print(f"         {first[:100]}", markup=False)
    if file:
        out.print(f"         outbox: {file}", markup=False)
    elif row.last_error:
        out.print(f"         {row.last_error}", markup=False)


class _Pages:
    """The demo campaign's web pages, served by uvicorn in a background thread."""

    def __init__(self, settings: Settings, server: Any, thread: threading.Thread, url: str) -> None:
        self.settings, self.server, self.thread, self.url = settings, server, thread, url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=2)


def _free_port(host: str, preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise InputError(f"{host}: no free port to serve the demo pages on")


def _serve_pages(settings: Settings, engine: Any, out: Console) -> _Pages | None:
    import uvicorn

    from social_campaign.campaign.loader import load_campaign
    from social_campaign.web.app import create_app
    from social_campaign.web.server import uvicorn_options

    port = _free_port(settings.host, settings.port)
    base = f"http://{settings.host}:{port}"
    settings = settings.model_copy(update={"port": port, "public_url": base})
    config = uvicorn.Config(
        create_app(settings, engine), host=settings.host, port=port, log_level="warning", access_log=False,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        out.print("could not start the web pages; the posts still run", markup=False)
        return None
    slug = load_campaign(settings.schedule).slug
    url = f"{base}/c/{slug}"
    out.print(f"Campaign page: [bold]{url}[/bold]  (badge maker: {url}/badge, manager dashboard: {base}/admin)")
    out.print(f"Pledge there: confirmation emails land in {settings.data_dir / 'mail'} (list them with `social-campaign mail`).")
    return _Pages(settings, server, thread, url)
