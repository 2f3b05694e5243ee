"""Demo e-mail: the Customer Care mailbox with a template, a signature and one conversation.

Wired into relay/core/demo.py as `load_demo_email(admin=staff["admin"], departments=depts)`."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime

from django.db import transaction

from relay.accounts.models import Department, User
from relay.cases.models import Case
from relay.channels.email.models import EmailTemplate, Mailbox, Signature
from relay.channels.email.services import config, email_reply, message_receive
from relay.core import clock

ADDRESS = "support@relay.localhost"


def _mail(*, subject: str, body: str, message_id: str, in_reply_to: str = "", at=None) -> bytes:
    msg = MimeMessage()
    msg["From"] = "Margaret Hamilton <margaret.hamilton@example.com>"
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at or clock.now())
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    msg.set_content(body)
    msg.add_alternative(f"<p>{body.replace(chr(10), '<br>')}</p>", subtype="html")
    return msg.as_bytes()


@transaction.atomic
def load_demo_email(*, admin: User, departments: dict[str, Department]) -> Case | None:
    """Idempotent: the mailbox is created once; the conversation arrives once (its Message-IDs)."""
    care = departments["Customer Care"]
    mailbox = Mailbox.objects.filter(address=ADDRESS).first() or config.mailbox_save(
        actor=admin,
        mailbox=None,
        data={"name": "Customer Care", "address": ADDRESS, "department": care, "auto_acknowledge": True},
    )
    if not EmailTemplate.objects.filter(department=care).exists():
        config.template_save(
            actor=admin,
            template=None,
            department=care,
            name="Technician visit",
            subject="A technician will visit you",
            body='Dear {{ customer_name }},\n\nAbout "{{ case_subject }}" ({{ case_number }}): a technician '
            "will visit you within two working days and call you beforehand.",
        )
    if not Signature.objects.filter(department=care).exists():
        config.signature_save(
            actor=admin,
            department=care,
            body="{{ agent_name }}\n{{ department }}, Relay Telecom\n+1 415 555 0000",
        )
    received = clock.now() - timedelta(hours=3)
    first = message_receive(
        mailbox=mailbox,
        raw=_mail(
            subject="Internet drops every evening",
            body="Hello,\n\nMy internet connection drops every evening around 8 pm for ten minutes."
            "\n\nMargaret",
            message_id="demo-1@example.com",
            at=received,
        ),
        via="http",
        received_at=received,
    )
    case = first.case
    if case is None or first.outcome != "stored":
        return case
    agent = User.objects.filter(departments=care, role="agent", is_active=True).order_by("username").first()
    if agent is not None:
        reply = email_reply(
            actor=agent, case=case, body="Could you tell us which lights are on on your router when it drops?"
        )
        message_receive(
            mailbox=mailbox,
            raw=_mail(
                subject=f"Re: {reply.subject}",
                body="The red light blinks.\n\nOn Tuesday, Customer Care wrote:\n> Could you tell us which "
                "lights are on on your router when it drops?",
                message_id="demo-2@example.com",
                in_reply_to=reply.message_id,
            ),
            via="http",
        )
    return case
