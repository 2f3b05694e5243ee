"""Background jobs of the recommender: the nightly training (scheduled by relay/config/huey.py)."""

from __future__ import annotations

from django.tasks import task

from relay.recommendations import services


@task
def train_recommender() -> int:
    """Train on the purchase history and make the new rule set active; the run's id. Safe to run twice at
    once (the later run wins) and to retry (a failed run changes nothing the card reads)."""
    return services.train(trigger="job").pk
