"""The routing admin screens: /routing/ (managers and admins)."""

from django.urls import path

from relay.cases import routing_views as views

app_name = "routing"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:pk>/active/", views.rule_toggle, name="rule_toggle"),
    path("departments/<int:pk>/", views.department_set, name="department_set"),
    path("test/", views.sample_test, name="test"),
    path("test/parties/", views.party_options, name="party_options"),
]
