"""Editing a campaign's posts in the browser: the list, the edit page /admin/c/{slug}/posts/{post_id}, create, duplicate, delete.

Every change goes through ``workspace.save.save_files`` (check, atomic writes, revision, audit, git): a problem
``check`` finds is shown at its field (400) and nothing is written; a form loaded from files that changed since
(its hidden ``version``) gets 409 with the difference; success answers 303 back to the edit page. Viewers see the
pages; editors change them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, func, select

from social_campaign.campaign.model import Campaign
from social_campaign.errors import CampaignError, Conflict, NotFound, PayloadTooLarge, WebError
from social_campaign.i18n import _
from social_campaign.models import Delivery, User
from social_campaign.web import csrf, deps
from social_campaign.web.auth import require
from social_campaign.workspace import postedit, revisions, tomledit
from social_campaign.workspace import postview as view
from social_campaign.workspace.save import save_files

router = APIRouter()
MAX_FORM = 24 * 1024 * 1024  # a media upload (graphics.images.MAX_BYTES) and the texts


def _fresh(request: Request, slug: str) -> Campaign:
    """The campaign as its files are now (the store reloads every few seconds; an edit page must not lag a save)."""
    from social_campaign.campaign.loader import load_campaign

    served = deps.campaign(request, slug)
    try:
        return load_campaign(served.source)
    except CampaignError:
        return served


def _doc(campaign: Campaign) -> tomledit.Segments:
    try:
        return tomledit.Segments(campaign.source.read_text(encoding="utf-8"))
    except OSError:
        raise NotFound(_("This campaign's schedule.toml cannot be read.")) from None


def _edit_url(slug: str, post_id: str) -> str:
    return f"/admin/c/{slug}/posts/{post_id}"


def _states(request: Request, slug: str) -> dict[str, dict[str, int]]:
    """post id -> delivery state -> rows."""
    query = (select(Delivery.post_id, Delivery.state, func.count())
             .where(Delivery.campaign == slug, col(Delivery.kind) == "post")
             .group_by(col(Delivery.post_id), col(Delivery.state)))
    out: dict[str, dict[str, int]] = {}
    with Session(deps.services(request).engine) as session:
        for post_id, state, count in session.exec(query).all():
            out.setdefault(post_id, {})[state] = count
    return out


@router.get("/admin/c/{slug}/posts")
def list_posts(request: Request, slug: str, user: User = Depends(require("viewer"))) -> Any:
    campaign = _fresh(request, slug)
    baseline = revisions.ensure_baseline(deps.services(request).engine, campaign)
    context = view.list_context(campaign, _states(request, slug), user)
    context.update(version=baseline.version, csrf=csrf.new_token(request), notice=_notice(request))
    return deps.render(request, "admin_posts.html", context)


def _notice(request: Request) -> str:
    query = request.query_params
    if query.get("saved", "").isdigit() and query.get("copy"):
        return _("Saved as revision %(num)s. The copy has its own text files and posts only to the outbox until "
                 "you change its text and choose its networks.") % {"num": int(query["saved"])}
    if query.get("saved", "").isdigit():
        return _("Saved as revision %(num)s.") % {"num": int(query["saved"])}
    if query.get("deleted"):
        return _("The post was deleted.")
    if query.get("unchanged"):
        return _("Nothing changed, so nothing was saved.")
    return ""


@router.get("/admin/c/{slug}/posts/{post_id}")
def edit_page(request: Request, slug: str, post_id: str, user: User = Depends(require("viewer"))) -> Any:
    campaign = _fresh(request, slug)
    form = _load_form(campaign, post_id)
    baseline = revisions.ensure_baseline(deps.services(request).engine, campaign)
    context = view.edit_context(campaign, form, user, version=baseline.version)
    context.update(csrf=csrf.new_token(request), notice=_notice(request))
    return deps.render(request, "admin_post_edit.html", context)


def _load_form(campaign: Campaign, post_id: str) -> postedit.PostForm:
    try:
        return postedit.load(campaign, post_id)
    except (NotFound, OSError):
        raise NotFound(_("This campaign has no post called %(id)s.") % {"id": post_id}) from None


async def _form(request: Request) -> tuple[Any, dict[str, str]]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM):
        raise PayloadTooLarge(_("This form is too large. Please upload a smaller image."))
    form = await request.form(max_files=4, max_fields=200, max_part_size=MAX_FORM)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    csrf.check_form_origin(request, csrf.token_ok(request, fields.get("csrf")))
    return form, fields


@router.post("/admin/c/{slug}/posts/new")
async def new_post(request: Request, slug: str, user: User = Depends(require("editor"))) -> Response:
    _form_data, fields = await _form(request)
    campaign = _fresh(request, slug)
    doc = _doc(campaign)
    at = view.default_time(campaign, deps.now() + timedelta(days=7))
    post_id = doc.append_post("new-post", at, ["outbox"], "new-post")
    tomledit.set_message(doc.post(post_id), post_id, post_id)
    changes: dict[str, str | bytes | None] = {"schedule.toml": doc.dump()}
    changes.update(view.starter_texts(campaign, post_id))
    return _save_or_page(request, campaign, changes, fields, user, _("New post %(id)s") % {"id": post_id}, post_id)


@router.post("/admin/c/{slug}/posts/{post_id}/duplicate")
async def duplicate_post(request: Request, slug: str, post_id: str, user: User = Depends(require("editor"))) -> Response:
    _form_data, fields = await _form(request)
    campaign = _fresh(request, slug)
    doc = _doc(campaign)
    _load_form(campaign, post_id)
    new_id = doc.duplicate(post_id)
    changes = view.copy_messages(campaign, doc.post(new_id), post_id, new_id)
    changes["schedule.toml"] = doc.dump()
    summary = _("Duplicated post %(id)s as %(new)s") % {"id": post_id, "new": new_id}
    return _save_or_page(request, campaign, changes, fields, user, summary, new_id, "&copy=1")


@router.post("/admin/c/{slug}/posts/{post_id}/delete")
async def delete_post(request: Request, slug: str, post_id: str, user: User = Depends(require("editor"))) -> Response:
    _form_data, fields = await _form(request)
    campaign = _fresh(request, slug)
    doc = _doc(campaign)
    _load_form(campaign, post_id)
    doc.delete(post_id)
    summary = _("Deleted post %(id)s") % {"id": post_id}
    return _save_or_page(request, campaign, {"schedule.toml": doc.dump()}, fields, user, summary, None)


def _save_or_page(request: Request, campaign: Campaign, changes: dict[str, str | bytes | None],
                  fields: dict[str, str], user: User, summary: str, open_id: str | None, extra: str = "") -> Response:
    """Save a list action; 303 to the new post (or the list), else the list page with the problem (400/409)."""
    svc = deps.services(request)
    try:
        revision = save_files(svc.settings, svc.engine, campaign, changes, version=fields.get("version", ""),
                              author=user.email, summary=summary)
    except (Conflict, CampaignError) as exc:
        return _list_problem(request, campaign, user, exc)
    target = (f"{_edit_url(campaign.slug, open_id)}?saved={revision.number}{extra}" if open_id
              else f"/admin/c/{campaign.slug}/posts?deleted=1&saved={revision.number}")
    return RedirectResponse(target, status_code=303)


def _list_problem(request: Request, campaign: Campaign, user: User, exc: Exception) -> Response:
    svc = deps.services(request)
    context = view.list_context(campaign, _states(request, campaign.slug), user)
    context.update(version=revisions.ensure_baseline(svc.engine, campaign).version, csrf=csrf.new_token(request),
                   notice="")
    if isinstance(exc, Conflict):
        context.update(conflict=str(exc), diff_lines=view.diff_lines(exc.diff))
        status = 409
    else:
        problems = exc.problems if isinstance(exc, CampaignError) else []
        context.update(errors=[str(p) for p in problems if p.severity == "error"] or [str(exc)])
        status = 400
    return deps.render(request, "admin_posts.html", context, status_code=status)  # type: ignore[no-any-return]


@router.post("/admin/c/{slug}/posts/{post_id}")
async def save_post(request: Request, slug: str, post_id: str, user: User = Depends(require("editor"))) -> Response:
    form_data, fields = await _form(request)
    campaign = _fresh(request, slug)
    form = _load_form(campaign, post_id)
    source_text = campaign.source.read_text(encoding="utf-8")
    segments = tomledit.Segments(source_text)
    submitted = view.submitted(campaign, form, form_data, fields)
    try:
        changes = view.apply_fields(campaign, segments.post(post_id), form, submitted, form_data)
        new_text = segments.dump()
        if new_text != source_text:
            changes["schedule.toml"] = new_text
        if not changes:
            return RedirectResponse(f"{_edit_url(slug, post_id)}?unchanged=1", status_code=303)
        svc = deps.services(request)
        revision = save_files(svc.settings, svc.engine, campaign, changes, version=fields.get("version", ""),
                              author=user.email, summary=_("Edited post %(id)s") % {"id": post_id})
    except Conflict as exc:
        context = view.edit_context(campaign, submitted, user, version=fields.get("version", ""))
        context.update(csrf=csrf.new_token(request), conflict=str(exc), diff_lines=view.diff_lines(exc.diff))
        return deps.render(request, "admin_post_edit.html", context, status_code=409)  # type: ignore[no-any-return]
    except CampaignError as exc:
        at_fields, top = postedit.field_errors(exc.problems, form, str(changes.get("schedule.toml", source_text)))
        return _edit_problem(request, campaign, submitted, user, fields, at_fields, top, 400)
    except WebError as exc:
        if isinstance(exc, NotFound):
            raise
        at_fields = {exc.field: [str(exc)]} if exc.field else {}
        return _edit_problem(request, campaign, submitted, user, fields, at_fields, [] if exc.field else [str(exc)],
                             exc.status)
    return RedirectResponse(f"{_edit_url(slug, post_id)}?saved={revision.number}", status_code=303)


def _edit_problem(request: Request, campaign: Campaign, form: postedit.PostForm, user: User, fields: dict[str, str],
                  at_fields: dict[str, list[str]], top: list[str], status: int) -> Response:
    context = view.edit_context(campaign, form, user, version=fields.get("version", ""), errors=at_fields, top=top)
    context.update(csrf=csrf.new_token(request), notice="")
    return deps.render(request, "admin_post_edit.html", context, status_code=status)  # type: ignore[no-any-return]

