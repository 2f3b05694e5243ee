from django.urls import path

from relay.customers import views

app_name = "customers"
urlpatterns = [
    path("parties/", views.party_list, name="party_list"),
]
