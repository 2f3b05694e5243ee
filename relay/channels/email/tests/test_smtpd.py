"""The SMTP ingress against a real client: Python's smtplib talks to `relay smtpd`'s handler, served by
aiosmtpd on a free loopback port in this process (its own thread and event loop)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from relay.activities.models import TimelineEntry
from relay.cases.models import Case
from relay.channels.email.models import EmailMessage, QuarantinedMessage
from relay.channels.email.smtpd import RelayHandler, controller
from relay.channels.email.tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db(transaction=True)

SENDER = "grace@example.com"


def inbound() -> Any:
    return EmailMessage.objects.filter(direction="inbound")  # not the acknowledgements sent back


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def ingress(handler: Any = None) -> Iterator[tuple[str, int]]:
    server = controller(host="127.0.0.1", port=free_port(), handler=handler)
    server.start()
    try:
        yield server.hostname, server.port
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int]]:
    with ingress() as address:
        yield address


def crlf(raw: bytes) -> bytes:
    """On the wire lines end in CRLF (smtplib converts only str messages)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send(address: tuple[str, int], raw: bytes, to: list[str]) -> dict[str, Any]:
    with smtplib.SMTP(*address, timeout=30) as client:
        return client.sendmail(SENDER, to, crlf(raw))


def test_a_message_to_the_mailbox_becomes_an_interaction_on_a_case(smtp_server, mailbox, make_mail):
    raw = make_mail(message_id="<dead-line@example.com>")

    refused = send(smtp_server, raw, ["Support@relay.localhost"])

    # the 250 came after the message was stored: it is there as soon as the client returns
    assert refused == {}
    message = inbound().get(mailbox=mailbox)
    assert (message.via, message.message_id) == ("smtp", "dead-line@example.com")
    assert message.case is not None and message.entry is not None
    assert message.subject == "My line is dead"


def test_an_unknown_recipient_is_refused_with_550_so_it_is_no_open_relay(smtp_server, mailbox, make_mail):
    raw = make_mail(to="someone@example.org")
    for recipient in ("nobody@relay.localhost", "someone@example.org"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(smtp_server, raw, [recipient])
        code, text = refused.value.recipients[recipient]
        assert code == 550, text
    assert not inbound().exists() and not QuarantinedMessage.objects.exists()


def test_an_inactive_mailbox_takes_no_mail(smtp_server, mailbox, make_mail):
    mailbox.is_active = False
    mailbox.save()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtp_server, make_mail(), [mailbox.address])


def test_of_a_known_and_an_unknown_recipient_only_the_unknown_is_refused(smtp_server, mailbox, make_mail):
    refused = send(smtp_server, make_mail(), ["nobody@relay.localhost", mailbox.address])
    assert refused["nobody@relay.localhost"][0] == 550
    assert inbound().filter(mailbox=mailbox).count() == 1


def test_an_oversize_message_is_refused_with_552(settings, mailbox, make_mail):
    settings.RELAY_EMAIL_MAX_BYTES = 4000
    raw = crlf(make_mail(body=("y" * 70 + "\n") * 80))
    assert len(raw) > 4000
    with ingress() as address, smtplib.SMTP(*address, timeout=30) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "4000"  # announced
        # a client that declares the size is refused at MAIL FROM
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:
            client.sendmail(SENDER, [mailbox.address], raw)
        assert declared.value.smtp_code == 552
        # one that does not is refused after the data
        client.rset()
        assert client.mail(SENDER)[0] == 250
        assert client.rcpt(mailbox.address)[0] == 250
        code, text = client.data(raw)
        assert code == 552, text
    assert not inbound().exists()


def test_the_same_message_sent_three_times_is_one_interaction(smtp_server, mailbox, make_mail):
    raw = make_mail(message_id="<once@example.com>")
    for _ in range(3):
        assert send(smtp_server, raw, [mailbox.address]) == {}
    message = inbound().get(mailbox=mailbox)
    assert TimelineEntry.objects.filter(kind=message.entry.kind, case=message.case).count() == 1
    assert Case.objects.count() == 1


def test_eight_clients_sending_at_once_make_one_interaction_each(smtp_server, mailbox, make_mail):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database cannot take concurrent writers; PostgreSQL only")
    # four distinct messages, each sent by two clients at the same moment
    raws = [make_mail(message_id=f"<burst{n % 4}@example.com>", subject=f"Burst {n % 4}") for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda raw: send(smtp_server, raw, [mailbox.address]), raws))
    assert results == [{}] * 8
    assert sorted(inbound().values_list("message_id", flat=True)) == [
        f"burst{n}@example.com" for n in range(4)
    ]
    assert Case.objects.count() == 4


def test_a_message_to_two_mailboxes_lands_in_each_once(smtp_server, mailbox, departments, make_mail):
    billing = MailboxFactory(
        name="Billing", address="billing@relay.localhost", department=departments["Billing"]
    )
    raw = make_mail(to="support@relay.localhost, billing@relay.localhost", message_id="<both@example.com>")

    # the same mailbox twice under two spellings is one copy
    send(smtp_server, raw, ["support@relay.localhost", "BILLING@relay.localhost", "Support@Relay.Localhost"])

    copies = inbound().filter(message_id="both@example.com")
    assert sorted(copies.values_list("mailbox_id", flat=True)) == sorted([mailbox.pk, billing.pk])
    cases = {m.case.department_id for m in copies.select_related("case")}
    assert cases == {departments["Customer Care"].pk, departments["Billing"].pk}


def test_a_failure_to_store_answers_451_and_the_retry_is_taken_in(mailbox, make_mail):
    raw = make_mail(message_id="<retry@example.com>")

    def broken(mailbox_ids: list[int], raw: bytes) -> list[str]:
        raise RuntimeError("database unavailable")

    with ingress(RelayHandler(store=broken)) as address:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            send(address, raw, [mailbox.address])
        assert failed.value.smtp_code == 451  # a temporary failure: the sender keeps the message
    assert not inbound().exists()

    with ingress() as address:
        assert send(address, raw, [mailbox.address]) == {}
    assert inbound().filter(message_id="retry@example.com").count() == 1


def test_a_bad_message_is_quarantined_and_still_answered_250(smtp_server, mailbox):
    raw = b"Subject: no sender at all\r\n\r\nwho am I?\r\n"
    assert send(smtp_server, raw, [mailbox.address]) == {}
    assert QuarantinedMessage.objects.filter(mailbox=mailbox).count() == 1


def test_the_command_says_where_it_listens_and_refuses_a_taken_port(mailbox):
    from django.core.management import CommandError, call_command

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}"):
            call_command("smtpd", "--host", "127.0.0.1", "--port", str(port))


def test_lookup_failure_answers_451(mailbox, make_mail):
    def broken(address: str) -> None:
        raise RuntimeError("database unavailable")

    with (
        ingress(RelayHandler(lookup=broken)) as address,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        send(address, make_mail(), [mailbox.address])
    assert refused.value.recipients[mailbox.address][0] == 451  # try again later, not "no such user"


@pytest.mark.slow
def test_relay_smtpd_as_its_own_process(mailbox, make_mail, tmp_path):
    """The command as `relay serve` starts it: it says where it listens, takes mail in, stops on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the process needs the test database: SQLite's is in this process's memory")
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RELAY_VAR_DIR": str(tmp_path),
        "RELAY_MEDIA_ROOT": str(tmp_path / "media"),
        "RELAY_SMTPD_PORT": str(port),
    }
    env.pop("RELAY_TASKS_IMMEDIATE", None)
    root = Path(__file__).resolve().parents[4]
    server = subprocess.Popen(
        [sys.executable, "-m", "relay.manage", "smtpd"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"SMTP ingress listening on 127.0.0.1:{port}" in line, line
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                assert (
                    send(("127.0.0.1", port), make_mail(message_id="<proc@example.com>"), [mailbox.address])
                    == {}
                )
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        assert inbound().filter(message_id="proc@example.com", via="smtp").count() == 1
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
