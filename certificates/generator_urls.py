from django.urls import path

from . import views

app_name = "generators"
urlpatterns = [
    path("", views.generator_list, name="list"),
    path("new/", views.generator_new, name="new"),
    path("<int:generator_id>/", views.generator_detail, name="detail"),
    path("<int:generator_id>/edit/", views.generator_edit, name="edit"),
    path("<int:generator_id>/submit/", views.generator_submit_page, name="submit"),
    path("<int:generator_id>/confirm/", views.generator_confirm_page, name="confirm"),
]
