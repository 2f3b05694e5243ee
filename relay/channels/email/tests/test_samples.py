"""Every sample message in /work/shared/data/email parses, and keeps its text and attachments (read
from that directory at test time; the files are CPython's e-mail test corpus: digests, bounces,
forwarded messages, broken multiparts, RFC 2231 parameters, signed mail)."""

from __future__ import annotations

import pytest

from relay.activities.models import Attachment
from relay.channels.email import parsing
from relay.channels.email.services import message_receive
from relay.channels.email.tests.conftest import SAMPLES

# file -> (a snippet of its text, the names of its attachments (stored or listed as skipped), automated?)
EXPECTED: dict[str, tuple[str, list[str], bool]] = {
    "msg_01.txt": ("Do you like this message?", [], False),
    "msg_02.txt": (
        "Send Ppp mailing list submissions to",
        [
            "[Ppp] testing #1.eml",
            "message.eml",
            "[Ppp] testing #3.eml",
            "[Ppp] testing #4.eml",
            "[Ppp] testing #5.eml",
        ],
        False,
    ),
    "msg_03.txt": ("Do you like this message?", [], False),
    "msg_05.txt": ("Yadda yadda yadda", ["message.eml"], True),
    "msg_06.txt": ("", ["testing.eml"], False),
    "msg_07.txt": ("This is the dingus fish.", ["dingusfish.gif"], False),
    "msg_09.txt": ("", [], False),
    "msg_10.txt": ("This is a 7bit encoded message.", [], False),
    "msg_11.txt": ("Here is the body of the message.", ["An enclosed message.eml"], False),
    "msg_12a.txt": ("", [], False),
    "msg_13.txt": ("A text/plain part", ["dingusfish.gif"], False),
    "msg_14.txt": ("I'm sorry but I'm using a drainbread ISP", [], False),
    "msg_16.txt": (
        "This report relates to a message you sent",
        ["message.txt", "[scr] yeah for Ians!!.eml"],
        True,
    ),
    "msg_17.txt": ("This is the dingus fish.", [], False),
    "msg_18.txt": ("", [], False),
    "msg_20.txt": ("Do you like this message?", [], False),
    "msg_21.txt": ("One", [], False),
    "msg_22.txt": ("Text text text.", ["wibble.JPG", "wibble2.JPG"], False),
    "msg_24.txt": ("", [], False),
    "msg_25.txt": ("This is a MIME-encapsulated message", [], True),
    "msg_26.txt": ("Simple email with attachment.", ["clock.bmp"], False),
    "msg_28.txt": ("", ["ee.eml", "ee.eml"], False),
    "msg_29.txt": ("Do you like this message?", [], False),
    "msg_30.txt": ("", ["ee.eml", "ee.eml"], False),
    "msg_32.txt": ("Some message.", [], True),
    "msg_33.txt": ("part 1", [], True),
    "msg_34.txt": (
        "This is a text plain part that is counter to recommended practice",
        ["message.eml"],
        False,
    ),
    "msg_36.txt": ("Blah blah blah", ["message.txt", "draft-ietf-mboned-mix-00.txt"], False),
    "msg_37.txt": ("Blah", [], False),
    "msg_38.txt": ("Unlike the test test_nested-multiples-with-internal-boundary", [], False),
    "msg_40.txt": ("", [], False),
    "msg_41.txt": ("Blah blah blah", [], False),
    "msg_42.txt": ("Stuff", ["message.eml"], False),
    "msg_44.txt": ("a simple kind of mirror", ["msg.txt"], False),
    "msg_45.txt": ("This is the signed contents.", ["signature.asc"], False),
    "msg_46.txt": ("Testing email forwarding with Groupwise", ["GroupwiseForwardingTest.eml"], False),
}
FILES = sorted(p.name for p in SAMPLES.glob("msg_*.txt"))


def test_every_sample_file_is_in_the_table():
    assert FILES and set(FILES) == set(EXPECTED)


@pytest.mark.parametrize("name", FILES)
def test_each_sample_parses_and_keeps_its_text_and_attachments(name):
    parsed = parsing.parse((SAMPLES / name).read_bytes())
    snippet, attachments, automated = EXPECTED[name]
    assert snippet in parsed.text
    assert [p.filename for p in parsed.parts] == attachments
    assert all(p.data for p in parsed.parts)
    assert bool(parsed.automated) == automated
    assert parsed.message_id


@pytest.mark.django_db
def test_each_sample_is_taken_in_or_quarantined_with_its_reason_and_kept(mailbox):
    seen: dict[str, int] = {}
    for name in FILES:
        raw = (SAMPLES / name).read_bytes()
        parsed = parsing.parse(raw)
        receipt = message_receive(mailbox=mailbox, raw=raw, via="imap")
        snippet, attachments, _ = EXPECTED[name]
        if "@" not in parsed.from_address:
            assert receipt.outcome == "quarantined", name
            assert receipt.quarantined.reason == "no sender"
            assert receipt.quarantined.raw.read() == raw
            continue
        if parsed.message_id in seen:  # several samples share a Message-ID: one interaction
            assert receipt.outcome == "duplicate", name
            assert receipt.message.pk == seen[parsed.message_id]
            continue
        assert receipt.outcome == "stored", name
        seen[parsed.message_id] = receipt.message.pk
        message = receipt.message
        assert snippet in message.entry.body
        stored = list(Attachment.objects.filter(entry=message.entry).values_list("filename", flat=True))
        skipped = [s["filename"] for s in message.skipped]
        assert len(stored) + len(skipped) == len(attachments), name
        assert message.raw.read() == raw
