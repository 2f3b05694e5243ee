"""The one clock. Every service reads time here so tests can move it (time-machine) in one place."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
