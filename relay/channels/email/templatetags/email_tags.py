"""The e-mail partials on the case page and the party timeline."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import template

from relay.activities.models import Attachment
from relay.channels.email import selectors
from relay.channels.email.forms import ReplyForm
from relay.channels.email.models import EmailMessage
from relay.channels.email.render import shown
from relay.channels.email.services.sending import mailbox_for_case

register = template.Library()


def _actor(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


class _CaseEmails:
    """A case's e-mails and their entries' attachments, read once per page render: the panel and every
    e-mail entry of the case page share them (no query per entry)."""

    def __init__(self, actor: Any, case: Any) -> None:
        self.messages = selectors.case_emails(actor=actor, case=case)
        self.attachments: dict[int, list[Attachment]] = defaultdict(list)
        entry_ids = [m.entry_id for m in self.messages if m.entry_id]
        for a in (
            Attachment.objects.filter(entry_id__in=entry_ids).order_by("entry", "id") if entry_ids else ()
        ):
            self.attachments[a.entry_id].append(a)


def _case_emails(context: template.Context, actor: Any, case: Any) -> _CaseEmails:
    memo: dict[int, _CaseEmails] = context.render_context.setdefault("relay_case_emails", {})  # type: ignore[arg-type,assignment]
    if case.pk not in memo:
        memo[case.pk] = _CaseEmails(actor, case)
    return memo[case.pk]


def _timeline_emails(context: template.Context, actor: Any) -> dict[int, EmailMessage | None]:
    """The e-mails of the timeline page being rendered (`timeline.items`), read in one query when its
    first e-mail entry is drawn, not one query an entry. Kept in the render's first level: each entry
    is an included template, whose own level ends with it (Django keeps its include cache there too)."""
    shared: dict[Any, Any] = context.render_context.dicts[0]
    memo: dict[int, EmailMessage | None] | None = shared.get("relay_timeline_emails")
    if memo is None:
        page = context.get("timeline")
        ids = [e.pk for e in getattr(page, "items", ()) if getattr(e, "channel", "") == "email"]
        memo = selectors.entry_emails(actor=actor, entry_ids=ids) if ids else {}
        shared["relay_timeline_emails"] = memo
    return memo


@register.inclusion_tag("email/_message.html", takes_context=True)
def entry_email(context: template.Context, entry: Any) -> dict[str, Any]:
    """An e-mail interaction: the message as received or sent (or the entry's own text when it was
    logged by hand)."""
    actor = _actor(context)
    message: EmailMessage | None = None
    attachments: Any = entry.attachments.all()
    case = context.get("case")
    if actor is None:
        pass
    elif case is not None and entry.case_id == case.pk:  # the case page: its e-mails are read once
        emails = _case_emails(context, actor, case)
        message = next((m for m in emails.messages if m.entry_id == entry.pk), None)
        if message is not None:
            message.case = case
            attachments = emails.attachments[entry.pk]
    else:
        page_emails = _timeline_emails(context, actor)
        if entry.pk in page_emails:
            message = page_emails[entry.pk]
        else:  # an entry drawn outside a timeline page
            message = selectors.entry_email(actor=actor, entry_id=entry.pk)
    return {
        "entry": entry,
        "attachments": attachments,
        "mail": shown(message) if message is not None else None,
        "can_retry": message is not None
        and message.case_id is not None
        and actor.has_perm("cases.change_case", message.case),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("email/_case_panel.html", takes_context=True)
def case_email_panel(context: template.Context, case: Any) -> dict[str, Any]:
    actor = _actor(context)
    if actor is None or not actor.has_perm("cases.view_case", case):
        return {"show": False}
    emails = _case_emails(context, actor, case).messages
    can_write = actor.has_perm("cases.change_case", case) and case.merged_into_id is None
    templates = selectors.templates_for(actor=actor, department_id=case.department_id) if can_write else []
    mailbox = mailbox_for_case(case, emails) if can_write else None
    return {
        "show": True,
        "case": case,
        "outbound": [e for e in emails if not e.is_inbound()],
        "can_write": can_write and mailbox is not None,
        "mailbox": mailbox,
        "form": ReplyForm(templates=templates, auto_id="reply-%s") if can_write else None,
        "templates": templates,
        "csrf_token": context.get("csrf_token"),
    }
