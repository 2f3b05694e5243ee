"""Who may do what with e-mail (the matrix is in docs/adr/0012-email.md).

* Messages are read through their case: visible exactly when the case is (confidential categories).
* Mailboxes: managers and admins edit them; all staff see the list (which address reaches whom).
* Templates and signatures: managers, admins and the department's supervisor edit them; agents use them.
* Quarantine: managers, admins and the supervisor of the mailbox's department act on it; auditors read.
"""

from __future__ import annotations

from typing import Any

import rules
from django.db.models import Q, QuerySet

from relay.accounts.choices import Role
from relay.accounts.permissions import VIEW_CUSTOMERS, has_capability, is_staff_member, register_scope
from relay.cases.models import Case
from relay.cases.permissions import visible_cases

ADMINS: frozenset[str] = frozenset({Role.MANAGER, Role.ADMIN})


def is_mail_admin(user: Any) -> bool:
    return has_capability(user, VIEW_CUSTOMERS) and user.role in ADMINS


def supervises(user: Any, department_id: int | None) -> bool:
    if department_id is None or not has_capability(user, VIEW_CUSTOMERS) or user.role == Role.AUDITOR:
        return False
    from relay.accounts.models import Department

    return Department.objects.filter(pk=department_id, supervisor_id=user.pk).exists()


def can_edit_department_mail(user: Any, department: Any = None) -> bool:
    """Templates and signatures of `department` (without one: of any department the user may edit)."""
    if is_mail_admin(user):
        return True
    if department is None:
        return has_capability(user, VIEW_CUSTOMERS) and user.role == Role.SUPERVISOR
    return supervises(user, getattr(department, "pk", department))


def can_act_on_quarantine(user: Any, mailbox: Any = None) -> bool:
    if is_mail_admin(user):
        return True
    return mailbox is not None and supervises(user, mailbox.department_id)


def can_view_quarantine(user: Any, mailbox: Any = None) -> bool:
    return (
        (has_capability(user, VIEW_CUSTOMERS) and user.role == Role.AUDITOR)
        or can_act_on_quarantine(user, mailbox)
        or (mailbox is None and has_capability(user, VIEW_CUSTOMERS) and user.role == Role.SUPERVISOR)
    )


rules.add_perm("email.view_mailbox", is_staff_member)
for _action in ("add", "change", "delete"):
    rules.add_perm(f"email.{_action}_mailbox", rules.predicate(lambda u, o=None: is_mail_admin(u)))
rules.add_perm("email.view_emailmessage", is_staff_member)
for _model in ("emailtemplate", "signature"):
    rules.add_perm(f"email.view_{_model}", is_staff_member)
    for _action in ("add", "change", "delete"):
        rules.add_perm(f"email.{_action}_{_model}", rules.predicate(can_edit_department_mail))
rules.add_perm("email.view_quarantinedmessage", rules.predicate(can_view_quarantine))
rules.add_perm("email.change_quarantinedmessage", rules.predicate(can_act_on_quarantine))


@register_scope("email.emailmessage")
def _message_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if not has_capability(user, VIEW_CUSTOMERS):
        return qs.none()
    if action != "view":
        return qs.none()
    if is_mail_admin(user):
        return qs
    return qs.filter(case__in=visible_cases(Case.objects.all(), user).values("pk"))


@register_scope("email.quarantinedmessage")
def _quarantine_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if is_mail_admin(user) or (
        action == "view" and has_capability(user, VIEW_CUSTOMERS) and user.role == Role.AUDITOR
    ):
        return qs
    if has_capability(user, VIEW_CUSTOMERS) and user.role == Role.SUPERVISOR:
        return qs.filter(Q(mailbox__department__supervisor=user))
    return qs.none()


@register_scope("email.mailbox")
def _mailbox_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if not has_capability(user, VIEW_CUSTOMERS):
        return qs.none()
    return qs if action == "view" or is_mail_admin(user) else qs.none()


def _department_mail_scope(qs: QuerySet, user: Any, action: str) -> QuerySet:
    if not has_capability(user, VIEW_CUSTOMERS):
        return qs.none()
    if action == "view" or is_mail_admin(user):
        return qs
    return qs.filter(department__supervisor=user) if user.role == Role.SUPERVISOR else qs.none()


register_scope("email.emailtemplate")(_department_mail_scope)
register_scope("email.signature")(_department_mail_scope)
