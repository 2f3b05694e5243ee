from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "relay.api"
    label = "api"

    def ready(self) -> None:
        from relay.api import schema  # noqa: F401  (registers the OpenAPI authentication extension)
