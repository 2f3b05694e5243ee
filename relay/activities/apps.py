from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "relay.activities"
    label = "activities"
    verbose_name = "Timeline"
