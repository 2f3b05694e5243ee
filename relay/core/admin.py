"""The outbox in the admin: read-only, to see what is waiting, what failed and why."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from relay.core import clock
from relay.core.outbox_models import OutboxEvent


class _Pending(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "Waiting"), ("failing", "Failing (retried later)"), ("done", "Delivered")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "pending":
            return queryset.filter(dispatched_at__isnull=True)
        if self.value() == "failing":
            return queryset.filter(dispatched_at__isnull=True).exclude(last_error="")
        if self.value() == "done":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "dispatched_at", "attempts", "available_at", "last_error")
    list_filter = (_Pending, "name")
    search_fields = ("name", "key")
    ordering = ("-id",)
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # events are written by the services, in their transactions

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Retry the selected undelivered events now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        from relay.core.outbox import schedule_drain

        now = clock.now()
        count = queryset.filter(dispatched_at__isnull=True, claimed_by="").update(available_at=now)
        schedule_drain(now)
        self.message_user(request, f"{count} event(s) will be delivered by the next drain.")
