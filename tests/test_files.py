"""Private files: under umask 022 the data dir is 0700 and the database, its WAL and every file under it are 0600.

The tests run as root, so they check the mode bits (root could read any file anyway).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from social_campaign.files import private_dir, private_file, write_private

ROOT = Path(__file__).resolve().parent.parent

#: Runs in a fresh process with umask 022: everything the service writes into a data dir, through its real code.
WRITE_EVERYTHING = """
import os, sys
from pathlib import Path
os.umask(0o022)
from sqlmodel import Session, text
from social_campaign.config import Settings
from social_campaign.db import engine_for
from social_campaign.mail.transport import FolderTransport, Outgoing
from social_campaign.publishers.base import Media, OutgoingPost
from social_campaign.publishers.outbox import OutboxPublisher

data = Path(sys.argv[1])
settings = Settings(data_dir=data, _env_file=None)
settings.key                                           # secret.key
engine = engine_for(settings)                          # the SQLite database, -wal, -shm
OutboxPublisher(settings=settings, engine=engine, channel="x").publish(
    OutgoingPost(1, "x", "hello", (Media(Path(sys.argv[2]), "a card"),))
)                                                      # outbox/x/<time>-1.md and outbox/x/media/1-1-card.png

class Commit:
    def mark(self, ids): return set(ids)
    def settle(self): pass

email = Outgoing(7, "a@example.org", "b@example.org", b"Subject: hi\\r\\n\\r\\nhi\\r\\n")
FolderTransport(data / "mail").send_batch([email], Commit())
with Session(engine) as session:                       # stat while a connection is open: -wal and -shm exist
    session.exec(text("SELECT 1"))
    import json, stat
    found = {str(p.relative_to(data)): oct(stat.S_IMODE(p.lstat().st_mode)) for p in [data, *data.rglob("*")]}
    print(json.dumps({"modes": found, "dirs": [str(p.relative_to(data)) for p in data.rglob("*") if p.is_dir()]}))
"""


def modes(root: Path) -> dict[str, str]:
    """``relative path -> octal mode`` of the root and everything under it."""
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.lstat().st_mode)) for p in paths}


def test_everything_under_the_data_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    card = tmp_path / "card.png"
    card.write_bytes(b"\x89PNG\r\n\x1a\n")
    card.chmod(0o644)
    data = tmp_path / "deep" / "data"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", WRITE_EVERYTHING, str(data), str(card)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    found, dirs = report["modes"], {".", *report["dirs"]}
    names = set(found)
    database = {"social-campaign.db", "social-campaign.db-wal", "social-campaign.db-shm"}
    assert database | {"secret.key", "mail/000000007.eml"} <= names
    assert any(n.startswith("outbox/x/") and n.endswith("-1.md") for n in names)
    assert "outbox/x/media/1-1-card.png" in names
    for name, mode in found.items():
        assert mode == ("0o700" if name in dirs else "0o600"), (name, mode)
    assert modes(data) == {k: v for k, v in found.items() if not k.endswith(("-wal", "-shm"))}  # and so they stay
    assert oct(stat.S_IMODE((tmp_path / "deep").stat().st_mode)) == "0o700"  # made for the data dir: private too


def test_an_existing_data_dir_and_database_are_tightened(tmp_path: Path) -> None:
    from social_campaign.config import Settings
    from social_campaign.db import engine_for

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    db = data / "social-campaign.db"
    db.touch()
    db.chmod(0o644)
    engine_for(Settings(data_dir=data, _env_file=None)).dispose()  # type: ignore[call-arg]
    assert modes(data)["."] == "0o700"
    assert modes(data)["social-campaign.db"] == "0o600"


def test_a_database_outside_the_data_dir_leaves_its_folder_alone(tmp_path: Path) -> None:
    from social_campaign.db import make_engine

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    make_engine(f"sqlite:///{shared / 'x.db'}").dispose()
    assert modes(shared)["."] == "0o755"  # an existing folder is not ours to change
    assert modes(shared)["x.db"] == "0o600"


def test_helpers_set_exact_modes_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        assert private_file(folder / "f") == folder / "f"
        written = write_private(tmp_path / "a" / "c" / "w.txt", b"data")
    finally:
        os.umask(old)
    assert modes(tmp_path / "a") == {".": "0o700", "b": "0o700", "b/f": "0o600", "c": "0o700", "c/w.txt": "0o600"}
    assert written.read_bytes() == b"data"
    assert not [p for p in (tmp_path / "a" / "c").iterdir() if p.name.startswith(".tmp-")]


def test_renders_follow_the_umask_and_long_running_commands_make_it_private(tmp_path: Path) -> None:
    from social_campaign.cli.common import private_process
    from social_campaign.files import current_umask
    from social_campaign.graphics.files import write_atomic

    old = os.umask(0o022)
    try:
        assert current_umask() == 0o022
        badge = write_atomic(tmp_path / "badges" / "me.png", b"png")  # a manager's own output folder: as usual
        private_process()  # what run, worker, scheduler, serve, demo and `infographics build` do first
        assert current_umask() == 0o077
        card = write_atomic(tmp_path / "data" / "cards" / "card.png", b"png")
    finally:
        os.umask(old)
    assert modes(tmp_path)["badges/me.png"] == "0o644"
    assert modes(tmp_path)["data/cards/card.png"] == "0o600"
    assert modes(tmp_path)["data/cards"] == "0o700"
    assert badge.read_bytes() == card.read_bytes() == b"png"
