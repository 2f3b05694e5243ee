"""The SLA editors: /sla/ (managers and admins)."""

from django.urls import path

from relay.cases import sla_views as views

app_name = "sla"
urlpatterns = [
    path("", views.policy_list, name="policies"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/preview/", views.policy_preview, name="policy_preview"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("policies/<int:pk>/active/", views.policy_toggle, name="policy_toggle"),
    path("calendars/", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/preview/", views.calendar_preview, name="calendar_preview"),
    path("calendars/regions/", views.subdivisions, name="subdivisions"),
    path("calendars/<int:pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("departments/", views.department_list, name="departments"),
    path("departments/<int:pk>/", views.department_set, name="department_set"),
]
