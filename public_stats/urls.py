from django.urls import path

from . import views

app_name = "public_stats"
# Public, no sign-in.
urlpatterns = [
    path("", views.statistics, name="statistics"),
    path("statistics.csv", views.statistics_csv, name="statistics_csv"),
    path("generators/", views.generators, name="generators"),
    path("generators.csv", views.generators_csv, name="generators_csv"),
]
