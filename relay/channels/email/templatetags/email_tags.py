"""The e-mail partials on the case page and the party timeline."""

from __future__ import annotations

from typing import Any

from django import template

from relay.channels.email import selectors
from relay.channels.email.forms import ReplyForm
from relay.channels.email.render import shown
from relay.channels.email.services.sending import mailbox_for_case

register = template.Library()


def _actor(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("email/_message.html", takes_context=True)
def entry_email(context: template.Context, entry: Any) -> dict[str, Any]:
    """An e-mail interaction: the message as received or sent (or the entry's own text when it was
    logged by hand)."""
    actor = _actor(context)
    message = selectors.entry_email(actor=actor, entry_id=entry.pk) if actor is not None else None
    return {
        "entry": entry,
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
    emails = selectors.case_emails(actor=actor, case=case)
    can_write = actor.has_perm("cases.change_case", case) and case.merged_into_id is None
    templates = selectors.templates_for(actor=actor, department_id=case.department_id) if can_write else []
    mailbox = mailbox_for_case(case) if can_write else None
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
