"""The demo's web forms (relay/core/demo.py calls this): a web-to-case form for Customer Care and a
web-to-lead form for Sales. The demo customers sign in to the portal with their e-mail address; in
`make run` the link is a file under var/mail, or `relay portal link john.carter@example.com` prints one."""

from __future__ import annotations

from relay.accounts.models import Department, User
from relay.channels.portal import services
from relay.channels.portal.choices import FormKind
from relay.channels.portal.models import WebForm


def load_demo_portal(*, admin: User, departments: dict[str, Department]) -> list[WebForm]:
    care = departments.get("Customer Care") or next(iter(departments.values()))
    sales = departments.get("Sales") or care
    specs = [
        ("Contact us", FormKind.CASE, care, "Thank you: your message is with our Customer Care team."),
        ("Talk to sales", FormKind.LEAD, sales, "Thank you: someone from Sales will be in touch shortly."),
    ]
    made = []
    for name, kind, department, message in specs:
        existing = WebForm.objects.filter(name=name, kind=kind).first()
        made.append(
            existing
            or services.webform_create(
                actor=admin,
                data=services.WebFormDraft(
                    name=name, kind=kind, department=department, success_message=message
                ),
            )
        )
    return made
