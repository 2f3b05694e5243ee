from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "relay.channels.portal"
    label = "portal"
    verbose_name = "Customer portal"
