"""Lead text made inert wherever a person reads it: one helper per output kind.

Lead text is untrusted. Shown anywhere, it must not become a link, an image, HTML, a mention or formatting,
and must not drive the reader's terminal or reorder what they read. Every helper starts from `plain`: one
line; URLs and domains defanged (hxxp://evil[.]example); control, bidi and zero-width characters shown as
escapes (\\u202e); cut to a limit with a marker (…). Each kind then escapes what its reader would take as markup.
"""

from __future__ import annotations

import re

import markupsafe
import pandas as pd
from rich.markup import escape as rich_escape

CUT = "…"
CELL_LIMIT = 120  # a table cell or a value inside a sentence
LINE_LIMIT = 400  # a message line (why the rep got the lead, the AI brief)

# Unicode 14's Cc, Cf, Cs, Zl and Zp: controls (ANSI escapes start with \x1b), bidi overrides (U+202E), zero-width
# and invisible characters, lone surrogates, line and paragraph separators
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# no word boundary asked for: a renderer (the Prefect UI's) links "x3chttps://…" from inside a word
_WEB_SCHEME = re.compile(r"(h)tt(ps?)(?=:)|(f)t(p)(?=:)", re.IGNORECASE)
# schemes that run code or carry a payload: the colon is what a renderer or a click needs
_CODE_SCHEME = re.compile(
    r"(javascript|vbscript|data(?=\s*:\s*[a-z]+/)|file(?=\s*:\s*/))(\s*):", re.IGNORECASE
)
# a host name (labels, a dot, a letter-only or punycode top-level label) or an IPv4 address
_HOST = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})|\d{1,3}(?:\.\d{1,3}){3}",
    re.IGNORECASE,
)
# CommonMark reads any ASCII punctuation escaped as plain text; these are the ones that can start markup
_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\`*_{}[]()<>#+!|~&^$="})
_SLACK_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Slack's mrkdwn has no escape for its formatting characters: each becomes a look-alike that formats nothing
_SLACK_FORMAT = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})
_SLACK_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def defang(text: str) -> str:
    """URLs and host names that no reader or renderer follows: hxxps://evil[.]example, javascript[:]…, 10[.]0[.]0[.]1."""
    if ":" in text:  # most values have no scheme and no host: skip the regexes
        text = _WEB_SCHEME.sub(lambda m: f"{m[1]}xx{m[2]}" if m[1] else f"{m[3]}x{m[4]}", text)
        text = _CODE_SCHEME.sub(r"\1\2[:]", text)
    return _HOST.sub(lambda m: m.group().replace(".", "[.]"), text) if "." in text else text


def plain(value: object, limit: int = CELL_LIMIT, *, urls: bool = False) -> str:
    """Untrusted text as one printable line: whitespace runs as one space, invisible characters as escapes,
    links defanged (urls=True keeps them: only for our own links and paths), at most `limit` characters with
    … at a cut. None and NA are ""."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    text = " ".join(str(value).split())
    text = text if text.isprintable() else _INVISIBLE.sub(_visible, text)
    text = text if urls else defang(text)
    return text if len(text) <= limit else text[: limit - 1] + CUT


def markdown(value: object, limit: int = CELL_LIMIT) -> str:
    """Lead text inside a markdown line or table cell (Prefect markdown and table artifacts): no link, image,
    HTML, emphasis, code or column break; the reader sees the text as it was, defanged and cut."""
    return plain(value, limit).translate(_MARKDOWN)


def html(value: object, limit: int = CELL_LIMIT) -> markupsafe.Markup:
    """Lead text as HTML text (the outcome report): entities for <>&\"', defanged and cut."""
    return markupsafe.escape(plain(value, limit))


def slack(value: object, limit: int = LINE_LIMIT) -> str:
    """Lead text in a Slack mrkdwn message: no mention (<!channel>, <@U123>, @here), link or formatting."""
    text = "".join(_SLACK_ENTITIES.get(ch, ch) for ch in plain(value, limit))
    return _SLACK_BROADCAST.sub("@\u200b", text.translate(_SLACK_FORMAT))


def slack_link(url: str, label: str) -> str:
    """One of our own links (a CRM record) in Slack mrkdwn, under a label of ours."""
    target = "".join(_SLACK_ENTITIES.get(ch, ch) for ch in plain(url, len(url) + 1, urls=True))
    return f"<{target.replace('|', '%7C')}|{slack(label)}>"


def email_text(value: object, limit: int = LINE_LIMIT) -> str:
    """Lead text in a plain-text email line or subject: one line (no header injection), nothing a mail client
    would turn into a link."""
    return plain(value, limit)


def terminal(value: object, limit: int | None = None, *, urls: bool = False) -> str:
    """Text for a rich console print: no markup tag, ANSI escape, control or bidi character, links defanged
    (urls=True for our own paths and links); uncut unless `limit` is given."""
    text = plain(value, limit if limit is not None else 1 << 30, urls=urls)
    return rich_escape(text)
