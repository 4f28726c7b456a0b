"""Commands of the supporters' data area: ``supporters export|show|export-person|erase`` (see docs/PRIVACY.md).

Each answers one kind of request in one command and writes an audit entry (actor ``cli:<os user>``). An unknown
email, an email already erased or a campaign that does not exist is one line on stderr and exit 1, nothing changed.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from social_campaign.cli.common import echo, echo_err, get_settings, open_existing_engine
from social_campaign.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

supporters_app = typer.Typer(
    help="Supporters' data: the organisation's opt-in list, and data-subject requests (access, portability, erasure).",
    no_args_is_help=True,
)

EmailArg = Annotated[str, typer.Argument(help="The supporter's email address (matched as at pledge time, every campaign).")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (0600, written whole or not at all) instead of stdout.")
]


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a private temp file beside ``path`` moved into place only when everything was written."""
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    import os
    import tempfile

    if not path.parent.is_dir():
        raise InputError(f"{path}: no such folder (--output)")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(
    campaign: Annotated[str, typer.Option("--campaign", "-c", help="The campaign's slug.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (formula cells neutralised) or json (one array).")] = "csv",
    output: OutputOption = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="A co-sponsor's list (default: the first organisation's).")
    ] = None,
) -> None:
    """Stream the supporters who opted in to the organisation's updates: name, email, country, language, consent."""
    from social_campaign import audit
    from social_campaign.models import utcnow
    from social_campaign.supporters.export import FORMATS
    from social_campaign.supporters.export import export as run_export

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    engine = open_existing_engine(get_settings())
    try:
        with _output(output) as out:
            n = run_export(engine, campaign, out, fmt=fmt, organisation=organisation, actor=audit.cli_actor(), now=utcnow())
    finally:
        engine.dispose()
    if output is not None:
        echo(f"{n} supporter{'s' if n != 1 else ''} of {campaign} written to {output}")


def _people(email: str, action: str) -> list[dict[str, Any]]:
    """Everything held about ``email`` (one dict per pledge), with an audit entry; NotFound when there is nothing."""
    from social_campaign import audit
    from social_campaign.db import session_scope
    from social_campaign.models import utcnow
    from social_campaign.supporters.erase import check_address
    from social_campaign.supporters.person import find_pledges, person_data

    address = check_address(email)
    engine = open_existing_engine(get_settings())
    try:
        with session_scope(engine) as session:
            pledges = _found(find_pledges(session, address), address)
            data = [person_data(session, p) for p in pledges]
            for p in pledges:
                audit.record(session, actor=audit.cli_actor(), action=action, campaign=p.campaign,
                             target=f"pledge:{p.id}", at=utcnow())
    finally:
        engine.dispose()
    return data


def _found(pledges: list[Any], address: str) -> list[Any]:
    from social_campaign.errors import NotFound

    if not pledges:
        raise NotFound(f"no supporter with the email {address} (unknown, or erased)")
    return pledges


def show(email: EmailArg) -> None:
    """Show everything held about a supporter (a data-subject access request), per campaign pledged to."""
    import json

    for data in _people(email, "show"):
        echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def export_person(email: EmailArg, output: OutputOption = None) -> None:
    """Write everything held about a supporter as one JSON document (data portability)."""
    import json

    people = _people(email, "export-person")
    with _output(output) as out:
        json.dump({"email": email.strip(), "pledges": people}, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    if output is not None:
        echo(f"{len(people)} pledge{'s' if len(people) != 1 else ''} of {email.strip()} written to {output}")


def erase(
    email: EmailArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a supporter's personal data in every campaign (cannot be undone); anonymous counts stay right."""
    from social_campaign import audit
    from social_campaign.db import session_scope
    from social_campaign.models import utcnow
    from social_campaign.supporters.erase import check_address, erase_email
    from social_campaign.supporters.person import find_pledges

    address = check_address(email)
    settings = get_settings()
    engine = open_existing_engine(settings)
    try:
        with session_scope(engine) as session:
            campaigns = sorted({p.campaign for p in _found(find_pledges(session, address), address)})
        if not yes:
            if not sys.stdin.isatty():
                raise InputError("erasing cannot be undone: confirm with --yes when not run in a terminal")
            if not typer.confirm(f"Erase {address} from {', '.join(campaigns)}? This cannot be undone", default=False):
                echo_err("not erased")
                raise typer.Exit(1)
        n = erase_email(engine, address, now=utcnow(), actor=audit.cli_actor(), data_dir=settings.data_dir)
    finally:
        engine.dispose()
    echo(f"erased {address}: {n} pledge{'s' if n != 1 else ''} ({', '.join(campaigns)}); counts unchanged")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    supporters_app.command("export")(export)
    supporters_app.command("show")(show)
    supporters_app.command("export-person")(export_person)
    supporters_app.command("erase")(erase)
    app.add_typer(supporters_app, name="supporters")
