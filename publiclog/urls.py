from django.urls import path

from . import views

app_name = "publiclog"
# Public, no sign-in.
urlpatterns = [
    path("", views.auditors, name="auditors"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("witness/add-checkpoint", views.witness_add_checkpoint, name="witness_add_checkpoint"),  # C2SP tlog-witness
]
