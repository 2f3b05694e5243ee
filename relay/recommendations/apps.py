from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "relay.recommendations"
    label = "recommendations"
    verbose_name = "Recommendations"
