"""A clean stop, as real processes: ``run``, ``worker``, ``scheduler``, ``serve`` and ``demo`` are each started and
stopped with SIGTERM (every third time SIGINT) 20 times in a row, under load (deliveries and emails due at every
start, ``SOCIAL_CAMPAIGN_SYNC_SECONDS=1``). Each stop must end the process with exit code 0 within 10 s, and leave
nothing half-done: no delivery or email still ``sending``, every email written once.

The five roles take turns, three processes at a time (one thread and data dir per role): load in itself, and it
keeps the test within a few minutes on two cores.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from social_campaign.config import Settings
from social_campaign.db import engine_for
from social_campaign.models import utcnow
from social_campaign.scheduling.sync import sync_campaign
from tests.mail.helpers import queue_emails
from tests.scheduling.procs import worker_env

pytestmark = pytest.mark.slow
ROUNDS = 20
STOP_LIMIT = 10.0  # seconds: what the issue asks of a signal
AT_ONCE = threading.BoundedSemaphore(3)  # role processes running at the same time
LOOPS = {
    "worker": {"delivery", "mail"},
    "scheduler": {"scheduler", "job:sync", "job:pledge_release"},
    "run": {"delivery", "mail", "scheduler", "job:sync"},
    "serve": {"delivery", "mail", "scheduler", "job:sync"},
    "demo": {"delivery", "mail", "scheduler"},
}


CAMPAIGN = """[campaign]
slug = "childrens-day"
name = "Universal Children's Day"
timezone = "America/New_York"
hashtags = ["#ChildrensDay"]

"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: be killed when the test's thread ends (pytest-timeout ends the test with os._exit)."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


class Role:
    """One role's data dir, campaign and load; :meth:`cycle` starts it, waits until its loops beat, and stops it."""

    def __init__(self, role: str, root: Path) -> None:
        self.role, self.root = role, root
        self.data = root / "data"
        self.port = _free_port()
        self.env = worker_env(self.data, "http://127.0.0.1:9", SOCIAL_CAMPAIGN_SYNC_SECONDS="1",
                              SOCIAL_CAMPAIGN_PORT=str(self.port), SOCIAL_CAMPAIGN_PUBLIC_URL=f"http://127.0.0.1:{self.port}")  # fmt: skip
        for key in [k for k in self.env if k.startswith("SOCIAL_CAMPAIGN_X_")]:  # every channel posts to the outbox
            del self.env[key]
        self.settings = Settings(data_dir=self.data, pledge_rate_limits="", _env_file=None)  # type: ignore[call-arg]
        self.db = self.data / ("demo/data" if role == "demo" else "") / "social-campaign.db"
        self.log = root / "proc.log"
        self.results: list[tuple[int, int, float]] = []  # (round, exit code, seconds from signal to exit)
        self.error: BaseException | None = None

    def load(self, n: int) -> None:
        """Four posts due now on both channels (new post ids every round) and 50 emails due."""
        folder = self.root / "campaign"
        (folder / "messages").mkdir(parents=True, exist_ok=True)
        at = (utcnow() - timedelta(seconds=30)).replace(microsecond=0).isoformat()
        posts = []
        for k in range(4):
            (folder / "messages" / f"r{n}-{k}.md").write_text(f"Round {n}, post {k}: ratify the CRC #ChildrensDay\n")
            posts.append(f'[[post]]\nid = "r{n}-{k}"\nat = {at}\nchannels = ["x", "facebook"]\nmessage = "r{n}-{k}"\n')
        schedule = folder / "schedule.toml"
        schedule.write_text(CAMPAIGN + "\n".join(posts), encoding="utf-8")
        self.env["SOCIAL_CAMPAIGN_SCHEDULE"] = str(schedule)
        if self.role == "demo":
            return  # the demo copies this campaign (--schedule), re-times it and runs the copy on its own database
        engine = engine_for(self.settings)
        try:
            sync_campaign(self.settings.model_copy(update={"schedule": schedule}), engine, schedule, utcnow())
            queue_emails(engine, 50, prefix=f"r{n}-")
        finally:
            engine.dispose()

    def command(self) -> list[str]:
        demo = ["--minutes", "5", "--schedule", str(self.root / "campaign" / "schedule.toml")]
        extra = {"serve": ["--port", str(self.port)], "demo": demo}.get(self.role, [])
        return [sys.executable, "-m", "social_campaign", self.role, *extra]

    def ready(self, pid: int) -> bool:
        if self.role == "demo" and "Campaign page:" not in self.log.read_text(errors="replace").rsplit("--- round", 1)[-1]:
            return False  # the demo first deletes and re-creates its data dir: do not open the old database meanwhile
        rows = _query(self.db, "SELECT loop FROM heartbeat WHERE process LIKE ? AND stopped_at IS NULL", f"%:{pid}")
        if not LOOPS[self.role] <= {r[0] for r in rows}:
            return False
        if self.role == "serve":
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False
        return True

    def cycle(self, n: int) -> None:
        self.load(n)
        sig = signal.SIGINT if n % 3 == 2 else signal.SIGTERM
        with self.log.open("ab") as log:
            log.write(f"--- round {n} ({sig.name})\n".encode())
            log.flush()
            proc = subprocess.Popen(self.command(), cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)  # fmt: skip
            try:
                deadline = time.monotonic() + 120
                while not self.ready(proc.pid):
                    assert proc.poll() is None, f"{self.role} ended ({proc.returncode}) before it was up: {self.tail()}"
                    assert time.monotonic() < deadline, f"{self.role} was not up after 120 s: {self.tail()}"
                    time.sleep(0.1)
                proc.send_signal(sig)
                sent = time.monotonic()
                try:
                    code = proc.wait(60)
                except subprocess.TimeoutExpired:
                    code = -999
                self.results.append((n, code, time.monotonic() - sent))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def run(self) -> None:
        try:
            for n in range(ROUNDS):
                with AT_ONCE:
                    self.cycle(n)
        except BaseException as exc:  # reported by the test thread
            self.error = exc


@pytest.mark.timeout(1800)  # about 3 minutes on two quiet cores; much longer when the machine is shared
def test_every_role_stops_cleanly_on_a_signal_twenty_times_in_a_row(tmp_path: Path) -> None:
    roles = [Role(name, tmp_path / name) for name in LOOPS]
    for role in roles:
        role.root.mkdir()
    threads = [threading.Thread(target=role.run, name=role.role, daemon=True) for role in roles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for role in roles:
        assert role.error is None, f"{role.role}: {role.error!r}\n{role.tail()}"
        assert [code for _, code, _ in role.results] == [0] * ROUNDS, f"{role.role}: {role.results}\n{role.tail()}"
        slow = [(n, round(t, 1)) for n, _, t in role.results if t > STOP_LIMIT]
        assert not slow, f"{role.role} took longer than {STOP_LIMIT} s to stop: {slow}"
        text = role.log.read_text(errors="replace")
        assert "Traceback" not in text, f"{role.role}: {role.tail()}"
        # nothing half-done: no row left in 'sending', and every email written exactly once
        assert _query(role.db, "SELECT count(*) FROM delivery WHERE state = 'sending'") == [(0,)], role.role
        assert _query(role.db, "SELECT count(*) FROM emailmessage WHERE state = 'sending'") in ([(0,)], []), role.role
        sent = _query(role.db, "SELECT count(*) FROM emailmessage WHERE state = 'sent'")
        files = list((role.db.parent / "mail").glob("*.eml"))
        assert sent in ([(len(files),)], []), role.role
        assert _query(role.db, "SELECT count(*) FROM heartbeat WHERE stopped_at IS NULL") == [(0,)], role.role
