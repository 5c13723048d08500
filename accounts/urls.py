from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("<int:account_id>/rename/", views.account_rename_page, name="rename"),
    path("<int:account_id>/close/", views.account_close_page, name="close"),
]
