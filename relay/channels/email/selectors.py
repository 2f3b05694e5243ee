"""Every read of the e-mail channel, permission-scoped (relay/channels/email/permissions.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from relay.accounts.models import Department, User
from relay.cases.models import Case
from relay.channels.email.models import EmailMessage, EmailTemplate, Mailbox, QuarantinedMessage, Signature
from relay.channels.email.permissions import can_edit_department_mail


def mailbox_list(*, actor: User) -> QuerySet[Mailbox]:
    return Mailbox.objects.restrict(actor, "view").select_related("department").order_by("name")


def mailbox_get(*, actor: User, pk: int) -> Mailbox:
    return mailbox_list(actor=actor).get(pk=pk)


def message_queryset(*, actor: User) -> QuerySet[EmailMessage]:
    return EmailMessage.objects.restrict(actor, "view")


def mailbox_messages(*, actor: User, mailbox: Mailbox, limit: int = 100) -> list[EmailMessage]:
    return list(
        message_queryset(actor=actor)
        .filter(mailbox=mailbox)
        .select_related("case")
        .defer("text", "html", "references")
        .order_by("-received_at", "-id")[:limit]
    )


def message_get(*, actor: User, pk: int) -> EmailMessage:
    return message_queryset(actor=actor).select_related("mailbox", "case").get(pk=pk)


def case_emails(*, actor: User, case: Case) -> list[EmailMessage]:
    """The e-mails of a case the actor can see (empty when the case is not visible)."""
    if not actor.has_perm("cases.view_case", case):
        return []
    return list(EmailMessage.objects.filter(case=case).order_by("received_at", "id"))


def entry_email(*, actor: User, entry_id: int) -> EmailMessage | None:
    return entry_emails(actor=actor, entry_ids=[entry_id])[entry_id]


def entry_emails(*, actor: User, entry_ids: list[int]) -> dict[int, EmailMessage | None]:
    """The message of each timeline entry, in one query: the first in the messages' own order where an
    entry has several, None where it has none."""
    found: dict[int, EmailMessage | None] = dict.fromkeys(entry_ids)
    for message in message_queryset(actor=actor).filter(entry_id__in=entry_ids).select_related("case"):
        assert message.entry_id is not None
        if found[message.entry_id] is None:
            found[message.entry_id] = message
    return found


def quarantine_list(*, actor: User, status: str = "pending", limit: int = 200) -> list[QuarantinedMessage]:
    qs = QuarantinedMessage.objects.restrict(actor, "view").select_related("mailbox")
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-received_at", "-id")[:limit])


def quarantine_get(*, actor: User, pk: int) -> QuarantinedMessage:
    return QuarantinedMessage.objects.restrict(actor, "view").select_related("mailbox").get(pk=pk)


def templates_for(*, actor: User, department_id: int) -> list[EmailTemplate]:
    return list(
        EmailTemplate.objects.restrict(actor, "view")
        .filter(department_id=department_id, is_active=True)
        .order_by("name")
    )


def template_list(*, actor: User) -> list[EmailTemplate]:
    return list(
        EmailTemplate.objects.restrict(actor, "view")
        .select_related("department")
        .order_by("department__name", "name")
    )


def template_get(*, actor: User, pk: int) -> EmailTemplate:
    return EmailTemplate.objects.restrict(actor, "view").select_related("department").get(pk=pk)


def signature_of(department: Department) -> Signature | None:
    return Signature.objects.filter(department=department).first()


def editable_departments(*, actor: User) -> list[Department]:
    return [
        d
        for d in Department.objects.filter(is_active=True).order_by("name")
        if can_edit_department_mail(actor, d)
    ]
