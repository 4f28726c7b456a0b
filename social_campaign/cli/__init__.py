"""The ``social-campaign`` command. Thin: each command parses arguments and calls a service.

Commands live in one module per area (``cli/campaign.py``, ``cli/run.py``, ``cli/pledges.py``, ``cli/graphics.py``);
each has ``register(app)``. Every error the package raises on purpose reaches the user as one line on stderr with a
non-zero exit, never as a traceback (see :class:`CLI`): ``error: <message>``, or ``path:line: message`` for each
problem of a campaign.

Importing this package is cheap (Typer and the standard library): the command modules import what a command uses
inside it, so ``--help`` and ``check`` never load SQLAlchemy, FastAPI or uvicorn (``tests/test_cli_imports.py``).
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from social_campaign.cli import campaign, graphics, mail, outbox, pledges, run, supporters, users
from social_campaign.cli.common import echo_err
from social_campaign.errors import CampaignError, SocialCampaignError

typer_app = typer.Typer(
    name="social-campaign",
    help="Campaign-as-code for advocacy non-profits: check, schedule and post a campaign; take pledges; make badges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

for module in (campaign, run, pledges, graphics, outbox, mail, supporters, users):
    module.register(typer_app)


class CLI:
    """The console-script entry point: runs the Typer app and turns errors into one line and an exit code."""

    def __call__(self, args: list[str] | None = None, prog_name: str = "social-campaign") -> Any:
        try:
            result = typer_app(args=args, prog_name=prog_name, standalone_mode=False)
            if isinstance(result, int) and not isinstance(result, bool) and result != 0:
                sys.exit(result)  # typer.Exit(code) comes back as a return value when standalone_mode is off
            return result
        except CampaignError as exc:
            for problem in exc.problems:
                echo_err(str(problem))
            sys.exit(1)
        except SocialCampaignError as exc:
            echo_err(f"error: {exc}")
            sys.exit(1)
        except typer.Abort:
            echo_err("error: aborted")
            sys.exit(130)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            sys.exit(130)
        except SystemExit:
            raise
        except Exception as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `social-campaign` or a group alone: its help, not an error
                sys.stdout.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
                sys.exit(2)
            if _is_usage_error(exc):  # typer's (vendored) click: unknown option, missing argument, bad value
                ctx = getattr(exc, "ctx", None)
                where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                echo_err(f"error: {exc.format_message()}{where}")  # type: ignore[attr-defined]
                sys.exit(getattr(exc, "exit_code", 2))
            # a bug: still one line, never a traceback
            first = str(exc).splitlines()[0] if str(exc) else ""
            echo_err(f"error: unexpected {type(exc).__name__}: {first} (please report this)")
            sys.exit(70)


def _is_usage_error(exc: Exception) -> bool:
    """A click-style usage error, whichever click raised it (Typer vendors its own copy)."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and hasattr(exc, "format_message")


app = CLI()
