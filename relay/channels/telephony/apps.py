from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "relay.channels.telephony"
    label = "telephony"
    verbose_name = "Telephony"

    def ready(self) -> None:
        from relay.channels.telephony import permissions  # noqa: F401  (registers the call scope)
