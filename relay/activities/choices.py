from django.db import models


class EntryKind(models.TextChoices):
    """What a timeline entry is. Later apps add kinds (case, order, campaign...) by writing entries
    that point at their own record through `ref_type`/`ref_id`; the timeline itself never changes."""

    INTERACTION = "interaction", "Interaction"
    NOTE = "note", "Note"
    CASE = "case", "Case"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    INTERNAL = "internal", "Internal"
