"""Regenerate the initial Alembic revision from the SQLModel tables.

Until the first release there is one revision, ``0001_initial``; run this (``make migration``) after changing
``social_campaign/models.py``. tests/test_migrations.py fails when the revision and the models disagree.
"""

from __future__ import annotations

import re
import tempfile

from alembic import command
from alembic.config import Config

from social_campaign.db import MIGRATIONS, make_engine

VERSIONS = MIGRATIONS / "versions"


def main() -> None:
    for old in VERSIONS.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gen.db")
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = engine
        command.revision(cfg, message="initial", autogenerate=True, rev_id="0001")
    (path,) = VERSIONS.glob("0001_*.py")
    text = path.read_text()
    text = re.sub(r"Create Date: .*", "Create Date: (generated)", text)
    text = text.replace("sqlmodel.sql.sqltypes.AutoString()", "sa.String()")
    text = text.replace("social_campaign.models.UTCDateTime()", "social_campaign.models.UTCDateTime()")
    path.rename(VERSIONS / "0001_initial.py")
    (VERSIONS / "0001_initial.py").write_text(text)
    print(f"wrote {VERSIONS / '0001_initial.py'}")


if __name__ == "__main__":
    main()
