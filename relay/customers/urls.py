from django.urls import path

from relay.customers import views

app_name = "customers"
urlpatterns = [
    path("parties/", views.party_list, name="party_list"),
    path("parties/new/", views.party_create, name="party_create"),
    path("search/", views.party_search, name="party_search"),
    path("parties/<int:pk>/", views.party_detail, name="party_detail"),
    path("parties/<int:pk>/edit/", views.party_edit, name="party_edit"),
    path("parties/<int:pk>/delete/", views.party_delete, name="party_delete"),
    path("parties/<int:pk>/history/", views.party_history, name="party_history"),
    path("parties/<int:pk>/lifecycle/", views.party_lifecycle, name="party_lifecycle"),
    path("parties/<int:pk>/contacts/new/", views.contact_add, name="contact_add"),
    path("parties/<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("parties/<int:pk>/contacts/<int:contact_pk>/delete/", views.contact_delete, name="contact_delete"),
    path("parties/<int:pk>/identifiers/new/", views.identifier_add, name="identifier_add"),
    path(
        "parties/<int:pk>/identifiers/<int:identifier_pk>/edit/",
        views.identifier_edit,
        name="identifier_edit",
    ),
    path(
        "parties/<int:pk>/identifiers/<int:identifier_pk>/delete/",
        views.identifier_delete,
        name="identifier_delete",
    ),
    path("parties/<int:pk>/relationships/new/", views.relationship_add, name="relationship_add"),
    path(
        "parties/<int:pk>/relationships/<int:relationship_pk>/edit/",
        views.relationship_edit,
        name="relationship_edit",
    ),
    path(
        "parties/<int:pk>/relationships/<int:relationship_pk>/delete/",
        views.relationship_delete,
        name="relationship_delete",
    ),
]
