"""Regenerate the README's settings table and CLI reference from the code (like cog in datasette).

    .venv/bin/python scripts/gen_docs.py          # rewrite README.md in place
    .venv/bin/python scripts/gen_docs.py --check  # exit 1 if README.md is stale (tests/test_docs.py does this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer.main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def settings_table() -> str:
    from social_campaign.config import Settings, env_name

    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if name == "database_url":
            shown = "SQLite file in DATA_DIR"
        elif default is None:
            shown = "unset"
        else:
            shown = f"`{default}`" if str(default) != "" else "empty"
        rows.append(f"| `{env_name(name)}` | {shown} | {(field.description or '').replace('|', '/')} |")
    return "\n".join(rows)


def cli_reference() -> str:
    from social_campaign.cli import typer_app

    group = typer.main.get_command(typer_app)
    out: list[str] = []

    context_class = type(group.make_context("social-campaign", ["--help"], resilient_parsing=True))

    def walk(cmd: Any, path: list[str]) -> None:
        ctx = context_class(cmd, info_name=" ".join(path), terminal_width=110, max_content_width=110)
        is_group = hasattr(cmd, "list_commands")
        if not is_group:
            out.append(f"#### `{' '.join(path)}`\n\n```\n{cmd.get_help(ctx).rstrip()}\n```\n")
            return
        for sub_name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                walk(sub, [*path, sub_name])

    walk(group, ["social-campaign"])
    return "\n".join(out).rstrip()


def render(text: str) -> str:
    for marker, body in (("settings", settings_table()), ("cli", cli_reference())):
        pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md: marker <!-- {marker}:start --> … <!-- {marker}:end --> missing")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    current = README.read_text()
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("README.md is stale: run .venv/bin/python scripts/gen_docs.py")
            return 1
        return 0
    README.write_text(fresh)
    print("README.md updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
