"""Serve the web app for a benchmark: ``python -m benchmarks._serve --port P --data-dir D [--database-url URL]``.

Uses the shipped campaign (``schedule.toml`` in the project folder), rate limits off (every request comes from
127.0.0.1), one uvicorn process, no access log: the same app ``social-campaign serve --role web`` runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from social_campaign.config import Settings
from social_campaign.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    settings = Settings(  # type: ignore[call-arg]
        data_dir=Path(args.data_dir), database_url=args.database_url, pledge_rate_limits="",
        schedule=ROOT / "schedule.toml", _env_file=None,
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
