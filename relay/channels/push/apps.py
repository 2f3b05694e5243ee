from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "relay.channels.push"
    label = "push"
    verbose_name = "Live push"
