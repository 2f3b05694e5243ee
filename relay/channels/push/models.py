"""The live-push bus (screen pops and other events pushed to open browser tabs)."""

from django.db import models  # noqa: F401
