"""Email addresses: validation and canonicalisation (the key that finds duplicate pledges).

What :func:`canonical_email` does, and why only that:

* the whole address is lower-cased. RFC 5321 lets a server treat the local part as case-sensitive, but no mainstream
  provider does, and people type ``Jo@Example.org`` and ``jo@example.org`` for the same mailbox;
* for Gmail (``gmail.com`` and its old alias ``googlemail.com``, which becomes ``gmail.com``) dots in the local part are
  removed and a ``+tag`` is cut off: Google documents that both reach the same mailbox;
* nothing else. Other domains keep their dots and ``+tags``: on many servers ``a.b`` and ``ab`` are different people and
  ``+`` is a normal character, so stripping there could merge two supporters into one.

The canonical form is used for de-duplication only; emails go to the address as typed.
"""

from __future__ import annotations

import re

MAX_LENGTH = 254
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def is_valid_email(address: str) -> bool:
    """A practical check: ``local@domain.tld`` with an ASCII dot-atom local part and a DNS-style domain."""
    if not address or len(address) > MAX_LENGTH or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return False
    return not labels[-1].isdigit()


def canonical_email(address: str) -> str:
    """The de-duplication key of a valid address (see the module docstring). Idempotent."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
