from django.urls import path

from . import views

app_name = "publiclog"
# Public, no sign-in.
urlpatterns = [
    path("", views.auditors, name="auditors"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
]
