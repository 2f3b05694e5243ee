from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "relay.api"
    label = "api"
