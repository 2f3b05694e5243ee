from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "relay.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from relay.core import outbox
        from relay.notifications import delivery, permissions  # noqa: F401  (registers the row scopes)

        outbox.register_deliverer("notifications", delivery.deliver_event, prepare=delivery.prepare_batch)
