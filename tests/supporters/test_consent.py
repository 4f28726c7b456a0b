"""Consent, recorded: every pledge stores the exact words shown on the page (hashed, versioned), its answer to every
box, the time and our page's URL, on SQLite and PostgreSQL; the "keep me informed" boxes start unticked; a minimum
age refuses a pledge without its box and stores nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_campaign.campaign.loader import analyse
from social_campaign.campaign.model import Campaign
from social_campaign.config import Settings
from social_campaign.models import ConsentRecord, ConsentText, EmailMessage, Pledge, PledgeData, RateBucket
from social_campaign.pledges import intake
from social_campaign.pledges.abuse import PledgeForm
from social_campaign.supporters import consent
from tests.web import conftest as web_fixtures
from tests.web.conftest import make_campaign, pledge_form

client_for, web_settings = web_fixtures.client_for, web_fixtures.web_settings  # the web tests' fixtures, here too

SLUG = "childrens-day"
ORG, CO = "First Focus", "The Children's Network"
URL = "https://pledge.example.org/c/childrens-day"


class Boxes(HTMLParser):
    """The pledge form's checkboxes as a reader sees them: name -> (checked, required, label text)."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.labels: dict[str, str] = {}
        self._label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "checkbox":
            self.inputs[str(a["id"])] = a
        elif tag == "label" and a.get("for") in self.inputs:
            self._label = str(a["for"])
            self.labels[self._label] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data


def boxes_on(page: str) -> dict[str, tuple[bool, bool, str]]:
    parser = Boxes()
    parser.feed(page)
    return {k: ("checked" in a, "required" in a, parser.labels[k]) for k, a in parser.inputs.items()}


def with_orgs(tmp_path: Path, minimum_age: int | None = None, **kw: object) -> Campaign:
    c = make_campaign(tmp_path, **kw)  # type: ignore[arg-type]
    assert c.pledge is not None
    pledge = dataclasses.replace(c.pledge, minimum_age=minimum_age)
    return dataclasses.replace(c, organisation=ORG, co_sponsors=(CO,), pledge=pledge)


def rows(engine: Engine, model: type) -> list:  # type: ignore[type-arg]
    with Session(engine) as s:
        return list(s.exec(select(model)).all())


def records(engine: Engine, pledge_id: int) -> list[tuple[str, str, bool]]:
    with Session(engine) as s:
        q = select(ConsentRecord).where(ConsentRecord.pledge_id == pledge_id).order_by(ConsentRecord.id)  # type: ignore[arg-type]
        return [(r.kind, r.organisation, r.given) for r in s.exec(q)]


def pledge_id(engine: Engine, email: str) -> int:
    with Session(engine) as s:
        return int(s.exec(select(Pledge.id).where(Pledge.email == email)).one())  # type: ignore[arg-type]


def test_every_pledge_stores_the_exact_words_shown(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(any_engine, [with_orgs(tmp_path)])
    page = client.get(f"/c/{SLUG}").text
    shown = boxes_on(page)
    assert list(shown) == ["consent", "updates", "updates_2"]
    assert shown["consent"][:2] == (False, True)
    assert shown["updates"][:2] == (False, False) and shown["updates_2"][:2] == (False, False)  # unticked, optional
    assert shown["updates"][2].startswith(f"Keep me informed by {ORG}")
    assert shown["updates_2"][2].startswith(f"Keep me informed by {CO}")

    before = datetime.now(UTC)
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client, email="ann@example.org"), "updates": "yes"})
    assert r.status_code == 200, r.text
    r = client.post(f"/c/{SLUG}/pledge", data=pledge_form(client, email="bob@example.org"))  # ticks nothing optional
    assert r.status_code == 200, r.text

    texts = {t.hash: t for t in rows(any_engine, ConsentText)}
    assert len(texts) == 3
    for _, _, label in shown.values():  # what the page showed is stored, word for word, under its hash
        digest = hashlib.sha256(label.encode()).hexdigest()
        assert texts[digest].text == label and texts[digest].version == 1 and texts[digest].lang == "en"
        assert texts[digest].campaign == SLUG
    assert {(t.kind, t.organisation) for t in texts.values()} == {("pledge", ""), ("updates", ORG), ("updates", CO)}

    ann, bob = pledge_id(any_engine, "ann@example.org"), pledge_id(any_engine, "bob@example.org")
    assert records(any_engine, ann) == [("pledge", "", True), ("updates", ORG, True), ("updates", CO, False)]
    assert records(any_engine, bob) == [("pledge", "", True), ("updates", ORG, False), ("updates", CO, False)]
    for r in rows(any_engine, ConsentRecord):
        assert r.page_url == URL and r.lang == "en" and before <= r.at <= datetime.now(UTC)
        assert texts[r.text_hash].kind == r.kind and texts[r.text_hash].organisation == r.organisation
    data = {d.pledge_id: d for d in rows(any_engine, PledgeData)}
    assert (data[ann].updates, data[bob].updates) == (True, False)
    assert data[ann].lang == "en" and data[ann].campaign == SLUG and data[ann].erased_at is None


def test_a_referer_is_not_taken_for_the_page(tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]) -> None:
    client = client_for(any_engine, [with_orgs(tmp_path)])
    form = pledge_form(client)
    r = client.post(f"/c/{SLUG}/pledge", data=form, headers={"referer": "https://evil.example/c/childrens-day"})
    assert r.status_code == 200
    assert {r.page_url for r in rows(any_engine, ConsentRecord)} == {URL}


def test_a_repeat_pledge_can_opt_in_but_never_out_by_omission(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(any_engine, [with_orgs(tmp_path)])
    assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client)).status_code == 200
    pid = pledge_id(any_engine, "amina@example.org")
    assert rows(any_engine, PledgeData)[0].updates is False
    assert client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client), "updates_2": "yes"}).status_code == 200
    assert rows(any_engine, PledgeData)[0].updates is False  # only the co-sponsor's box this time
    assert client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client), "updates": "yes"}).status_code == 200
    assert rows(any_engine, PledgeData)[0].updates is True
    assert client.post(f"/c/{SLUG}/pledge", data=pledge_form(client)).status_code == 200  # nothing ticked: no change
    assert rows(any_engine, PledgeData)[0].updates is True
    assert records(any_engine, pid) == [
        ("pledge", "", True), ("updates", ORG, False), ("updates", CO, False),
        ("pledge", "", True), ("updates", CO, True),
        ("pledge", "", True), ("updates", ORG, True),
        ("pledge", "", True),
    ]
    assert len(rows(any_engine, Pledge)) == 1 and len(rows(any_engine, ConsentText)) == 3


def test_below_the_minimum_age_nothing_is_stored(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient], web_settings: Settings
) -> None:
    client = client_for(any_engine, [with_orgs(tmp_path, minimum_age=16)], web_settings)
    shown = boxes_on(client.get(f"/c/{SLUG}").text)
    assert shown["age_ok"] == (False, True, "I am 16 or older.")
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client), "updates": "yes"})
    assert r.status_code == 400
    assert "aged 16 or older" in r.text and 'id="age_ok-error"' in r.text  # the message, right under the box
    assert ('id="age_ok" name="age_ok" type="checkbox" value="yes" required aria-invalid="true" '
            'aria-describedby="age_ok-error"') in r.text
    for model in (Pledge, ConsentRecord, ConsentText, PledgeData, EmailMessage, RateBucket):
        assert rows(any_engine, model) == [], model
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client), "age_ok": "yes"})
    assert r.status_code == 200
    pid = pledge_id(any_engine, "amina@example.org")
    assert records(any_engine, pid) == [
        ("pledge", "", True), ("updates", ORG, False), ("updates", CO, False), ("age", "", True)
    ]
    age_text = {t.kind: t.text for t in rows(any_engine, ConsentText)}["age"]
    assert age_text == "I am 16 or older."


def test_honeypot_pledges_record_no_consent(tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]) -> None:
    client = client_for(any_engine, [with_orgs(tmp_path)])
    r = client.post(f"/c/{SLUG}/pledge", data={**pledge_form(client), "website": "http://spam.example", "updates": "yes"})
    assert r.status_code == 200
    assert [p.status for p in rows(any_engine, Pledge)] == ["fraud"]
    assert rows(any_engine, ConsentRecord) == [] and rows(any_engine, PledgeData) == []


def test_a_batch_records_each_pledge_once_in_order(tmp_path: Path, any_engine: Engine, web_settings: Settings) -> None:
    """Group commit: new pledges, a duplicate of a new one in the same batch and a restart, in one transaction."""
    campaign = with_orgs(tmp_path)
    now = datetime.now(UTC)

    def item(email: str, *updates: bool) -> intake.Intake:
        form = PledgeForm(name="Ann", email=email, updates=updates)
        return intake.prepare(web_settings, campaign, form, "10.0.0.1", now)

    with any_engine.begin() as conn:
        intake.store_all(conn, web_settings, [item("a@example.org"), item("b@example.org", True, True),
                                              item("a@example.org", True), item("c@example.org", False, True)])
    a, b, c = (pledge_id(any_engine, f"{x}@example.org") for x in "abc")
    assert records(any_engine, a) == [("pledge", "", True), ("updates", ORG, False), ("updates", CO, False),
                                      ("pledge", "", True), ("updates", ORG, True)]
    assert records(any_engine, b) == [("pledge", "", True), ("updates", ORG, True), ("updates", CO, True)]
    assert records(any_engine, c) == [("pledge", "", True), ("updates", ORG, False), ("updates", CO, True)]
    assert {d.pledge_id: d.updates for d in rows(any_engine, PledgeData)} == {a: True, b: True, c: False}
    with Session(any_engine) as s:
        assert s.exec(select(func.count()).select_from(ConsentText)).one() == 3


def test_a_new_wording_gets_the_next_version(tmp_path: Path, any_engine: Engine, web_settings: Settings) -> None:
    first = with_orgs(tmp_path)
    changed = with_orgs(tmp_path, goal=500)  # the pledge box says how many supporters must confirm
    now = datetime.now(UTC)
    for campaign in (first, changed, first):
        with any_engine.begin() as conn:
            intake.store_all(conn, web_settings, [intake.prepare(
                web_settings, campaign, PledgeForm(name="Ann", email=f"{campaign.pledge.goal}@example.org"),  # type: ignore[union-attr]
                "10.0.0.2", now)])
    versions = sorted((t.kind, t.version, t.text) for t in rows(any_engine, ConsentText) if t.kind == "pledge")
    assert [(k, v) for k, v, _ in versions] == [("pledge", 1), ("pledge", 2)]
    assert versions[0][2] == consent.pledge_consent_text(first)
    assert versions[1][2] == consent.pledge_consent_text(changed) and "500 supporters" in versions[1][2]


def test_a_rolled_back_batch_leaves_no_wording_behind_in_memory(tmp_path: Path, any_engine: Engine, web_settings: Settings) -> None:
    """A wording inserted by a transaction that rolls back is stored again by the next one."""
    campaign = with_orgs(tmp_path, goal=77)
    form = PledgeForm(name="Ann", email="ann@example.org")
    with pytest.raises(RuntimeError), any_engine.begin() as conn:
        intake.store_all(conn, web_settings, [intake.prepare(web_settings, campaign, form, "10.0.0.3", datetime.now(UTC))])
        raise RuntimeError("roll back")
    assert rows(any_engine, ConsentText) == []
    with any_engine.begin() as conn:
        intake.store_all(conn, web_settings, [intake.prepare(web_settings, campaign, form, "10.0.0.3", datetime.now(UTC))])
    hashes = {t.hash for t in rows(any_engine, ConsentText)}
    assert {r.text_hash for r in rows(any_engine, ConsentRecord)} <= hashes and len(hashes) == 3


SCHEDULE = """
[campaign]
slug = "c"
name = "C"
timezone = "UTC"
hashtags = ["#x"]
{campaign}

[pledge]
goal = 3
deadline = {deadline}
fire_at = {deadline}
message = "p"
{pledge}
"""


def check(tmp_path: Path, campaign: str = "", pledge: str = "") -> tuple[Campaign | None, list[str]]:
    (tmp_path / "messages").mkdir(exist_ok=True)
    (tmp_path / "messages" / "p.md").write_text("Join us on the day #x\n")
    deadline = (datetime.now(UTC) + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = tmp_path / "schedule.toml"
    path.write_text(SCHEDULE.format(campaign=campaign, pledge=pledge, deadline=deadline))
    result, problems = analyse(path)
    return result, [f"{p.line}: {p.message}" for p in problems if p.severity == "error"]


def test_the_campaign_declares_its_organisations_and_minimum_age(tmp_path: Path) -> None:
    c, errors = check(tmp_path, f'organisation = "{ORG}"\nco_sponsors = ["{CO}", "Friends of the CRC"]', "minimum_age = 13")
    assert errors == [] and c is not None and c.pledge is not None
    assert (c.organisation, c.co_sponsors, c.pledge.minimum_age) == (ORG, (CO, "Friends of the CRC"), 13)
    assert consent.organisations(c) == [ORG, CO, "Friends of the CRC"]
    assert [b.field for b in consent.boxes(c)] == ["consent", "updates", "updates_2", "updates_3", "age_ok"]
    c, _ = check(tmp_path)
    assert c is not None and consent.organisations(c) == [] and [b.field for b in consent.boxes(c)] == ["consent"]


@pytest.mark.parametrize(("campaign", "pledge", "error"), [
    ('organization = "X"', "", "7: unknown key 'organization' in [campaign]; did you mean 'organisation'?"),
    ('organisation = " "', "", "7: organisation is empty"),
    ("organisation = 3", "", "7: 'organisation' in [campaign] must be a string, not the number 3"),
    ('co_sponsors = ["A"]', "", "7: co_sponsors needs [campaign] organisation too"),
    ('organisation = "A"\nco_sponsors = ["a"]', "", "8: co_sponsors: 'a' is named twice"),
    ('organisation = "A"\nco_sponsors = [""]', "", "8: co_sponsors: each name must be one line"),
    ("", "minimum_age = 0", "14: minimum_age must be between 1 and 120 years, not 0"),
    ("", 'minimum_age = "16"', "14: 'minimum_age' in [pledge] must be a whole number"),
    ("", "minimum_ag = 16", "14: unknown key 'minimum_ag' in [pledge]; did you mean 'minimum_age'?"),
])
def test_check_names_each_bad_key(tmp_path: Path, campaign: str, pledge: str, error: str) -> None:
    result, errors = check(tmp_path, campaign, pledge)
    assert result is None
    assert any(e.startswith(error) for e in errors), errors


def test_the_shipped_campaign_names_its_organisation() -> None:
    c, _ = analyse(Path(__file__).parents[2] / "schedule.toml")
    assert c is not None and c.organisation == "First Focus"
    assert consent.updates_field(0) == "updates"


def test_a_pledge_from_a_page_with_other_words_is_shown_the_new_ones(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient], web_settings: Settings
) -> None:
    old = client_for(any_engine, [with_orgs(tmp_path)], web_settings)
    wording = re.search(r'name="wording" value="([0-9a-f]+)"', old.get(f"/c/{SLUG}").text)
    assert wording and wording.group(1) == consent.wording(with_orgs(tmp_path))
    form = {**pledge_form(old), "updates": "yes", "wording": wording.group(1)}
    new = client_for(any_engine, [with_orgs(tmp_path, goal=250)], web_settings)  # the campaign was edited meanwhile
    r = new.post(f"/c/{SLUG}/pledge", data=form)
    assert r.status_code == 400 and "wording of the boxes below changed" in r.text
    assert all(not checked for checked, _, _ in boxes_on(r.text).values())  # to read and tick again
    assert rows(any_engine, Pledge) == [] and rows(any_engine, ConsentRecord) == []
    r = new.post(f"/c/{SLUG}/pledge", data={**form, "wording": ""})  # a client that sends no key: today's words
    assert r.status_code == 200
    (text,) = [t.text for t in rows(any_engine, ConsentText) if t.kind == "pledge"]
    assert "250 supporters" in text


def test_the_boxes_speak_the_page_language_in_the_one_time_format(
    tmp_path: Path, any_engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    from social_campaign.i18n.formatting import when

    c = dataclasses.replace(with_orgs(tmp_path), languages=("en", "fr"))
    assert c.pledge is not None
    for lang in ("en", "fr"):
        text = consent.pledge_consent_text(c, lang)
        assert when(c.pledge.deadline, c.timezone, lang) in text and when(c.pledge.fire_at, c.timezone, lang) in text
    assert consent.pledge_consent_text(c, "en").startswith("Email me a link to confirm my pledge now. If 3 supporters")
    assert consent.wording(c, "fr") != consent.wording(c, "en")  # each language's words are their own record
    client = client_for(any_engine, [c])
    shown = boxes_on(client.get(f"/c/{SLUG}?lang=fr").text)
    assert shown["consent"][2] == consent.pledge_consent_text(c, "fr")
    assert 'name="wording" value="' + consent.wording(c, "fr") + '"' in client.get(f"/c/{SLUG}?lang=fr").text
