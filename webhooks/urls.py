from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoints, name="list"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="detail"),
    path("<int:endpoint_id>/enable/", views.endpoint_set_active, {"active": True}, name="enable"),
    path("<int:endpoint_id>/disable/", views.endpoint_set_active, {"active": False}, name="disable"),
    path("<int:endpoint_id>/rotate-secret/", views.endpoint_rotate_secret, name="rotate"),
    path("<int:endpoint_id>/secret/", views.endpoint_secret, name="secret"),
    path("<int:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
    path("deliveries/<int:delivery_id>/resend/", views.delivery_resend, name="resend"),
]
