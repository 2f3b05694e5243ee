from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "relay.core"
    label = "core"

    def ready(self) -> None:
        from relay.core import checks, db  # noqa: F401  (registers system checks and connection hooks)
