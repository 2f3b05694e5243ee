"""Training runs of the recommender and the rules of each (docs/adr/0017-recommendations.md).

At most one run is `active` (a partial unique constraint); the 360 card reads only its rules. A new run
becomes active in the same transaction that writes its rules and supersedes the previous one, so readers
see the old rule set or the new one, never a mix. Old runs are pruned (their rules with them).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from relay.core.models import RestrictedQuerySet


class RunStatus(models.TextChoices):
    RUNNING = "running", "Training"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    FAILED = "failed", "Failed"


class TrainingRun(models.Model):
    started_at = models.DateTimeField()
    trained_at = models.DateTimeField(null=True, blank=True, help_text="When its rules became active")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=20, default="job", help_text="job, command, demo...")
    parameters = models.JSONField(default=dict, help_text="The thresholds it was trained with")
    customers = models.PositiveIntegerField(default=0, help_text="Customers with purchase history")
    products = models.PositiveIntegerField(default=0, help_text="Products bought by at least one")
    purchases = models.PositiveIntegerField(default=0, help_text="Distinct (customer, product) pairs")
    rule_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    evaluation = models.JSONField(null=True, blank=True, help_text="Held-out figures, when computed")
    error = models.CharField(max_length=200, blank=True, help_text="Why a failed run failed (no data)")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="trainingrun_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"Recommender run {self.pk} ({self.status})"


class ProductRule(models.Model):
    """Customers who bought `antecedent` also bought `consequent`: the counts behind support, confidence and
    lift, so that the explanation and the ratios come from the same integers."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="rules", db_index=False)
    # the card reads the active run's rules of the products a customer owns: the unique index
    # (run, antecedent, consequent) is that lookup
    antecedent = models.ForeignKey("commerce.Product", on_delete=models.CASCADE, related_name="+")
    consequent = models.ForeignKey("commerce.Product", on_delete=models.CASCADE, related_name="+")
    support = models.FloatField()
    confidence = models.FloatField()
    lift = models.FloatField()
    antecedent_customers = models.PositiveIntegerField()
    consequent_customers = models.PositiveIntegerField()
    both_customers = models.PositiveIntegerField()
    customers = models.PositiveIntegerField(help_text="Customers in the run's history")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "antecedent", "-confidence", "-lift"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "antecedent", "consequent"], name="productrule_unique_per_run"
            ),
            models.CheckConstraint(
                condition=Q(both_customers__lte=F("antecedent_customers"))
                & Q(both_customers__lte=F("consequent_customers")),
                name="productrule_counts_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.antecedent_id} -> {self.consequent_id} ({self.confidence:.0%})"
