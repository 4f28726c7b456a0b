"""Saved revisions of a campaign's files: history, diff, revert; the pledge section, message variants and media.

* ``GET /admin/c/{slug}/history`` (viewer): every revision, newest first; the files on disk are recorded first as a
  revision when they changed outside the workspace (``revisions.ensure_baseline``), so the list is complete.
* ``GET /admin/c/{slug}/history/{number}``: its diff from the previous revision (``_diff.html``) and, for editors, a
  one-click Revert: ``POST …/{number}/revert`` (editor, CSRF, hidden ``version`` of the files now) restores that
  revision's files through ``save_files`` (files that differ, and deleting those it did not have): a new revision
  "Revert to revision N". Stale ``version``: 409 with the difference; unknown number: 404.
* ``GET/POST /admin/c/{slug}/pledge``: the ``[pledge]`` section and the variants (``workspace/pledge_edit.py``).
* ``POST /admin/c/{slug}/preview.json`` (editor): lengths, limits and previews per network for the editor's live
  counters (``static/admin-editor.js``); the CSRF token in the ``X-CSRF-Token`` header or the JSON's ``csrf``.
* The Jinja global ``media_fields(campaign, post)`` feeds ``_media_fields.html`` (the post edit page's media part).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from social_campaign.campaign.languages import variant_name
from social_campaign.campaign.model import CHANNELS, Campaign
from social_campaign.errors import BadRequest, CampaignError, Conflict, NotFound, PayloadTooLarge
from social_campaign.i18n import _, current
from social_campaign.i18n.formatting import language_name
from social_campaign.models import User, WorkspaceRevision
from social_campaign.web import csrf, deps
from social_campaign.web.auth import require
from social_campaign.workspace import diffview, media, pledge_edit, preview, revisions
from social_campaign.workspace.save import save_files

router = APIRouter()
MAX_PREVIEW_BODY = 256 * 1024
_REVERT = re.compile(r"^Revert to revision (\d+)$")
PLEDGE_SUMMARY = "Edit the pledge and its messages"
MAX_PLEDGE_FORM = 512 * 1024
_PLEDGE_KEY = re.compile(r"^\s*(goal|deadline|fire_at|message|channels)\s*=")


def summary_text(revision: WorkspaceRevision) -> str:
    """The revision's summary in the page's language where it is one of ours."""
    found = _REVERT.match(revision.summary)
    if found:
        return _("Revert to revision %(num)s") % {"num": found.group(1)}
    if revision.summary == "Files on disk":
        return _("Files on disk")
    if revision.summary == "Changed on disk":
        return _("Changed on disk")
    if revision.summary == PLEDGE_SUMMARY:
        return _("Edit the pledge and its messages")
    return revision.summary


@router.get("/admin/c/{slug}/history")
def history_page(request: Request, slug: str, user: User = Depends(require("viewer"))) -> Response:
    campaign = deps.campaign(request, slug)
    svc = deps.services(request)
    revisions.ensure_baseline(svc.engine, campaign)
    rows = revisions.history(svc.engine, slug)
    context = {"campaign": campaign, "revisions": rows, "summary_text": summary_text,
               "reverted": request.query_params.get("reverted", ""), "user": user}
    return deps.render(request, "admin_history.html", context)  # type: ignore[no-any-return]


def _revision(request: Request, slug: str, number: int) -> WorkspaceRevision:
    found = revisions.get(deps.services(request).engine, slug, number)
    if found is None:
        raise NotFound(_("This campaign has no revision %(num)s.") % {"num": number})
    return found


def _revision_page(request: Request, campaign: Campaign, revision: WorkspaceRevision, user: User, *,
                   status: int = 200, error: str | None = None, conflict: str | None = None,
                   problems: list[str] | None = None) -> Response:
    current = revisions.version_of(campaign.root)
    context = {
        "campaign": campaign, "revision": revision, "summary_text": summary_text, "user": user,
        "diff_files": diffview.parse(revision.diff), "version": current, "csrf": csrf.new_token(request),
        "is_current": revision.version == current, "can_edit": user.role in ("editor", "owner"),
        "error": error, "conflict_files": diffview.parse(conflict) if conflict else None, "problems": problems or [],
    }
    return deps.render(request, "admin_revision.html", context, status_code=status)  # type: ignore[no-any-return]


@router.get("/admin/c/{slug}/history/{number}")
def revision_page(request: Request, slug: str, number: int, user: User = Depends(require("viewer"))) -> Response:
    campaign = deps.campaign(request, slug)
    return _revision_page(request, campaign, _revision(request, slug, number), user)


def revert_changes(old: dict[str, str], now: dict[str, str]) -> dict[str, str | bytes | None]:
    """What makes the files ``now`` into ``old``: changed or missing files restored, files ``old`` lacked deleted."""
    out: dict[str, str | bytes | None] = {path: text for path, text in old.items() if now.get(path) != text}
    out.update({path: None for path in now if path not in old})
    return out


@router.post("/admin/c/{slug}/history/{number}/revert")
async def revert(request: Request, slug: str, number: int, user: User = Depends(require("editor"))) -> Response:
    campaign = deps.campaign(request, slug)
    fields = await csrf.checked_form(request)
    revision = _revision(request, slug, number)
    svc = deps.services(request)
    changes = revert_changes(revisions.files_of(revision), revisions.snapshot(campaign.root))
    version = fields.get("version", "")
    if not changes:  # the files are already those of the revision
        return RedirectResponse(f"/admin/c/{slug}/history?reverted={number}", status_code=303)
    try:
        await run_in_threadpool(
            save_files, svc.settings, svc.engine, campaign, changes, version=version, author=user.email,
            summary=f"Revert to revision {number}",
        )
    except Conflict as exc:
        message = _("The campaign's files changed since this page was loaded. Nothing was reverted: here is what "
                    "changed. Reload the page to revert from the files as they are now.")
        return _revision_page(request, campaign, revision, user, status=409, error=message, conflict=exc.diff or " ")
    except CampaignError as exc:
        message = _("Reverting would leave the campaign with problems, so nothing was changed.")
        problems = [str(p) for p in exc.problems if p.severity == "error"]
        return _revision_page(request, campaign, revision, user, status=400, error=message, problems=problems)
    return RedirectResponse(f"/admin/c/{slug}/history?reverted={number}", status_code=303)


def _length(campaign: Campaign, text: str) -> dict[str, Any]:
    found = preview.measure(campaign, "x", text)
    return {"label": preview.length_label(found), "over": found.over}


def _pledge_page(request: Request, campaign: Campaign, user: User, form: pledge_edit.PledgeForm, *,
                 version: str | None = None, errors: dict[str, str] | None = None, status: int = 200,
                 error: str | None = None, conflict: str | None = None) -> Response:
    default = campaign.default_language
    rows = [
        {"number": n, "fields": [
            {"lang": lang, "label": language_name(lang), "name": pledge_edit.variant_field(lang, n, default),
             "value": form.variants.get(lang, {}).get(n, ""),
             "length": _length(campaign, form.variants.get(lang, {}).get(n, ""))} for lang in campaign.languages]}
        for n in form.numbers()
    ]
    context = {
        "campaign": campaign, "user": user, "form": form, "rows": rows, "errors": errors or {}, "error": error,
        "version": version or revisions.version_of(campaign.root), "csrf": csrf.new_token(request),
        "channels": CHANNELS, "can_edit": user.role in ("editor", "owner"),
        "folds": {name: pledge_edit.fold_choices(getattr(form, name), campaign.timezone)
                  for name in pledge_edit.TIME_FIELDS},
        "conflict_files": diffview.parse(conflict) if conflict else None,
        "saved": request.query_params.get("saved", ""),
    }
    return deps.render(request, "admin_pledge.html", context, status_code=status)  # type: ignore[no-any-return]


@router.get("/admin/c/{slug}/pledge")
def pledge_page(request: Request, slug: str, user: User = Depends(require("viewer"))) -> Response:
    campaign = deps.campaign(request, slug)
    revisions.ensure_baseline(deps.services(request).engine, campaign)  # so a stale form can be diffed later
    return _pledge_page(request, campaign, user, pledge_edit.load(campaign))


@router.post("/admin/c/{slug}/pledge")
async def pledge_save(request: Request, slug: str, user: User = Depends(require("editor"))) -> Response:
    campaign = deps.campaign(request, slug)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PLEDGE_FORM:
        raise PayloadTooLarge(_("This form is larger than %(size)s KB.") % {"size": MAX_PLEDGE_FORM // 1024})
    data = await request.form(max_files=0, max_fields=400, max_part_size=MAX_PLEDGE_FORM)
    token = data.get("csrf")
    csrf.check_form_origin(request, csrf.token_ok(request, token if isinstance(token, str) else None))
    submitted = pledge_edit.read_form(campaign, data)
    version = str(data.get("version", ""))
    action = str(data.get("action", "save"))
    if action == "add_variant":
        number = max(submitted.numbers()) + 1
        for lang in campaign.languages:
            submitted.variants.setdefault(lang, {})[number] = ""
        return _pledge_page(request, campaign, user, submitted, version=version)
    for value in data.getlist("remove_variant"):
        if isinstance(value, str) and value.isdigit() and int(value) >= 2:
            for lang in campaign.languages:
                submitted.variants.setdefault(lang, {})[int(value)] = ""
    svc = deps.services(request)
    changes: dict[str, str | None] = {}
    try:
        changes = pledge_edit.changes(campaign, submitted)
        if changes:
            revision = await run_in_threadpool(
                save_files, svc.settings, svc.engine, campaign, dict(changes), version=version, author=user.email,
                summary=PLEDGE_SUMMARY,
            )
            return RedirectResponse(f"/admin/c/{slug}/pledge?saved={revision.number}", status_code=303)
    except pledge_edit.FieldErrors as exc:
        return _pledge_page(request, campaign, user, submitted, version=version, errors=exc.errors, status=400,
                            error=_("Please correct the fields marked below. Nothing was saved."))
    except Conflict as exc:
        message = _("The campaign's files changed since this form was loaded. Nothing was saved: here is what "
                    "changed. Reload the page and make your change again.")
        return _pledge_page(request, campaign, user, submitted, version=version, status=409, error=message,
                            conflict=exc.diff or " ")
    except CampaignError as exc:
        errors = _problem_fields(campaign, submitted, changes, exc)
        return _pledge_page(request, campaign, user, submitted, version=version, errors=errors, status=400,
                            error=_("The campaign check found problems, so nothing was saved."))
    return RedirectResponse(f"/admin/c/{slug}/pledge", status_code=303)


def _problem_fields(campaign: Campaign, submitted: pledge_edit.PledgeForm, changes: dict[str, str | None],
                    exc: CampaignError) -> dict[str, str]:
    """Each of ``check``'s errors at the field it is about (``form``: the top of the page)."""
    default = campaign.default_language
    lines = (changes.get("schedule.toml") or campaign.source.read_text(encoding="utf-8")).splitlines()
    files = {f"messages/{variant_name(submitted.message, n, lang, default)}":
             pledge_edit.variant_field(lang, n, default)
             for lang, texts in submitted.variants.items() for n in texts}
    errors: dict[str, str] = {}
    for problem in (p for p in exc.problems if p.severity == "error"):
        field = files.get(problem.path, "form")
        if problem.path == "schedule.toml" and 0 < problem.line <= len(lines):
            key = _PLEDGE_KEY.match(lines[problem.line - 1])
            field = key.group(1) if key else "form"
        errors[field] = (errors[field] + " " if field in errors else "") + problem.message
    return errors


@router.post("/admin/c/{slug}/preview.json")
async def preview_json(request: Request, slug: str, user: User = Depends(require("editor"))) -> Response:
    campaign = deps.campaign(request, slug)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PREVIEW_BODY:
        raise PayloadTooLarge(_("This text is too long to preview."))
    body = await request.body()
    if len(body) > MAX_PREVIEW_BODY:
        raise PayloadTooLarge(_("This text is too long to preview."))
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        raise BadRequest(_("Please send the texts to preview as JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("Please send the texts to preview as JSON."))
    token = request.headers.get("x-csrf-token") or str(data.get("csrf", ""))
    csrf.check_form_origin(request, csrf.token_ok(request, token))
    items = data.get("items", [])
    if not isinstance(items, list) or len(items) > 50:
        raise BadRequest(_("Please send the texts to preview as JSON."))
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text", ""), str):
            raise BadRequest(_("Please send the texts to preview as JSON."))
        channels = item.get("channels") or [item.get("channel", "x")]
        for channel in [c for c in channels if isinstance(c, str)][:8]:
            found = preview.measure(campaign, channel, item.get("text", ""))
            out.append({"id": str(item.get("id", ""))[:100], **found.as_json(), "label": preview.length_label(found),
                        "network": preview.network_name(channel),
                        "preview_label": _("Preview on %(network)s") % {"network": preview.network_name(channel)}})
    author = {"name": campaign.name_in(current()), "handle": "@" + campaign.slug}
    return JSONResponse({"items": out, "author": author}, headers={"Cache-Control": "no-store"})


def _register() -> None:
    deps.templates.env.globals["media_fields"] = media.fields_context
    deps.templates.env.globals["language_name"] = language_name


_register()
