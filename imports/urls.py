from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
]
