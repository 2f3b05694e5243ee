"""Delivering an outbox event to people: the inbox (in-app) and e-mail, as each recipient prefers.

Registered with the outbox (relay.core.outbox.register_deliverer) by the app's ready(). It may run more
than once for the same event (a retry, a worker killed mid-way): every step is idempotent by constraint.

* In the app: the notifications and their delivery rows are inserted in one transaction, both with
  ON CONFLICT DO NOTHING (unique per event and recipient, and per event, recipient and channel). A
  drain does this for its whole claimed batch at once (`prepare_batch`, registered as the preparer).
* E-mail: a message is sent first, and only then its delivery row (with `sent_at`) is inserted and
  committed. A row is therefore proof of a successful send, and a send that fails leaves nothing behind,
  so the retry sends it. The price: a crash between a successful send and that commit (a few
  milliseconds) sends that one message again on the retry - at most once more per crash. Recording the
  row first instead would lose the message whenever the send then fails or the worker dies, which is
  worse for a notice someone must act on. Each message carries a Message-ID derived from the event and
  the recipient, so a mail client or server that deduplicates by Message-ID shows the resent one once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import transaction

from relay.accounts.models import User
from relay.core import bulk
from relay.core.outbox import DeliveryFailed, keep_lease
from relay.core.outbox_models import DeliveryChannel, OutboxDelivery, OutboxEvent
from relay.notifications.models import Notification, NotificationPreference
from relay.notifications.preferences import Channels, candidate_kinds, resolve


@dataclass
class _Plan:
    """Who gets an event by which channel, worked out for a whole batch by `prepare_batch`."""

    users: list[User]
    channels: dict[int, Channels]
    in_app_done: bool = False


def _recipients(event: OutboxEvent, active: dict[int, User]) -> list[User]:
    """The event's active recipients but its actor, in username order (the order e-mails go out)."""
    actor_id = event.payload.get("actor_id")
    users = [active[pk] for pk in set(event.recipients) if pk in active and pk != actor_id]
    return sorted(users, key=lambda u: (u.username, u.pk))


def _active_users(ids: set[int]) -> dict[int, User]:
    return {
        u.pk: u
        for u in User.objects.filter(pk__in=ids, is_active=True).only("id", "username", "email", "first_name")
    }


def deliver_event(event: OutboxEvent) -> None:
    plan: _Plan | None = getattr(event, "_notifications_plan", None)
    if plan is None:
        users = _recipients(event, _active_users(set(event.recipients)))
        if not users:
            return
        plan = _Plan(users=users, channels=channels_for(users, kind=event.name))
    users, channels = plan.users, plan.channels
    if not plan.in_app_done:
        _deliver_in_app(event, [u for u in users if channels[u.pk].in_app])
    _deliver_email(event, [u for u in users if channels[u.pk].email and u.email])


def prepare_batch(events: list[OutboxEvent]) -> None:
    """The in-app part of a claimed batch at once: the recipients and their preferences in one query
    each, and every notice and delivery row of the batch in one transaction (ON CONFLICT DO NOTHING, as
    event by event). Each event keeps its plan, so `deliver_event` then only sends the e-mails."""
    active = _active_users({pk for event in events for pk in event.recipients})
    kinds = sorted({kind for event in events for kind in candidate_kinds(event.name)})
    rows: dict[int, list[tuple[str, bool, bool]]] = defaultdict(list)
    if active:
        for user_id, pref_kind, in_app, email in NotificationPreference.objects.filter(
            user__in=list(active), kind__in=kinds
        ).values_list("user_id", "kind", "in_app", "email"):
            rows[user_id].append((pref_kind, in_app, email))
    plans = {}
    for event in events:
        users = _recipients(event, active)
        plans[event.pk] = _Plan(users=users, channels={u.pk: resolve(rows[u.pk], event.name) for u in users})
    _write_in_app(
        [
            (event, user)
            for event in events
            for user in plans[event.pk].users
            if plans[event.pk].channels[user.pk].in_app
        ]
    )
    for event in events:
        plans[event.pk].in_app_done = True
        event._notifications_plan = plans[event.pk]  # type: ignore[attr-defined]


def channels_for(users: list[User], *, kind: str) -> dict[int, Channels]:
    """Each user's channels for events named `kind`: one query for everyone."""
    rows: dict[int, list[tuple[str, bool, bool]]] = defaultdict(list)
    for user_id, pref_kind, in_app, email in NotificationPreference.objects.filter(
        user__in=[u.pk for u in users], kind__in=candidate_kinds(kind)
    ).values_list("user_id", "kind", "in_app", "email"):
        rows[user_id].append((pref_kind, in_app, email))
    return {u.pk: resolve(rows[u.pk], kind) for u in users}


def _notice(event: OutboxEvent, user: User) -> dict[str, Any]:
    """The inbox row telling `user` about `event`."""
    payload: dict[str, Any] = event.payload
    return {
        "recipient_id": user.pk,
        "event_id": event.pk,
        "kind": event.name,
        "title": str(payload["title"])[:255],
        "body": str(payload.get("body", "")),
        "url": str(payload.get("url", ""))[:500],
        "case_id": payload.get("case_id"),
        "created_at": event.created_at,
    }


def _write_in_app(pairs: list[tuple[OutboxEvent, User]]) -> None:
    """The inbox rows and their delivery rows of (event, recipient) pairs, in one transaction; a pair
    already delivered is skipped by the constraints (ON CONFLICT DO NOTHING)."""
    if not pairs:
        return
    with transaction.atomic():
        bulk.insert(Notification, [_notice(e, u) for e, u in pairs], returning=False, ignore_conflicts=True)
        bulk.insert(
            OutboxDelivery,
            [{"event_id": e.pk, "recipient_id": u.pk} for e, u in pairs],
            same={"channel": DeliveryChannel.IN_APP},
            returning=False,
            ignore_conflicts=True,
        )


def _deliver_in_app(event: OutboxEvent, users: list[User]) -> None:
    _write_in_app([(event, user) for user in users])


def _deliver_email(event: OutboxEvent, users: list[User]) -> None:
    if not users:
        return
    sent = set(
        OutboxDelivery.objects.filter(
            event=event, channel=DeliveryChannel.EMAIL, recipient__in=[u.pk for u in users]
        ).values_list("recipient_id", flat=True)
    )
    failures: list[str] = []
    for user in users:
        if user.pk in sent:
            continue
        keep_lease(event)  # a slow mail server must not let another worker start on this event
        try:
            message(event, user).send()
        except Exception as exc:  # the others still get theirs; this one is retried with the event
            failures.append(f"{user.pk}: {type(exc).__name__}: {exc}")
            continue
        OutboxDelivery.objects.bulk_create(
            [OutboxDelivery(event=event, recipient=user, channel=DeliveryChannel.EMAIL)],
            ignore_conflicts=True,
        )
    if failures:
        raise DeliveryFailed(f"e-mail not sent to {len(failures)} recipient(s): " + "; ".join(failures))


def message(event: OutboxEvent, user: User) -> EmailMessage:
    """The e-mail telling `user` about `event`."""
    payload = event.payload
    lines = [str(payload.get("body", "")).strip()]
    url = payload.get("url")
    if url:
        lines.append(f"Open it in Relay: {getattr(settings, 'RELAY_BASE_URL', '').rstrip('/')}{url}")
    lines.append("You can choose which notices reach you by e-mail under Notifications > Preferences.")
    return EmailMessage(
        subject=("[Relay] " + " ".join(str(payload["title"]).split()))[:250],  # one line, always
        body="\n\n".join(line for line in lines if line),
        to=[user.email],
        headers={
            "Message-ID": f"<relay.outbox.{event.pk}.{user.pk}@{DNS_NAME}>",
            "Auto-Submitted": "auto-generated",
            "X-Relay-Event": event.name,
        },
    )
