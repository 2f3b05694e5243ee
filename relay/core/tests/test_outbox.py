"""The transactional outbox: written in the business transaction, drained after commit, at least once,
never twice (TESTING.md, "Outbox"). Multi-process tests with real workers are in test_outbox_workers.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from huey.storage import MemoryStorage

from relay.config.huey import HUEY
from relay.core import clock, outbox
from relay.core.outbox_models import DeliveryChannel, OutboxDelivery, OutboxEvent
from relay.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queue(settings):
    """Tasks go to an in-memory Huey queue that the test can inspect (never the shared var/ file)."""
    settings.TASKS = {"default": {"BACKEND": "relay.core.tasks_backend.HueyTaskBackend"}}
    original = HUEY.storage
    HUEY.storage = MemoryStorage("relay-outbox-test")
    yield HUEY
    HUEY.storage = original


def payload(**extra):
    return {"title": "Case 7 transferred to Billing", "url": "/parties/", "case_id": 7, **extra}


def drain_task_paths(huey) -> list[str]:
    paths = []
    while (message := huey.dequeue()) is not None:
        paths.append(message.args[0])
    return paths


# --- writing ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_is_refused(agent):
    with pytest.raises(outbox.OutboxError, match="inside the business transaction"):
        outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
    assert OutboxEvent.objects.count() == 0


def test_a_rolled_back_transaction_leaves_no_event_and_enqueues_nothing(
    queue, django_capture_on_commit_callbacks, agent
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
        transaction.set_rollback(True)
    assert callbacks == []
    assert OutboxEvent.objects.count() == 0
    assert queue.pending_count() == 0


def test_a_commit_enqueues_one_drain_after_commit_and_not_before(
    queue, django_capture_on_commit_callbacks, agent, supervisor
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
            outbox.emit("case.assigned", payload=payload(), recipients=[supervisor.pk])
            assert queue.pending_count() == 0
        assert queue.pending_count() == 0  # the callbacks run when the outermost transaction commits
    assert len(callbacks) == 1, "one drain per transaction, however many events it emitted"
    assert drain_task_paths(queue) == ["relay.core.tasks.outbox_drain"]
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 2


def test_a_rolled_back_savepoint_drops_its_event_only(queue, django_capture_on_commit_callbacks, agent):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        kept = outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
        with transaction.atomic():
            outbox.emit("case.assigned", payload=payload(), recipients=[agent.pk])
            transaction.set_rollback(True)
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert len(callbacks) == 1


def test_a_drain_is_enqueued_even_when_only_a_savepoints_event_survives(
    queue, django_capture_on_commit_callbacks, agent
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        with transaction.atomic():
            outbox.emit("case.assigned", payload=payload(), recipients=[agent.pk])
        outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
    assert len(callbacks) == 1 and OutboxEvent.objects.count() == 2


def test_the_same_idempotency_key_is_one_event(agent):
    with transaction.atomic():
        first = outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk], key="case:7:v3")
        again = outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk], key="case:7:v3")
        other = outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk], key="case:7:v4")
    assert first.pk == again.pk != other.pk
    assert OutboxEvent.objects.count() == 2
    stored = OutboxEvent.objects.get(pk=first.pk)  # what emit returned is the row as written
    fields = [f.attname for f in OutboxEvent._meta.concrete_fields]
    assert [getattr(first, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert not first._state.adding


def test_the_event_row_holds_what_deliveries_need(agent, supervisor):
    with transaction.atomic():
        event = outbox.emit(
            "case.transferred",
            payload=payload(actor_id=agent.pk, body="Check the bill."),
            recipients=[supervisor.pk, agent.pk, supervisor.pk],
        )
    event.refresh_from_db()
    assert event.name == "case.transferred"
    assert event.recipients == [supervisor.pk], "the actor is dropped, duplicates collapse"
    assert event.payload["body"] == "Check the bill." and event.payload["case_id"] == 7
    assert event.dispatched_at is None and event.attempts == 0 and event.last_error == ""
    assert event.available_at <= clock.now() and event.key is None


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("case.transferred", {}),
        ("case.transferred", {"title": "  "}),
        ("case.transferred", {"title": 5}),
        ("case.transferred", {"title": "t", "body": ["x"]}),
        ("case.transferred", {"title": "t", "url": "https://evil.example/"}),
        ("case.transferred", {"title": "t", "url": "//evil.example/"}),
        ("case.transferred", {"title": "t", "case_id": "7"}),
        ("case.transferred", {"title": "t", "actor_id": True}),
        ("case.transferred", {"title": "t", "when": clock.now()}),
        ("Case Transferred", {"title": "t"}),
        ("transferred", {"title": "t"}),
    ],
)
def test_payloads_that_deliveries_cannot_read_are_refused(agent, name, bad):
    with transaction.atomic(), pytest.raises(outbox.OutboxError):
        outbox.emit(name, payload=bad, recipients=[agent.pk])
    assert OutboxEvent.objects.count() == 0


def test_recipients_are_user_ids(agent):
    with transaction.atomic(), pytest.raises(outbox.OutboxError, match="user ids"):
        outbox.emit("case.transferred", payload=payload(), recipients=[agent])


# --- delivering ------------------------------------------------------------------------------------------


def emit(recipients, **extra) -> OutboxEvent:
    with transaction.atomic():
        return outbox.emit(
            "case.transferred", payload=payload(**extra), recipients=[u.pk for u in recipients]
        )


def test_drain_delivers_each_recipient_once_and_a_second_drain_changes_nothing(agent, supervisor):
    event = emit([agent, supervisor])
    first = outbox.drain()
    assert (first.claimed, first.dispatched, first.failed) == (1, 1, 0)
    second = outbox.drain()
    assert (second.claimed, second.dispatched) == (0, 0)
    event.refresh_from_db()
    assert event.dispatched_at is not None and event.attempts == 1 and event.claimed_by == ""
    assert sorted(Notification.objects.values_list("recipient_id", flat=True)) == sorted(
        [agent.pk, supervisor.pk]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, supervisor.email])
    assert OutboxDelivery.objects.filter(channel=DeliveryChannel.IN_APP).count() == 2
    assert OutboxDelivery.objects.filter(channel=DeliveryChannel.EMAIL).count() == 2


def test_delivering_an_event_again_notifies_nobody_twice(agent, supervisor):
    """A retry after a crash runs the deliverers again on an event they already delivered."""
    event = emit([agent, supervisor])
    outbox.drain()
    # as if the worker had died before marking it dispatched, and its lease had ended
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None, available_at=clock.now())
    assert outbox.drain().dispatched == 1
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    assert OutboxDelivery.objects.count() == 4


def test_a_failing_delivery_is_retried_later_with_back_off(queue, monkeypatch, agent):
    calls = []

    def flaky(event):
        calls.append(event.pk)
        if len(calls) < 3:
            raise RuntimeError("SMTP server not answering")

    monkeypatch.setitem(outbox._deliverers, "flaky", flaky)
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        event = emit([agent])
        result = outbox.drain()
        assert (result.claimed, result.dispatched, result.failed) == (1, 0, 1)
        event.refresh_from_db()
        assert event.dispatched_at is None and event.attempts == 1 and event.claimed_by == ""
        assert event.last_error == "RuntimeError: SMTP server not answering"
        assert event.available_at == start + timedelta(seconds=10)
        scheduled = queue.dequeue()  # a drain for the end of the back-off (Huey's clock: naive UTC)
        assert scheduled.args[0] == "relay.core.tasks.outbox_drain"
        assert scheduled.eta == event.available_at.replace(tzinfo=None)

        assert outbox.drain().claimed == 0, "not before the back-off ends"
        traveller.shift(timedelta(seconds=11))
        assert outbox.drain().failed == 1
        event.refresh_from_db()
        assert event.attempts == 2 and event.available_at == clock.now() + timedelta(seconds=20)

        traveller.shift(timedelta(seconds=21))
        assert outbox.drain().dispatched == 1
        event.refresh_from_db()
        assert event.dispatched_at is not None and event.attempts == 3
    assert calls == [event.pk] * 3
    assert Notification.objects.filter(recipient=agent).count() == 1, "in-app delivered once in 3 attempts"


def test_back_off_doubles_up_to_an_hour():
    waits = [outbox.backoff(n).total_seconds() for n in range(1, 12)]
    assert waits[:4] == [10, 20, 40, 80]
    assert waits[-1] == 3600 and waits == sorted(waits)


def test_one_failing_event_does_not_hold_up_the_others(monkeypatch, agent):
    bad = emit([agent], title="Bad one")
    good = emit([agent], title="Good one")

    def picky(event):
        if event.pk == bad.pk:
            raise ValueError("cannot deliver this one")

    monkeypatch.setitem(outbox._deliverers, "picky", picky)
    result = outbox.drain()
    assert (result.dispatched, result.failed) == (1, 1)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.dispatched_at is not None and bad.dispatched_at is None
    assert "cannot deliver this one" in bad.last_error


def test_a_claim_keeps_other_workers_off_until_its_lease_ends(agent):
    events = [emit([agent]) for _ in range(3)]
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        token, claimed = outbox.claim(limit=2)
        assert [e.pk for e in claimed] == [e.pk for e in events[:2]], "oldest first, at most the limit"
        _, other = outbox.claim(limit=10)
        assert [e.pk for e in other] == [events[2].pk], "a second consumer takes only what is unclaimed"

        # the first worker dies; once the lease ends its events are due again
        traveller.shift(outbox.lease() + timedelta(seconds=1))
        retry_token, retried = outbox.claim(limit=10)
        assert sorted(e.pk for e in retried) == sorted(e.pk for e in events)
        assert all(e.attempts == 2 for e in retried if e.pk != events[2].pk)
        # the dead worker's claim is void: were it to wake up, it would deliver nothing
        assert outbox.deliver(claimed[0], token) is False
        assert all(outbox.deliver(e, retry_token) for e in retried)
    assert Notification.objects.count() == 3
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_drain_keeps_going_past_one_batch(agent):
    for _ in range(7):
        emit([agent])
    result = outbox.drain(batch_size=3)
    assert (result.claimed, result.dispatched) == (7, 7)
    assert Notification.objects.count() == 7


def test_a_drain_over_its_time_budget_hands_over_to_another(queue, agent):
    for _ in range(4):
        emit([agent])
    result = outbox.drain(batch_size=2, budget_seconds=0)
    assert result.dispatched == 2
    assert drain_task_paths(queue) == ["relay.core.tasks.outbox_drain"]
    assert outbox.drain().dispatched == 2


@pytest.mark.django_db(transaction=True)
def test_after_commit_the_drain_task_delivers(queue, agent, supervisor):
    """The whole path: the business transaction commits, the task is queued, a worker runs it."""
    with transaction.atomic():
        outbox.emit("case.transferred", payload=payload(actor_id=supervisor.pk), recipients=[agent.pk])
        assert queue.pending_count() == 0
    assert queue.pending_count() == 1
    queue.execute(queue.dequeue())
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [agent.pk]
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert OutboxEvent.objects.get().dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_broken_queue_does_not_fail_the_business_transaction(queue, monkeypatch, agent):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(queue, "enqueue", down)
    with transaction.atomic():
        outbox.emit("case.transferred", payload=payload(), recipients=[agent.pk])
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None, "kept for the periodic re-drain"
    monkeypatch.undo()
    from relay.config.huey import outbox_redrain

    assert outbox_redrain.call_local() == 1
    assert Notification.objects.filter(recipient=agent).count() == 1


def test_the_periodic_re_drain_runs_every_minute(queue):
    from datetime import datetime

    for minute in (datetime(2026, 12, 1, 9, 17), datetime(2026, 12, 1, 23, 59)):
        assert "relay.outbox_redrain" in [task.name for task in queue.read_periodic(minute)]


def test_prune_forgets_old_delivered_events_but_never_an_inbox_s_or_an_undelivered_one(agent, supervisor):
    with time_machine.travel(clock.now() - timedelta(days=40), tick=False):
        told = emit([agent])  # delivered: a notification in the agent's inbox refers to it
        untold = emit([])  # delivered to nobody
        waiting = emit([supervisor])  # never delivered (its worker keeps failing, say)
        OutboxEvent.objects.filter(pk=waiting.pk).update(available_at=clock.now() + timedelta(days=365))
        assert outbox.drain().dispatched == 2
    recent = emit([])
    outbox.drain()
    assert OutboxDelivery.objects.filter(event=told).exists()

    assert outbox.prune() == 1
    assert not OutboxEvent.objects.filter(pk=untold.pk).exists()
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {told.pk, waiting.pk, recent.pk}
    assert Notification.objects.filter(event=told, recipient=agent).exists()

    Notification.objects.filter(event=told).delete()  # once the inbox lets go, so does the outbox
    assert outbox.prune(keep=timedelta(days=30), batch_size=1) == 1
    assert not OutboxDelivery.objects.filter(event_id=told.pk).exists()
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}


def test_the_outbox_is_pruned_nightly(queue):
    from datetime import datetime

    assert "relay.outbox_prune" in [t.name for t in queue.read_periodic(datetime(2026, 12, 1, 3, 17))]
    assert "relay.outbox_prune" not in [t.name for t in queue.read_periodic(datetime(2026, 12, 1, 3, 18))]


def test_the_admin_shows_the_outbox_read_only_and_can_retry_now(client, admin_user, agent, queue):
    event = emit([agent])
    OutboxEvent.objects.update(last_error="SMTPException: 421", available_at=clock.now() + timedelta(hours=1))
    client.force_login(admin_user)
    listing = client.get("/admin/core/outboxevent/?state=failing")
    assert listing.status_code == 200 and "SMTPException: 421" in listing.content.decode()
    assert client.get("/admin/core/outboxevent/add/").status_code == 403
    response = client.post(
        "/admin/core/outboxevent/", {"action": "retry_now", "_selected_action": [event.pk]}, follow=True
    )
    assert "1 event(s) will be delivered" in response.content.decode()
    assert outbox.drain().dispatched == 1
