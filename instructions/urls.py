from django.urls import path

from . import views

app_name = "instructions"
urlpatterns = [
    path("", views.instruction_list, name="list"),
    path("new/", views.instruction_new, name="new"),
    path("<int:pk>/", views.instruction_detail, name="detail"),
    path("<int:pk>/end/", views.instruction_end_page, name="end"),
]
