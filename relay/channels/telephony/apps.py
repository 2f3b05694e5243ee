from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "relay.channels.telephony"
    label = "telephony"
    verbose_name = "Telephony"
