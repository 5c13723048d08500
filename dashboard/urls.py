from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="certificates"),
    path("download.csv", views.download_csv, name="download"),
    path("selection/", views.selection, name="selection"),
]
