from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("download.csv", views.download_csv, name="download"),
    path("selection/", views.selection, name="selection"),
]
