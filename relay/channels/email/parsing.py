"""Reading a raw e-mail (RFC 5322 + MIME) into what Relay keeps: pure functions, no database.

The standard library's parser with `policy.default` decodes transfer encodings, RFC 2047 encoded words
and RFC 2231 parameters (filenames). Real-world mail breaks the rules, so every header read falls back
to the raw value, and every body read to a lenient decode: parsing never raises for a message that has
headers at all (see `parse`).
"""

from __future__ import annotations

import contextlib
import hashlib
import html as html_module
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage as MimeMessage
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

_MSGID = re.compile(r"<([^<>\s]+)>")
CASE_REFERENCE = re.compile(r"\[(C-\d{6,})\]")
ROBOT_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|autoreply|auto-reply)([+\-.].*)?@", re.I
)
MAX_ID = 250


class ParseError(Exception):
    """The bytes are not an e-mail at all (no header block)."""


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class Parsed:
    message_id: str
    synthetic_id: bool
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None
    text: str
    html: str
    parts: list[Part] = field(default_factory=list)
    automated: str = ""  # why this looks machine-sent ("" for a person's mail)
    list_mail: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    def thread_ids(self) -> list[str]:
        """Ids this message answers, nearest first: In-Reply-To, then References from the last."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [i for i in reversed(self.references) if i not in ids]
        return ids[:50]

    def case_reference(self) -> str:
        match = CASE_REFERENCE.search(self.subject)
        return match.group(1) if match else ""


def synthetic_message_id(raw: bytes) -> str:
    """A stable id for a message without one: the same bytes delivered again get the same id."""
    return f"sha256.{hashlib.sha256(raw).hexdigest()}@relay.invalid"


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(str(value))))
            except Exception:
                return str(value)
    return ""


def header(msg: Message, name: str) -> str:
    """A header as text, decoded; the raw value when the parser cannot make sense of it."""
    try:
        value = msg.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:
        return " ".join(_raw_header(msg, name).split())


def message_ids(value: str) -> list[str]:
    found = [m for m in _MSGID.findall(value or "") if len(m) <= MAX_ID]
    if not found and value.strip() and " " not in value.strip() and len(value.strip()) <= MAX_ID:
        found = [value.strip()]  # some mailers leave the brackets off
    return found


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    raw = header(msg, name)
    if not raw:
        return []
    try:
        pairs = getaddresses([raw])
    except Exception:
        pairs = [parseaddr(raw)]
    return [(n.strip(), a.strip().lower()) for n, a in pairs if a and "@" in a]


def part_text(part: Message) -> str:
    """The text of a text/* part in whatever charset it claims (lenient when the claim is wrong)."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
        if isinstance(content, bytes):
            return content.decode("utf-8", errors="replace")
    except Exception:  # noqa: S110 - unknown charset, broken encoding: decode the bytes below
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body (for HTML-only mail: search, the timeline summary)."""
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>|</li>", "\n", markup)
    stripped = nh3.clean(markup, tags=set())
    text = html_module.unescape(stripped)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        name = part.get_param("name", header="content-type")  # type: ignore[assignment]
        if isinstance(name, tuple):
            name = name[2]
    if name:
        with contextlib.suppress(Exception):
            name = str(make_header(decode_header(str(name))))
    return " ".join(str(name or "").split())


def _walk(msg: Message, body_parts: set[int], parts: list[Part], extra_text: list[str]) -> None:
    """Collect attachments and inline parts; do not descend into attached messages (kept whole)."""
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if not isinstance(sub, Message):
            continue
        ctype = sub.get_content_type()
        if ctype == "message/rfc822" or ctype.startswith("message/"):
            inner = sub.get_payload()
            data = b""
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                data = inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n", max_line_length=0))
                subject = header(inner[0], "subject") or "message"
            else:
                payload = sub.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else str(inner or "").encode()
                subject = ctype.split("/")[1]
            name = _filename(sub) or f"{subject[:80]}.eml"
            if ctype != "message/rfc822" and not _filename(sub):
                name = f"{subject}.txt"
            parts.append(Part(filename=name, content_type=ctype, data=data))
            continue
        if sub.is_multipart():
            _walk(sub, body_parts, parts, extra_text)
            continue
        if id(sub) in body_parts:
            continue
        name = _filename(sub)
        disposition = (sub.get_content_disposition() or "").lower()
        cid = header(sub, "content-id").strip().strip("<>")
        if sub.get_content_maintype() == "text" and not name and disposition != "attachment":
            if ctype == "text/plain" or not ctype.startswith("text/html"):
                extra_text.append(part_text(sub))
            continue
        payload = sub.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts.append(
            Part(
                filename=name or f"part{len(parts) + 1}",
                content_type=ctype,
                data=data,
                content_id=cid,
                inline=bool(cid) and disposition != "attachment",
            )
        )


def _automated(msg: Message, from_address: str, return_path: str) -> tuple[str, bool]:
    auto = header(msg, "auto-submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto[:60]}", False
    precedence = header(msg, "precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}", precedence == "list"
    if header(msg, "list-id") or header(msg, "list-unsubscribe"):
        return "mailing list", True
    if msg.get_content_type() == "multipart/report":
        return "delivery report", False
    if return_path.strip() == "<>":
        return "bounce (empty Return-Path)", False
    if ROBOT_SENDERS.match(from_address or ""):
        return f"robot sender {from_address.split('@')[0]}", False
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress"):
        value = header(msg, name).lower()
        if value and (name != "x-auto-response-suppress" or "all" in value or "oof" in value):
            return f"{name}", False
    return "", False


def parse(raw: bytes) -> Parsed:
    """Read the message. Raises ParseError only when there is no header block at all."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not list(msg.raw_items()):
        raise ParseError("no headers: this is not an e-mail")
    ids = message_ids(header(msg, "message-id"))
    message_id = ids[0] if ids else synthetic_message_id(raw)
    reply_to = message_ids(header(msg, "in-reply-to"))
    senders = _addresses(msg, "from") or _addresses(msg, "sender")
    from_name, from_address = senders[0] if senders else ("", "")
    subject = header(msg, "subject")[:255]
    try:
        date = parsedate_to_datetime(header(msg, "date")) if header(msg, "date") else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, IndexError):
        date = None

    text_part = html_part = None
    try:
        text_part = msg.get_body(preferencelist=("plain",))
        html_part = msg.get_body(preferencelist=("html",))
    except Exception:  # noqa: S110 - odd structures: the walk below still finds the text
        pass
    if (
        text_part is None
        and html_part is None
        and not msg.is_multipart()
        and msg.get_content_maintype() == "text"
    ):
        text_part = msg  # a lone part of another text type (text/x-foo, "text" without a subtype)
    text = part_text(text_part) if text_part is not None else ""
    markup = part_text(html_part) if html_part is not None else ""
    body_parts = {id(p) for p in (text_part, html_part) if p is not None}
    parts: list[Part] = []
    extra: list[str] = []
    if msg.is_multipart() or msg.get_content_maintype() == "message":
        if msg.get_content_maintype() == "message":
            _walk_message_root(msg, parts, extra)
        else:
            _walk(msg, body_parts, parts, extra)
    elif msg.get_content_maintype() == "multipart":  # a multipart without its parts (no boundary)
        payload = msg.get_payload()
        extra.append(payload if isinstance(payload, str) else "")
    elif id(msg) not in body_parts and msg.get_content_maintype() != "text":
        payload = msg.get_payload(decode=True)
        parts.append(
            Part(
                filename=_filename(msg) or "part1",
                content_type=msg.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    if not text and extra:
        text, extra = extra[0], extra[1:]
    if extra:
        text = "\n\n".join([text, *extra]).strip()
    if not text and markup:
        text = html_to_text(markup)
    return_path = header(msg, "return-path")
    automated, list_mail = _automated(msg, from_address, return_path)
    return Parsed(
        message_id=message_id,
        synthetic_id=not ids,
        in_reply_to=reply_to[0] if reply_to else "",
        references=message_ids(header(msg, "references")),
        from_address=from_address,
        from_name=from_name[:255],
        to=[a for _, a in _addresses(msg, "to")],
        cc=[a for _, a in _addresses(msg, "cc")],
        subject=subject,
        date=date,
        text=text.replace("\r\n", "\n"),
        html=markup,
        parts=parts,
        automated=automated,
        list_mail=list_mail,
    )


def _walk_message_root(msg: Message, parts: list[Part], extra: list[str]) -> None:
    """A message whose whole body is another message (a forward as message/rfc822): its text is the
    body, and the message itself is kept attached."""
    holder = MimeMessage()
    holder.set_payload([msg])
    _walk(holder, set(), parts, extra)
    inner = msg.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        try:
            nested = parse(inner[0].as_bytes(policy=policy.default.clone(max_line_length=0)))
        except Exception:
            return
        extra.insert(0, nested.text)
        parts.extend(nested.parts)
