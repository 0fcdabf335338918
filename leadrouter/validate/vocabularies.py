"""The vocabularies validation and import read: countries, mailboxes no person answers, throwaway inboxes, and the
canonical values of the categorical lead fields (industry, lead source) that an export's values are matched to.

Real-world lists only: the sandbox's generator draws from these, never the other way round."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import pycountry

# the canonical industries; an export's own spellings are corrected to these unless its map names its own
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education", "Logistics",
    "Media", "Telecommunications", "Energy", "Government", "Professional Services",
)  # fmt: skip
# how a lead reached us, hand-raisers first
LEAD_SOURCES = (
    "demo_request",
    "contact_form",
    "chat",
    "ebook",
    "webinar",
    "event",
    "pricing_page",
    "free_trial",
)
# the lead fields whose values are matched to a vocabulary, in live routing and in a backtest's import
VOCABULARIES: dict[str, tuple[str, ...]] = {"industry": INDUSTRIES, "lead_source": LEAD_SOURCES}
COUNTRY_CODES = sorted(c.alpha_2 for c in pycountry.countries)
# throwaway inboxes: nobody reads them after the download, so the lead cannot be worked
DISPOSABLE_DOMAINS = frozenset(
    """
    mailinator.com mailinator.net mailinator2.com sogetthis.com mailin8r.com notmailinator.com
    guerrillamail.com guerrillamail.net guerrillamail.org guerrillamail.biz guerrillamail.de guerrillamail.info
    guerrillamailblock.com sharklasers.com grr.la pokemail.net spam4.me 10minutemail.com 10minutemail.net
    10minutemail.co.uk 20minutemail.com tempmail.com tempmail.net temp-mail.org temp-mail.io tempmailo.com
    tempail.com tempr.email tempinbox.com tempemail.net throwawaymail.com trashmail.com trashmail.de
    trashmail.net trash-mail.com yopmail.com yopmail.fr yopmail.net getnada.com nada.email dispostable.com
    maildrop.cc mailnesia.com mailcatch.com mintemail.com mohmal.com moakt.com mytemp.email emailondeck.com
    fakeinbox.com spambox.us spamgourmet.com mailexpire.com discard.email discardmail.com burnermail.io
    harakirimail.com inboxkitten.com mail.tm dropmail.me getairmail.com jetable.org mailnull.com anonbox.net
    emailfake.com armyspy.com cuvox.de dayrep.com einrot.com fleckens.hu gustr.com jourrapide.com rhyta.com
    superrito.com teleworm.us example.com example.net example.org
    """.split()
)  # the last three are reserved (RFC 2606): no one receives mail there
# mailboxes no person answers: mail to them bounces or vanishes
SYSTEM_MAILBOXES = frozenset(
    """
    noreply no-reply no_reply no.reply donotreply do-not-reply do_not_reply do.not.reply postmaster abuse
    mailer-daemon mailerdaemon hostmaster bounce bounces
    """.split()
)
# shared team inboxes: a real company, but no named person to route to
ROLE_MAILBOXES = frozenset(
    "info sales admin support contact hello office enquiries inquiries team help".split()
)


def vocabulary_key(value: str) -> str:
    """How vocabulary matching sees a value: case-folded letters and digits only, so "Demo Request",
    "demo-request" and "demo_request" are one value."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value).casefold() if ch.isalnum())


def keyed(vocabulary: Iterable[str]) -> dict[str, str]:
    """Each vocabulary_key of the vocabulary and the word it stands for; a key two words share stands for
    neither (which one was meant cannot be told)."""
    words: dict[str, set[str]] = {}
    for word in vocabulary:
        words.setdefault(vocabulary_key(word), set()).add(word)
    return {key: next(iter(found)) for key, found in words.items() if key and len(found) == 1}


def in_vocabulary(values: Iterable[str], vocabulary: Iterable[str]) -> list[str | None]:
    """Per value, the vocabulary's own spelling of it (same vocabulary_key), or None when it has none."""
    words = list(vocabulary)
    exact, known = set(words), keyed(words)
    return [value if value in exact else known.get(vocabulary_key(value)) for value in values]
