"""The README documents every setting and every command, generated from the code (scripts/gen_docs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from social_campaign.config import Settings, env_name

ROOT = Path(__file__).resolve().parent.parent


def test_readme_is_generated_from_code() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"`{env_name(name)}`" in readme, name
        assert field.description, f"setting {name} has no description"


def test_readme_opens_with_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:30])
    assert "make demo" in first_screen and "make test" in first_screen
