"""Fixtures of the e-mail tests: a mailbox of Customer Care, raw-message builders, the sample files."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from relay.cases.tests.factories import default_statuses
from relay.channels.email.tests.factories import MailboxFactory
from relay.core import clock

SAMPLES = Path("/work/shared/data/email")


@pytest.fixture(autouse=True)
def _default_statuses(db):
    """The default case statuses come from a data migration that transactional tests flush."""
    default_statuses()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


@pytest.fixture
def care(departments):
    return departments["Customer Care"]


@pytest.fixture
def mailbox(care):
    return MailboxFactory(name="Support", address="Support@Relay.Localhost", department=care)


@pytest.fixture
def make_mail() -> Callable[..., bytes]:
    def _make(
        *,
        sender: str = "Grace Hopper <grace@example.com>",
        to: str = "support@relay.localhost",
        subject: str = "My line is dead",
        body: str = "Hello, my phone line has not worked since Monday.",
        message_id: str | None = None,
        in_reply_to: str = "",
        references: str = "",
        html: str = "",
        headers: dict[str, str] | None = None,
        attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    ) -> bytes:
        msg = MimeMessage()
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(clock.now())
        msg["Message-ID"] = message_id or make_msgid(domain="example.com")
        if in_reply_to:
            msg["In-Reply-To"] = in_reply_to
        if references:
            msg["References"] = references
        for name, value in (headers or {}).items():
            msg[name] = value
        if body:
            msg.set_content(body)
        if html:
            if body:
                msg.add_alternative(html, subtype="html")
            else:
                msg.set_content(html, subtype="html")
        for filename, ctype, data in attachments:
            maintype, _, subtype = ctype.partition("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        return msg.as_bytes()

    return _make
