"""Commands of the campaign area: ``check`` (every problem at once) and ``plan`` (the upcoming deliveries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from social_campaign.cli.common import (
    ScheduleOption,
    console,
    echo,
    echo_err,
    get_settings,
    schedule_path,
)
from social_campaign.errors import CampaignError

if TYPE_CHECKING:
    from social_campaign.campaign.model import Campaign

__all__ = ["check", "measure", "plan", "plan_rows", "register"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check(
    schedule: Annotated[
        Path | None, typer.Argument(help="Campaign file (default: ./schedule.toml).", show_default=False)
    ] = None,
    schedule_opt: ScheduleOption = None,
) -> None:
    """Check schedule.toml, its messages and media; print every problem as path:line: message. Exit 1 on any error."""
    from social_campaign.campaign.check import count_deliveries, run_check

    settings = get_settings()
    path = schedule or schedule_path(schedule_opt, settings)
    now = datetime.now(UTC)
    result = run_check(path, now, mastodon_max=settings.mastodon_max_chars)
    for problem in result.problems:
        echo(str(problem))
    errors, warnings = len(result.errors), len(result.warnings)
    if errors or result.campaign is None:
        echo_err(f"{_plural(max(errors, 1), 'error')}, {_plural(warnings, 'warning')}")
        raise typer.Exit(1)
    campaign = result.campaign
    deliveries = count_deliveries(campaign, now, settings.horizon_days)
    extra = f" ({_plural(warnings, 'warning')})" if warnings else ""
    n_deliveries = _plural(deliveries, "delivery").replace("deliverys", "deliveries")
    echo(f"ok: {_plural(len(campaign.posts), 'post')}, {n_deliveries}{extra}")


def measure(channel: str, text: str, mastodon_max: int = 500) -> str:
    """The text's length on ``channel`` against its limit, as that network counts: ``97/280``, ``120/500``; Bluesky's
    byte count is added when its 3,000-byte cap is the one reached (``290/300, 3012/3000 bytes``); the outbox has none."""
    from social_campaign import text as counts

    if channel == "x":
        return f"{counts.x_weighted_length(text)}/{counts.X_MAX}"
    if channel == "mastodon":
        return f"{counts.mastodon_length(text)}/{mastodon_max}"
    if channel == "bluesky":
        size = counts.bluesky_bytes(text)
        extra = f", {size}/{counts.BLUESKY_MAX_BYTES} bytes" if size > counts.BLUESKY_MAX_BYTES else ""
        return f"{counts.bluesky_length(text)}/{counts.BLUESKY_MAX}{extra}"
    if channel == "facebook":
        return f"{counts.facebook_length(text)}/{counts.FACEBOOK_MAX}"
    return str(counts.facebook_length(text))


def plan_rows(
    campaign: Campaign, now: datetime, until: datetime, mastodon_max: int = 500
) -> list[tuple[str, str, datetime, str, str]]:
    """(post id, channel, instant UTC, length/limit, media) of every delivery in [now, until), in time order."""
    rows: list[tuple[str, str, datetime, str, str]] = []
    for post in campaign.posts:
        media = ", ".join(ref.path.name for ref in post.media)
        for instant in post.occurrences(now, until):
            for channel in post.channels:
                rows.append((post.id, channel, instant, measure(channel, post.texts[channel], mastodon_max), media))
    pledge = campaign.pledge
    if pledge is not None and now <= pledge.fire_at < until:
        for channel in pledge.channels:
            text = pledge.org_texts.get(channel, pledge.variants[0] if pledge.variants else "")
            length = measure(channel, text, mastodon_max)
            rows.append(("[pledge] if goal met", channel, pledge.fire_at.astimezone(UTC), length, ""))
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return rows


def plan(
    schedule_opt: ScheduleOption = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", "-d", min=1, help="Only the next N days (default: all posts; cron posts up to HORIZON_DAYS)."
        ),
    ] = None,
) -> None:
    """Show the upcoming deliveries: post, channel, language, local and UTC time, length/limit as each network
    counts (X weighted, Mastodon URLs as 23, Bluesky graphemes), media."""
    from rich.table import Table
    from rich.text import Text

    from social_campaign.campaign.check import run_check

    settings = get_settings()
    path = schedule_path(schedule_opt, settings)
    result = run_check(path, mastodon_max=settings.mastodon_max_chars)
    if result.errors or result.campaign is None:
        raise CampaignError(result.errors or result.problems)
    campaign = result.campaign
    now = datetime.now(UTC)
    horizon = now + timedelta(days=days if days is not None else settings.horizon_days)
    rows = plan_rows(campaign, now, horizon, settings.mastodon_max_chars)
    if days is None:  # one-off posts are shown however far ahead they are
        far = plan_rows(
            campaign, horizon, datetime.max.replace(tzinfo=UTC) - timedelta(days=2), settings.mastodon_max_chars
        )
        rows += [r for r in far if not any(p.id == r[0] and p.cron for p in campaign.posts)]
    table = Table(title=Text(f"{campaign.name} ({campaign.timezone.key})"), title_justify="left")
    several = len(campaign.languages) > 1  # then a column says which language each post goes out in
    langs = {post.id: post.lang for post in campaign.posts}
    for name, justify in (
        ("post", "left"),
        ("channel", "left"),
        *((("lang", "left"),) if several else ()),
        ("local time", "left"),
        ("UTC", "left"),
        ("length", "right"),
        ("media", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for post_id, channel, instant, length, media in rows:
        local = instant.astimezone(campaign.timezone)
        lang = (langs.get(post_id, campaign.default_language),) if several else ()
        cells = (
            post_id, channel, *lang, f"{local:%Y-%m-%d %H:%M %Z}", f"{instant:%Y-%m-%d %H:%M}", length, media or "-"
        )
        table.add_row(*(Text(cell) for cell in cells))
    console().print(table)
    echo(_plural(len(rows), "delivery").replace("deliverys", "deliveries"))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("check")(check)
    app.command("plan")(plan)
