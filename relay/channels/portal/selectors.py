"""Every read of the customer portal, scoped to the signed-in customer's own parties in one place: a case
(or file) of another party is DoesNotExist, which the views turn into a 404.

Who a customer is: the address they proved they read (the sign-in link went there). They reach every
party that has that address as an e-mail contact point, looked up again on every request."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from relay.activities.models import Attachment
from relay.cases.choices import StatusCategory, Visibility
from relay.cases.models import Case, CaseEvent
from relay.channels.portal.models import PortalSession, WebForm
from relay.customers.choices import ContactKind
from relay.customers.models import ContactPoint, Party

# status categories in the customer's words
CUSTOMER_STATUS: dict[str, str] = {
    StatusCategory.NEW: "Received",
    StatusCategory.OPEN: "In progress",
    StatusCategory.WAITING_CUSTOMER: "Waiting for your reply",
    StatusCategory.WAITING_THIRD_PARTY: "In progress",
    StatusCategory.RESOLVED: "Resolved",
    StatusCategory.CLOSED: "Closed",
}
# channels whose interaction text is the message itself (shown to the customer); for calls and visits
# the text is the agent's own notes, so the portal shows only that the contact took place
MESSAGE_CHANNELS = frozenset({"email", "web", "chat", "sms", "letter", "fax"})


@dataclass
class PortalCustomer:
    session: PortalSession
    email: str
    parties: list[Party] = field(default_factory=list)

    @property
    def party_ids(self) -> set[int]:
        return {p.pk for p in self.parties}


def party_ids_with_email(email: str) -> list[int]:
    return sorted(
        set(
            ContactPoint.objects.filter(kind=ContactKind.EMAIL, normalized=email).values_list(
                "party_id", flat=True
            )
        )
    )


def party_for_email(email: str) -> Party | None:
    """The party a web form files a message under: the one with the address as its primary e-mail, else
    the oldest holding it."""
    contact = (
        ContactPoint.objects.filter(kind=ContactKind.EMAIL, normalized=email)
        .order_by("-is_primary", "party_id")
        .select_related("party")
        .first()
    )
    return contact.party if contact is not None else None


def customer_for_session(session: PortalSession) -> PortalCustomer | None:
    """The customer behind a live session; None once no party holds its address any more."""
    parties = list(
        Party.objects.filter(pk__in=party_ids_with_email(session.email)).order_by("display_name", "id")
    )
    if not parties:
        return None
    return PortalCustomer(session=session, email=session.email, parties=parties)


def _own_cases(customer: PortalCustomer) -> QuerySet[Case]:
    return Case.objects.filter(party_id__in=customer.party_ids)


def portal_cases(*, customer: PortalCustomer) -> list[Case]:
    """The customer's cases, latest activity first (a merged duplicate is shown by its surviving case)."""
    return list(
        _own_cases(customer)
        .filter(merged_into__isnull=True)
        .select_related("party")
        .order_by("-last_activity_at", "-id")[:200]
    )


def portal_case_get(*, customer: PortalCustomer, pk: int) -> Case:
    return _own_cases(customer).select_related("party").get(pk=pk)


def portal_case_events(*, customer: PortalCustomer, case: Case) -> list[CaseEvent]:
    """What the customer may see of a case: its events marked visible to the customer (notes for them,
    linked interactions, the resolution), with the files of the linked interactions."""
    return list(
        CaseEvent.objects.filter(
            case__in=_own_cases(customer).filter(pk=case.pk), visibility=Visibility.CUSTOMER
        )
        .select_related("entry")
        .prefetch_related(Prefetch("entry__attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("at", "id")
    )


def portal_attachment_get(*, customer: PortalCustomer, pk: int) -> Attachment:
    """A file of a customer-visible entry of one of the customer's own cases; DoesNotExist otherwise."""
    visible_entries = CaseEvent.objects.filter(
        case__in=_own_cases(customer), visibility=Visibility.CUSTOMER, entry__isnull=False
    ).values("entry_id")
    return Attachment.objects.filter(
        pk=pk, entry_id__in=visible_entries, entry__case__in=_own_cases(customer)
    ).get()


def webform_get(*, kind: str, key: str) -> WebForm:
    """A form by its public key and kind (inactive ones too: the view says they are closed)."""
    return WebForm.objects.select_related("department").get(kind=kind, key=key)


def webform_list() -> list[WebForm]:
    return list(WebForm.objects.select_related("department").order_by("name", "id"))
