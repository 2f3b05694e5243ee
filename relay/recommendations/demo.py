"""The demo's recommendations: trained on the demo telecom's purchase history (relay/commerce/demo.py),
so that a customer with purchases pops with explained suggestions. Wired into `relay demo` after the
commerce data by relay/core/demo.py."""

from __future__ import annotations

from relay.recommendations import services
from relay.recommendations.models import TrainingRun


def load_demo_recommendations() -> TrainingRun:
    """Train on the purchase history now in the database and make the rules active."""
    return services.train(trigger="demo")
