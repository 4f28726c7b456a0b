"""``GET /c/{slug}/release.ics``: the release time as a calendar event, so supporters are there when everyone posts.

One ``VEVENT`` (``icalendar``): ``UID`` stable per campaign and public address (a re-import updates the same event),
``DTSTART`` the release time in UTC, thirty minutes long, ``SUMMARY``/``DESCRIPTION`` in the request's language
(``?lang=`` and the rest, as every page), ``URL`` the campaign page, and a ``VALARM`` fifteen minutes before.
The file is the same for everyone (no personal data), so it may be cached for a few minutes.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.i18n import _, current
from social_campaign.i18n.formatting import when
from social_campaign.pledges.intake import spec_of
from social_campaign.pledges.share import campaign_link
from social_campaign.web import deps

router = APIRouter()
DURATION = timedelta(minutes=30)
REMINDER = timedelta(minutes=15)


def release_calendar(campaign: Campaign, settings: Settings, now_stamp: object) -> bytes:
    """The ``.ics`` bytes of ``campaign``'s release, in the active language."""
    from icalendar import Alarm, Calendar, Event

    spec = spec_of(campaign)
    page = campaign_link(settings, campaign)
    name = campaign.name_in(current())
    start = spec.fire_at.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//social-campaign//release//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"release-{campaign.slug}@{urlsplit(settings.public_url).hostname or 'localhost'}")
    event.add("dtstamp", now_stamp)
    event.add("dtstart", start)
    event.add("dtend", start + DURATION)
    event.add("summary", _("Post together: %(campaign)s") % {"campaign": name})
    event.add("description", _(
        "If the campaign reaches its goal, this is when everyone posts together. We will email confirmed supporters "
        "their message, ready to post. The campaign: %(url)s"
    ) % {"url": page})
    event.add("url", page)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -REMINDER)
    alarm.add("description", _("In 15 minutes: %(campaign)s posts together, at %(time)s.") % {
        "campaign": name, "time": when(spec.fire_at, campaign.timezone)})
    event.add_component(alarm)
    cal.add_component(event)
    return bytes(cal.to_ical())


@router.get("/c/{slug}/release.ics")
def release_ics(request: Request, slug: str) -> Response:
    campaign = deps.campaign(request, slug)
    body = release_calendar(campaign, deps.services(request).settings, deps.now().replace(microsecond=0))
    headers = {
        "content-disposition": f'attachment; filename="{campaign.slug}-release.ics"',
        "cache-control": "public, max-age=300",
    }
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
