"""HTTP plumbing shared by the publishers that sit on ``requests`` (X through tweepy, Facebook through facebook-sdk).

:class:`BaseURLSession` is how the unmodified client libraries reach a configured base URL: tweepy 4.17 and
facebook-sdk 3.1 both hard-code their host, but both send every request through ``self.session.request``. The session
rewrites the library's public host to the configured one (``settings.x_api_url``, ``settings.facebook_graph_url``),
applies the request timeout, and remembers each thread's last response (for status codes and rate-limit headers).
Nothing global is patched, so X and Facebook publishers with different base URLs live side by side in one process.

:func:`transport_error` classifies a ``requests`` failure: nothing sent (refused, DNS, connect timeout) is
``Transient``; no answer after the request went out (read timeout, reset, truncated body) is ``OutcomeUnknown`` for a
create request and ``Transient`` for anything that cannot have created a post.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from social_campaign.errors import OutcomeUnknown, PublishError, Transient


class BaseURLSession(requests.Session):
    """A ``requests.Session`` that sends ``public_base…`` URLs to ``base_url…`` with a default timeout."""

    def __init__(self, public_base: str, base_url: str, timeout: float, pool_size: int = 10) -> None:
        super().__init__()
        # One kept-alive connection per sending thread (requests keeps 10 by default and opens the rest per request).
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=max(10, pool_size))
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.public_base = public_base.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.trust_env = False  # no proxies or netrc from the environment: settings alone say where requests go
        self._local = threading.local()

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith(self.public_base):
            url = self.base_url + url[len(self.public_base) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        self._local.last = None
        response = super().request(method, url, *args, **kwargs)
        self._local.last = response
        return response

    @property
    def last_response(self) -> requests.Response | None:
        """This thread's most recent response (``None`` when the last request got no answer)."""
        return getattr(self._local, "last", None)


def _never_sent(exc: BaseException) -> bool:
    """True when the failure happened before any byte of the request reached the server."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader)):  # fmt: skip
        return True
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (NewConnectionError, ConnectTimeoutError, ConnectionRefusedError, ssl.SSLCertVerificationError)):
            return True
        if isinstance(cur, MaxRetryError):
            todo.append(cur.reason)
        if isinstance(cur, BaseException):
            todo.extend(a for a in cur.args if isinstance(a, BaseException))
            todo.append(cur.__cause__)
            todo.append(cur.__context__)
    return False


def transport_error(exc: requests.RequestException | ValueError, *, network: str, create: bool) -> PublishError:
    """The ``PublishError`` for a request that got no (usable) answer. ``create``: it was the create request."""
    if _never_sent(exc):
        return Transient(f"{network} could not be reached ({type(exc).__name__}); nothing was sent")
    if isinstance(exc, requests.ReadTimeout):
        what = "timed out waiting for an answer"
    elif isinstance(exc, ValueError):  # a 2xx whose body is not the JSON we expect
        what = "answered with an unreadable body"
    else:
        what = f"dropped the connection ({type(exc).__name__})"
    if create:
        return OutcomeUnknown(f"{network} {what} after the post was sent; it may have been published")
    return Transient(f"{network} {what}; nothing was published")


# --- keeping credentials out of logs -----------------------------------------------------------------------------------

_SECRET_PATTERNS = (
    re.compile(r"(access_token|refresh_token|client_secret|oauth_token|oauth_signature|oauth_consumer_key)(=|\"?:\s*\"?|=\")[^&\s\"',]+"),
    re.compile(r"(Bearer|Basic|OAuth)\s+[^\s'\"]+"),
)


def redact(text: str) -> str:
    """``text`` with tokens, signatures and Authorization values replaced by ``***``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2) if m.lastindex and m.lastindex > 1 else ' '}***", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with :func:`redact` (libraries log URLs and headers at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_quiet_done = False


def quiet_credential_loggers() -> None:
    """Keep the client libraries from logging credentials, whatever the log level (idempotent).

    tweepy logs request headers (with the Bearer token) and urllib3 logs request URLs (with Graph ``access_token`` on
    GET) at DEBUG: a redacting filter sits on exactly those loggers. requests-oauthlib and oauthlib log signing details
    at DEBUG: their level is raised to INFO.
    """
    global _quiet_done
    if _quiet_done:
        return
    for name in ("tweepy.client", "urllib3.connectionpool", "requests_oauthlib.oauth2_session"):
        logging.getLogger(name).addFilter(RedactingFilter())
    for name in ("requests_oauthlib", "oauthlib"):
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
    _quiet_done = True
