"""Languages: message catalogues (``catalogs``), choosing a page's language (``negotiate``) and Babel formatting
(``formatting``).

Every user-facing string is English source text marked with ``_()`` (Python), ``{% trans %}``/``_()`` (Jinja2) and
translated from ``social_campaign/i18n/locale/<lang>/LC_MESSAGES/messages.mo`` (``make messages`` extracts and updates
the ``.po`` files, ``make catalogs`` compiles them). The active language is a context variable: the web app sets it per
request (``web.lang.LanguageMiddleware``), email rendering with :func:`use`.
"""

from social_campaign.i18n.catalogs import (
    N_,
    SHIPPED,
    _,
    current,
    current_default,
    direction,
    gettext,
    is_rtl,
    ngettext,
    npgettext,
    pgettext,
    use,
)

__all__ = [
    "N_",
    "SHIPPED",
    "_",
    "current",
    "current_default",
    "direction",
    "gettext",
    "is_rtl",
    "ngettext",
    "npgettext",
    "pgettext",
    "use",
]
