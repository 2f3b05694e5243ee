from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "relay.channels.email"
    label = "email"
    verbose_name = "E-mail"
