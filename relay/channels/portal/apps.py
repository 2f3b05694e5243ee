from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "relay.channels.portal"
    label = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        from relay.channels.portal import permissions  # noqa: F401  (registers portal.manage_webforms)
