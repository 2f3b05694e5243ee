from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "relay.recommendations"
    label = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        from relay.core import config_cache
        from relay.recommendations.models import TrainingRun

        config_cache.watch(TrainingRun)  # the active run (relay.recommendations.selectors)
