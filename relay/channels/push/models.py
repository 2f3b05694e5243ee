"""The live-push bus (screen pops and other events pushed to open browser tabs).

`PushMessage` is the database backend's mailbox (docs/adr/0013): each web process polls it by id for the
topics its open streams listen to; rows are pruned after RELAY_PUSH_KEEP_MINUTES. The Redis backend
needs no table.
"""

from django.db import models

from relay.core import clock


class PushMessage(models.Model):
    # the primary key is the stream position (the SSE event id): polls read `id > last` in id order
    topic = models.CharField(max_length=100)
    event = models.JSONField()
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
