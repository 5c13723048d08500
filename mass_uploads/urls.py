from django.urls import path

from . import views

app_name = "mass_uploads"
urlpatterns = [
    path("", views.mass_transfers, name="uploads"),
    path("template.csv", views.mass_template, name="template"),
    path("retirement-template.csv", views.mass_retirement_template, name="retirement_template"),
    path("prefilled.csv", views.mass_template_prefilled, name="template_prefilled"),
    path("<int:pk>/", views.mass_upload_detail, name="detail"),
]
