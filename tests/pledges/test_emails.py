"""Email canonicalisation: a property test (idempotent; Gmail variants map to one; different users never collide)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from social_campaign.pledges.emails import canonical_email, is_valid_email

ATOM = string.ascii_letters + string.digits + "_"
users = st.text(alphabet=ATOM, min_size=1, max_size=20)
domains = st.sampled_from(["example.org", "Example.COM", "mail.example.net", "outlook.com", "proton.me", "gmail.com", "googlemail.com"])


def dotted(draw: st.DrawFn, user: str) -> str:
    """``user`` with random dots inside (never leading, trailing or doubled) and random case."""
    out = []
    for i, ch in enumerate(user):
        if 0 < i and draw(st.booleans()):
            out.append(".")
        out.append(ch.upper() if draw(st.booleans()) else ch.lower())
    return "".join(out)


@st.composite
def gmail_variant(draw: st.DrawFn, user: str) -> str:
    tag = draw(st.one_of(st.just(""), st.text(alphabet=ATOM + "-", min_size=1, max_size=8).map(lambda t: "+" + t)))
    domain = draw(st.sampled_from(["gmail.com", "GMail.com", "googlemail.com", "GOOGLEMAIL.COM"]))
    return f"{dotted(draw, user)}{tag}@{domain}"


@given(users, domains)
def test_idempotent(user: str, domain: str) -> None:
    address = f"{user}@{domain}"
    assert is_valid_email(address)
    once = canonical_email(address)
    assert canonical_email(once) == once
    assert once == once.lower()


@given(users, st.data())
@settings(max_examples=200)
def test_gmail_dot_plus_case_and_googlemail_variants_map_to_one(user: str, data: st.DataObject) -> None:
    a, b = data.draw(gmail_variant(user)), data.draw(gmail_variant(user))
    assert is_valid_email(a) and is_valid_email(b)
    assert canonical_email(a) == canonical_email(b) == f"{user.lower()}@gmail.com"


@given(users, users, domains, domains)
@settings(max_examples=300)
def test_different_users_never_collide(u1: str, u2: str, d1: str, d2: str) -> None:
    gmail = {"gmail.com", "googlemail.com"}
    same_mailbox = (d1.lower() in gmail and d2.lower() in gmail) or d1.lower() == d2.lower()
    if u1.lower() == u2.lower() and same_mailbox:
        return
    assert canonical_email(f"{u1}@{d1}") != canonical_email(f"{u2}@{d2}")


@given(users, st.sampled_from(["example.org", "outlook.com"]))
def test_other_domains_keep_dots_and_plus_tags(user: str, domain: str) -> None:
    if len(user) < 2:
        return
    dotted_addr = f"{user[0]}.{user[1:]}@{domain}"
    assert canonical_email(dotted_addr) != canonical_email(f"{user}@{domain}")
    assert canonical_email(f"{user}+news@{domain}") == f"{user.lower()}+news@{domain}"


def test_validation_examples() -> None:
    for good in ("a@example.org", "first.last+tag@sub.example.co.uk", "o'neil@example.ie"):
        assert is_valid_email(good), good
    for bad in ("", "a", "a@b", "a@@example.org", ".a@example.org", "a..b@example.org", "a b@example.org",
                "a@example.org\r\nBcc: x@example.org", "a@-example.org", "a@example.123", "x" * 250 + "@example.org"):
        assert not is_valid_email(bad), bad
