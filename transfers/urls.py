from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("<int:pk>/", views.transfer_detail, name="detail"),
    path("mass/", views.mass_transfers, name="mass"),
]
