"""Every write of the e-mail channel (docs/adr/0012-email.md). Import from here."""

from relay.channels.email.services.receiving import (
    Quarantine,
    Receipt,
    mailbox_for_address,
    message_receive,
)
from relay.channels.email.services.sending import (
    acknowledge,
    deliver_event,
    email_reply,
    email_retry,
    render_placeholders,
)

__all__ = [
    "Quarantine",
    "Receipt",
    "acknowledge",
    "deliver_event",
    "email_reply",
    "email_retry",
    "mailbox_for_address",
    "message_receive",
    "render_placeholders",
]
