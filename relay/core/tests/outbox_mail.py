"""An e-mail backend for the worker tests: one line per message sent (its Message-ID and the sending
process), appended with O_APPEND so concurrent workers never interleave, and survives a SIGKILL."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class LogBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        delay = float(os.environ.get("RELAY_TEST_MAIL_DELAY", "0"))
        fd = os.open(os.environ["RELAY_TEST_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            for message in email_messages:
                time.sleep(delay)  # an SMTP round trip
                os.write(fd, f"{message.extra_headers['Message-ID']} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
        return len(email_messages)
