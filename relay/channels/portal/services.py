"""Every write of the customer portal and the web forms (docs/adr/0014-portal-and-web-forms.md).

The portal and the forms act through their channel accounts (`relay-portal`, `relay-webform`) and the
same case and timeline services as the staff UI: a customer's message is an inbound web interaction
linked to the case, so it is on the party's timeline and on the case, visible to the customer.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse

from relay.accounts.models import Department, User
from relay.activities.choices import Direction
from relay.activities.models import Attachment
from relay.activities.services import InteractionInput, attachment_add, sniff_content_type
from relay.cases.models import Case, CaseEvent
from relay.cases.services import case_log_interaction, case_open, case_reopen
from relay.cases.services.handling import can_reopen
from relay.channels.actors import channel_actor
from relay.channels.portal import selectors
from relay.channels.portal.choices import FormKind
from relay.channels.portal.models import PortalSession, SignInLink, WebForm
from relay.core import clock
from relay.core.audit import with_actor
from relay.core.choices import Channel
from relay.core.exceptions import ApplicationError
from relay.core.models import Source
from relay.customers.choices import ContactKind, LifecycleStage, PartyRole
from relay.customers.models import Party
from relay.customers.normalize import normalize_email
from relay.customers.services import (
    ContactInput,
    PartyInput,
    Provenance,
    party_create,
    party_set_lifecycle_stage,
    party_update,
)

SUBJECT_MAX = 200
MESSAGE_MAX = 10_000
NAME_MAX = 200
_WEBFORM_SALT = "relay.portal.webform"
_INVALID_LINK = "This sign-in link is no longer valid. Ask for a new one below."


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _field_error(name: str, message: str, status: int | None = None) -> ApplicationError:
    return ApplicationError(message, errors={name: [message]}, status=status)


def _text(errors: dict[str, list[str]], name: str, value: str, *, limit: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = ["This field is required."]
    elif len(value) > limit:
        errors[name] = [f"At most {limit} characters."]
    elif any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in value):
        errors[name] = ["Control characters are not allowed."]
    return value


# --- sign-in links ---------------------------------------------------------------------------------------


@dataclass
class IssuedLink:
    link: SignInLink
    url: str


def link_issue(*, email: str) -> IssuedLink | None:
    """A fresh one-time link for an address that is a contact point of a party (None otherwise). Every
    older unused link of the address stops working. The token is returned once and stored hashed."""
    try:
        normalized = normalize_email(email)
    except ValueError:
        return None
    if not selectors.party_ids_with_email(normalized):
        return None
    now = clock.now()
    with transaction.atomic():
        SignInLink.objects.filter(email=normalized, used_at__isnull=True, superseded_at__isnull=True).update(
            superseded_at=now
        )
        token = _new_token()
        link = SignInLink.objects.create(
            email=normalized,
            token_hash=hash_token(token),
            expires_at=now + timedelta(minutes=_setting("RELAY_PORTAL_LINK_MINUTES", 30)),
        )
    base = str(getattr(settings, "RELAY_BASE_URL", "")).rstrip("/")
    return IssuedLink(link=link, url=f"{base}{reverse('portal:link', args=[token])}")


def _link_message(email: str, url: str) -> EmailMessage:
    minutes = _setting("RELAY_PORTAL_LINK_MINUTES", 30)
    body = (
        "Hello,\n\nsomeone (we hope you) asked to sign in to the customer portal with this address.\n\n"
        f"Sign in: {url}\n\nThe link works once, for {minutes} minutes. If you did not ask for it, ignore "
        "this message: nobody can sign in without it.\n"
    )
    return EmailMessage(
        subject="Your sign-in link",
        body=body,
        to=[email],
        headers={"Auto-Submitted": "auto-generated", "X-Relay-Event": "portal.sign_in_link"},
    )


def link_request(*, email: str) -> bool:
    """The customer asked for a sign-in link. When the address is on file a link is e-mailed after
    commit; the caller answers the same either way (no account enumeration). Returns whether one was sent
    (for tests and logs, never for the page).

    The mail is sent from the request's own process after commit, not through the outbox: an outbox row
    (or a task in the queue) would hold the clear token in the database, which the hashing avoids. A send
    that fails loses the link; the customer asks again."""
    issued = link_issue(email=email)
    if issued is None:
        return False
    message = _link_message(issued.link.email, issued.url)
    transaction.on_commit(message.send, robust=True)
    return True


def link_check(*, token: str) -> SignInLink | None:
    """The link if it would sign in now (for the confirmation page; nothing is used up)."""
    link = SignInLink.objects.filter(token_hash=hash_token(token)).first()
    if link is None or not _usable(link):
        return None
    return link


def _usable(link: SignInLink) -> bool:
    if link.used_at is not None or link.superseded_at is not None or link.expires_at <= clock.now():
        return False
    if SignInLink.objects.filter(email=link.email, pk__gt=link.pk).exists():  # a newer link supersedes
        return False
    return bool(selectors.party_ids_with_email(link.email))


@dataclass
class SignedIn:
    session: PortalSession
    token: str


@transaction.atomic
def link_redeem(*, token: str, previous_session: PortalSession | None = None) -> SignedIn:
    """Use the link (once): a new portal session bound to its address. A session the browser already
    had is ended (the session is rotated at every sign-in)."""
    link = SignInLink.objects.filter(token_hash=hash_token(token)).first()
    if link is None or not _usable(link):
        raise ApplicationError(_INVALID_LINK)
    now = clock.now()
    # the constraint of single use: only one redemption can flip used_at
    if not SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
        raise ApplicationError(_INVALID_LINK)
    if previous_session is not None:
        session_end(session=previous_session)
    session_token = _new_token()
    session = PortalSession.objects.create(
        email=link.email,
        token_hash=hash_token(session_token),
        expires_at=now + timedelta(hours=_setting("RELAY_PORTAL_SESSION_HOURS", 12)),
        link=link,
    )
    return SignedIn(session=session, token=session_token)


def session_end(*, session: PortalSession) -> None:
    PortalSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=clock.now())


# --- uploads --------------------------------------------------------------------------------------------


def max_files() -> int:
    return _setting("RELAY_PORTAL_MAX_FILES", 5)


def check_uploads(uploads: list[UploadedFile]) -> None:
    """Refuse bad files before anything is written: too many, empty, too large, a type not accepted
    (sniffed from the bytes, not the browser's word) or a name that is not a plain file name."""
    if len(uploads) > max_files():
        raise _field_error("attachments", f"At most {max_files()} files at a time.")
    max_bytes = settings.RELAY_ATTACHMENT_MAX_BYTES
    for upload in uploads:
        name = upload.name or ""
        shown = name[:80] or "(no name)"
        if (
            not name.strip()
            or name.startswith(".")
            or "/" in name
            or "\\" in name
            or ".." in name
            or len(name) > 200
            or any(unicodedata.category(c) in {"Cc", "Cf"} for c in name)
        ):
            raise _field_error("attachments", f"The file name “{shown}” is not accepted; rename the file.")
        size = upload.size or 0
        if size == 0:
            raise _field_error("attachments", f"“{shown}” is empty.")
        if size > max_bytes:
            raise _field_error(
                "files", f"“{shown}” is too large: at most {max_bytes // (1024 * 1024)} MB.", 413
            )
        upload.seek(0)
        content_type = sniff_content_type(upload.read(8192))
        upload.seek(0)
        if content_type not in settings.RELAY_ATTACHMENT_TYPES:
            raise _field_error(
                "files", f"“{shown}” is a kind of file we do not accept ({content_type}).", 415
            )


def _remove_unreferenced(names: list[str]) -> None:
    for name in names:
        if name and not Attachment.objects.filter(file=name).exists():
            default_storage.delete(name)


def _attach_all(*, actor: User, event: CaseEvent, uploads: list[UploadedFile], stored: list[str]) -> None:
    assert event.entry is not None
    for upload in uploads:
        attachment = attachment_add(actor=actor, entry=event.entry, upload=upload)
        stored.append(attachment.file.name or "")


# --- the portal -------------------------------------------------------------------------------------------


def portal_department() -> Department:
    """The queue of a portal case no routing rule places: RELAY_PORTAL_DEPARTMENT (a department slug),
    else Customer Care, else the first active department."""
    active = Department.objects.filter(is_active=True)
    slug = str(getattr(settings, "RELAY_PORTAL_DEPARTMENT", "") or "customer-care")
    found = active.filter(slug=slug).first() or active.order_by("name").first()
    if found is None:
        raise ApplicationError("The portal cannot take cases yet: no department is active.", status=503)
    return found


def portal_case_open(
    *,
    customer: selectors.PortalCustomer,
    party: Party,
    subject: str,
    message: str,
    uploads: list[UploadedFile],
) -> Case:
    """A case opened by the customer: routed by the rules (channel web), their message the first inbound
    web interaction on it, the files attached to that message. All or nothing, files included."""
    if party.pk not in customer.party_ids:
        raise Party.DoesNotExist("No such party.")
    errors: dict[str, list[str]] = {}
    subject = _text(errors, "subject", subject, limit=SUBJECT_MAX, required=True)
    message = _text(errors, "message", message, limit=MESSAGE_MAX, required=True)
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    check_uploads(uploads)
    actor = channel_actor("relay-portal")
    stored: list[str] = []
    try:
        with transaction.atomic():
            case = case_open(
                actor=actor,
                party=party,
                subject=subject,
                description=message,
                channel=Channel.WEB,
                fallback_department=portal_department(),  # routing rules first (docs/adr/0009)
            )
            event = case_log_interaction(
                actor=actor,
                case=case,
                data=InteractionInput(
                    channel=Channel.WEB, direction=Direction.INBOUND, subject=subject, body=message
                ),
            )
            _attach_all(actor=actor, event=event, uploads=uploads, stored=stored)
    except BaseException:
        _remove_unreferenced(stored)
        raise
    return case


@dataclass
class ReplyResult:
    case: Case
    event: CaseEvent
    reopened: bool = False


def portal_case_reply(
    *, customer: selectors.PortalCustomer, case: Case, message: str, uploads: list[UploadedFile]
) -> ReplyResult:
    """The customer's reply: an inbound web interaction on the case, with files. A resolved case, or one
    closed within the reopen window, is reopened first; an older closed case refuses the reply."""
    case = selectors.portal_case_get(customer=customer, pk=case.pk)  # their own, or DoesNotExist
    if case.merged_into_id is not None:
        case = selectors.portal_case_get(customer=customer, pk=case.merged_into_id)
    errors: dict[str, list[str]] = {}
    message = _text(errors, "message", message, limit=MESSAGE_MAX, required=True)
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    check_uploads(uploads)
    if not case.is_open() and not can_reopen(case):
        days = settings.RELAY_CASE_REOPEN_DAYS
        raise _field_error(
            "message",
            f"This case was closed more than {days} days ago and can no longer be reopened. Please open "
            f"a new case and mention {case.number}.",
        )
    actor = channel_actor("relay-portal")
    stored: list[str] = []
    reopened = False
    try:
        with transaction.atomic():
            if not case.is_open():
                case = case_reopen(
                    actor=actor,
                    case=case,
                    reason="The customer replied in the portal.",
                    expected_version=None,
                )
                reopened = True
            event = case_log_interaction(
                actor=actor,
                case=case,
                data=InteractionInput(
                    channel=Channel.WEB,
                    direction=Direction.INBOUND,
                    subject=f"Re: {case.subject}"[:255],
                    body=message,
                ),
            )
            _attach_all(actor=actor, event=event, uploads=uploads, stored=stored)
    except BaseException:
        _remove_unreferenced(stored)
        raise
    return ReplyResult(case=case, event=event, reopened=reopened)


# --- web forms ------------------------------------------------------------------------------------------


def webform_token(*, form: WebForm) -> str:
    """A signed, timestamped token the form must carry back (the minimum fill time starts now)."""
    return signing.dumps(
        {"k": form.key, "t": int(clock.now().timestamp())}, salt=_WEBFORM_SALT, compress=False
    )


def webform_token_problem(*, form: WebForm, token: str) -> str:
    """Why the token is not acceptable ("" when it is): missing, forged, for another form, too fresh
    (filled faster than RELAY_WEBFORM_MIN_SECONDS) or too old (RELAY_WEBFORM_TOKEN_HOURS)."""
    if not token:
        return "The form could not be checked. Please send it from this page."
    try:
        data = signing.loads(token, salt=_WEBFORM_SALT)
        issued = int(data["t"])
        key = str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return "The form could not be checked. Please send it from this page."
    if key != form.key:
        return "The form could not be checked. Please send it from this page."
    age = clock.now().timestamp() - issued
    if age < _setting("RELAY_WEBFORM_MIN_SECONDS", 3):
        return "The form was sent too quickly. Please check it and send it again."
    if age > _setting("RELAY_WEBFORM_TOKEN_HOURS", 24) * 3600:
        return "The form was open too long. Please send it again."
    return ""


@dataclass
class WebFormInput:
    name: str
    email: str
    message: str
    subject: str = ""
    phone: str = ""
    organisation: str = ""


@dataclass
class WebFormResult:
    case: Case
    party: Party
    party_created: bool
    errors: dict[str, list[str]] = field(default_factory=dict)


def _split_name(name: str) -> tuple[str, str]:
    given, _, family = name.strip().rpartition(" ")
    return given.strip(), family.strip()


def _check_webform_input(form: WebForm, data: WebFormInput) -> tuple[WebFormInput, str]:
    errors: dict[str, list[str]] = {}
    clean = WebFormInput(
        name=_text(errors, "name", data.name, limit=NAME_MAX, required=True),
        email=_text(errors, "email", data.email, limit=254, required=True),
        message=_text(errors, "message", data.message, limit=MESSAGE_MAX, required=True),
        subject=_text(
            errors, "subject", data.subject, limit=SUBJECT_MAX, required=form.kind == FormKind.CASE
        ),
        phone=_text(errors, "phone", data.phone, limit=40, required=False),
        organisation=_text(errors, "organisation", data.organisation, limit=NAME_MAX, required=False),
    )
    normalized = ""
    if "email" not in errors:
        try:
            normalized = normalize_email(clean.email)
        except ValueError:
            errors["email"] = ["Enter a valid e-mail address."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)
    return clean, normalized


@transaction.atomic
def webform_submit(*, form: WebForm, data: WebFormInput) -> WebFormResult:
    """A visitor sent a web form. Find the party by e-mail (the one holding it as primary address, else
    the oldest) or create one (provenance: this web form); a lead form makes or marks a prospect at
    stage "consider". Then a case in the form's department (channel web) with the message as its
    inbound web interaction. All in one transaction."""
    if not form.is_active:
        raise ApplicationError("This form no longer takes submissions.", status=410)
    clean, email = _check_webform_input(form, data)
    actor = channel_actor("relay-webform")
    provenance = Provenance(source=Source.SYSTEM, detail=f"Web form “{form.name}” ({form.key})")
    party = selectors.party_for_email(email)
    created = party is None
    lead = form.kind == FormKind.LEAD
    if party is None:
        given, family = _split_name(clean.name)
        contacts = [ContactInput(kind=ContactKind.EMAIL, raw=clean.email, is_primary=True)]
        if clean.phone:
            contacts.append(ContactInput(kind=ContactKind.PHONE, raw=clean.phone, is_primary=True))
        try:
            party = party_create(
                actor=actor,
                data=PartyInput(
                    given_name=given,
                    family_name=family,
                    roles=[PartyRole.PROSPECT] if lead else [PartyRole.CUSTOMER],
                    lifecycle_stage=LifecycleStage.CONSIDER if lead else "",
                    contact_points=contacts,
                ),
                provenance=provenance,
            )
        except ApplicationError as exc:  # contact_points.1.raw -> phone
            errors = {
                ("phone" if "contact_points.1" in k else "email" if "contact_points" in k else k): v
                for k, v in exc.errors.items()
            }
            raise ApplicationError(exc.message, errors=errors) from exc
    elif lead:
        roles = set(party.role_assignments.values_list("role", flat=True))
        if PartyRole.PROSPECT not in roles:
            party = party_update(
                actor=actor,
                party=party,
                expected_version=None,
                changes={},
                roles=[*roles, PartyRole.PROSPECT],
            )
        if not party.lifecycle_stage:
            party = party_set_lifecycle_stage(
                actor=actor,
                party=party,
                stage=LifecycleStage.CONSIDER,
                expected_version=None,
                note=f"Web form {form.name}",
            )
    details = [clean.message]
    extra = [
        ("Name", clean.name),
        ("E-mail", clean.email),
        ("Phone", clean.phone),
        ("Organisation", clean.organisation),
    ]
    details.append("\n".join(f"{label}: {value}" for label, value in extra if value))
    body = "\n\n".join(details)
    subject = clean.subject or f"Sales enquiry from {clean.name}"
    if lead and clean.subject:
        subject = f"Sales enquiry: {clean.subject}"
    case = case_open(
        actor=actor,
        party=party,
        subject=subject[:255],
        description=body,
        channel=Channel.WEB,
        department=form.department,
    )
    case_log_interaction(
        actor=actor,
        case=case,
        data=InteractionInput(
            channel=Channel.WEB, direction=Direction.INBOUND, subject=subject[:255], body=body
        ),
    )
    return WebFormResult(case=case, party=party, party_created=created)


# --- managing web forms (staff) ---------------------------------------------------------------------------


@dataclass
class WebFormDraft:
    name: str
    kind: str
    department: Department
    success_url: str = ""
    success_message: str = ""
    is_active: bool = True


def _check_draft(draft: WebFormDraft) -> None:
    errors: dict[str, list[str]] = {}
    if not draft.name.strip():
        errors["name"] = ["Give the form a name."]
    if draft.kind not in FormKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(FormKind.values)}."]
    if draft.success_url and not draft.success_url.lower().startswith(("https://", "http://")):
        errors["success_url"] = ["An http:// or https:// address."]
    if not draft.department.is_active:
        errors["department"] = ["This department is no longer active."]
    if errors:
        raise ApplicationError("Some fields are not valid.", errors=errors)


@transaction.atomic
def webform_create(*, actor: User, data: WebFormDraft) -> WebForm:
    if not actor.has_perm("portal.manage_webforms"):
        raise ApplicationError("You may not manage web forms.", status=403)
    _check_draft(data)
    form = WebForm(
        key=secrets.token_urlsafe(12).replace("_", "x").replace("-", "y").lower(),
        name=data.name.strip()[:100],
        kind=data.kind,
        department=data.department,
        success_url=data.success_url.strip(),
        success_message=data.success_message.strip()[:500],
        is_active=data.is_active,
        created_by=actor,
    )
    with_actor(form, actor)
    form.save()
    return form


@transaction.atomic
def webform_set_active(*, actor: User, form: WebForm, active: bool) -> WebForm:
    if not actor.has_perm("portal.manage_webforms"):
        raise ApplicationError("You may not manage web forms.", status=403)
    current = WebForm.objects.select_for_update().get(pk=form.pk)
    if current.is_active != active:
        current.is_active = active
        current.version += 1
        current.updated_at = clock.now()
        with_actor(current, actor)
        current.save()
    return current
