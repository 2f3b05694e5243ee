"""The SMTP ingress (`relay smtpd`, started by `relay serve` too): mail servers and mail clients hand
messages for Relay's mailboxes straight to Relay (ADR 0012).

* Not an open relay: RCPT TO is accepted only for a known, active mailbox (550 otherwise).
* The size limit is RELAY_EMAIL_MAX_BYTES: announced with the SIZE extension, a larger MAIL FROM SIZE=
  or a larger message is refused with 552.
* A message is handed to `message_receive(via="smtp")` once per distinct mailbox among its recipients,
  and the server answers 250 only once every copy is stored (or quarantined). When storing fails the
  answer is 451, so the sending server keeps the message and tries again later; what was already stored
  is a duplicate on the retry (one interaction per mailbox and Message-ID).
* The handler is asynchronous (aiosmtpd runs an asyncio loop); every database access runs in a thread
  through asgiref's `sync_to_async`, with Django's connection clean-up around it as a request has.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

if TYPE_CHECKING:
    from relay.channels.email.models import Mailbox

logger = logging.getLogger(__name__)

# The recipients' mailboxes of the transaction under way, kept on its envelope (aiosmtpd makes a new
# envelope for each MAIL FROM).
_ENVELOPE_MAILBOXES = "relay_mailbox_ids"


def max_bytes() -> int:
    return int(getattr(settings, "RELAY_EMAIL_MAX_BYTES", 25 * 1024 * 1024))


def _active_mailbox(address: str) -> Mailbox | None:
    from relay.channels.email.services import mailbox_for_address

    close_old_connections()
    try:
        mailbox = mailbox_for_address(address)
    finally:
        close_old_connections()
    if mailbox is None or not mailbox.is_active:
        return None
    return mailbox


def _store(mailbox_ids: list[int], raw: bytes) -> list[str]:
    """Hand the message to each mailbox; the outcomes in order. Raises when one could not be stored."""
    from relay.channels.email.models import Mailbox
    from relay.channels.email.services import message_receive
    from relay.core.origin import Origin, origin

    close_old_connections()
    try:
        outcomes = []
        with origin(Origin.SYSTEM):
            for mailbox in Mailbox.objects.filter(pk__in=mailbox_ids).order_by("pk"):
                receipt = message_receive(mailbox=mailbox, raw=raw, via="smtp")
                outcomes.append(f"{mailbox.address}: {receipt.outcome}")
        return outcomes
    finally:
        close_old_connections()


@dataclass
class RelayHandler:
    """aiosmtpd handler hooks (RCPT and DATA); `lookup` and `store` are the blocking database calls."""

    lookup: Any = field(default=_active_mailbox)
    store: Any = field(default=_store)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            mailbox = await sync_to_async(self.lookup, thread_sensitive=False)(address)
        except Exception:
            logger.exception("smtpd: looking up %s failed", address)
            return "451 4.3.0 Temporary failure looking up the recipient, try again later"
        if mailbox is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        ids: list[int] = getattr(envelope, _ENVELOPE_MAILBOXES, [])
        if mailbox.pk not in ids:
            ids.append(mailbox.pk)
        setattr(envelope, _ENVELOPE_MAILBOXES, ids)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        ids: list[int] = getattr(envelope, _ENVELOPE_MAILBOXES, [])
        raw = envelope.original_content or b""
        if len(raw) > max_bytes():  # aiosmtpd already refuses this; defensive
            return "552 5.3.4 Message too big"
        try:
            outcomes = await sync_to_async(self.store, thread_sensitive=False)(ids, raw)
        except Exception:
            logger.exception(
                "smtpd: storing a message from %s for %s failed; answered 451",
                envelope.mail_from,
                envelope.rcpt_tos,
            )
            return "451 4.3.0 Could not store the message, try again later"
        logger.info("smtpd: message from %s: %s", envelope.mail_from, ", ".join(outcomes))
        return "250 2.0.0 Message accepted"


def controller(*, host: str | None = None, port: int | None = None, handler: Any = None) -> Controller:
    """An aiosmtpd Controller (its own thread and event loop) for the ingress; `.start()` it."""
    return Controller(
        handler or RelayHandler(),
        hostname=host or getattr(settings, "RELAY_SMTPD_HOST", "127.0.0.1"),
        port=port or int(getattr(settings, "RELAY_SMTPD_PORT", 2525)),
        # gethostname, not aiosmtpd's default getfqdn(), which waits on DNS on machines without it
        server_hostname=socket.gethostname(),
        ident="Relay SMTP ingress",
        data_size_limit=max_bytes(),
        enable_SMTPUTF8=True,
        decode_data=False,
        timeout=300,
    )
