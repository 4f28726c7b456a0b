"""Tokens: CSRF signing and expiry, derived confirm/withdraw tokens and their hashes."""

from __future__ import annotations

from social_campaign.pledges import tokens

KEY = b"k" * 32


def test_csrf_round_trip_expiry_and_tampering() -> None:
    t = tokens.new_csrf_token(KEY, now=1_000_000)
    assert tokens.csrf_ok(KEY, t, now=1_000_010)
    assert not tokens.csrf_ok(KEY, t, now=1_000_000 + tokens.CSRF_MAX_AGE + 1)  # expired
    assert not tokens.csrf_ok(b"x" * 32, t, now=1_000_010)  # another key
    issued, nonce, mac = t.split(".")
    assert not tokens.csrf_ok(KEY, f"{issued}.{nonce}x.{mac}", now=1_000_010)
    assert not tokens.csrf_ok(KEY, f"{int(issued) + 5}.{nonce}.{mac}", now=1_000_010)
    for junk in (None, "", "a.b", "a.b.c", "1.2.3.4", "x" * 200):
        assert not tokens.csrf_ok(KEY, junk)


def test_confirm_and_withdraw_tokens_are_keyed_distinct_and_stored_hashed() -> None:
    share = tokens.new_share_token()
    c, w = tokens.confirm_token(KEY, share), tokens.withdraw_token(KEY, share)
    assert c != w and c == tokens.confirm_token(KEY, share)
    assert c != tokens.confirm_token(b"y" * 32, share)
    assert len(tokens.token_hash(c)) == 64 and tokens.token_hash(c) != c
    assert tokens.new_share_token() != share
