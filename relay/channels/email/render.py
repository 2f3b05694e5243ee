"""What an e-mail looks like on the case page and the timeline: never the raw HTML.

* HTML bodies go through nh3 (ammonia) with a small allow-list: no scripts, no event handlers, no
  styles, no forms, no remote images (tracking pixels); `cid:` images become links to the message's
  own stored attachments (served by the permission-checked attachment view).
* The quoted part of a reply is found with mail-parser-reply and collapsed; the full text is kept and
  shown on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import nh3
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from mailparser_reply import EmailReplyParser

from relay.channels.email.models import EmailMessage

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da"]


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=LANGUAGES)


def latest_reply(text: str) -> str:
    """The new part of a reply, without the quoted history (the whole text when nothing is quoted)."""
    if not text.strip():
        return ""
    try:
        reply = _reply_parser().parse_reply(text=text)
    except Exception:
        return text.strip()
    return (reply or "").strip() or text.strip()


def sanitize_html(markup: str, inline: dict[str, int] | None = None) -> SafeString:
    """The HTML body, safe to put in a staff page."""
    inline = inline or {}

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:"):
                pk = inline.get(value[4:].strip("<>"))
                return reverse("activities:attachment_download", args=[pk]) if pk else None
            return None  # remote images: not fetched (tracking), not shown
        if tag == "a" and attribute == "href":
            return value if value.lower().startswith(("http://", "https://", "mailto:")) else None
        return value

    cleaned = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)


@dataclass
class Shown:
    message: EmailMessage
    reply: str
    full: str
    quoted: bool
    html: SafeString | None


def shown(message: EmailMessage) -> Shown:
    full = message.text.strip()
    reply = latest_reply(full) if message.is_inbound() else full
    html = sanitize_html(message.html, message.inline) if message.html else None
    return Shown(message=message, reply=reply, full=full, quoted=reply != full, html=html)
