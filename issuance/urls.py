from django.urls import path

from . import views

app_name = "issuance"
urlpatterns = [
    path("", views.generation_reports, name="reports"),
    path("uploads/", views.generation_uploads, name="uploads"),
    path("uploads/template.csv", views.generation_template, name="template"),
    path("uploads/interval-template.csv", views.interval_template, name="interval_template"),
    path("uploads/<int:pk>/", views.generation_upload_detail, name="upload"),
    path("issuances/<int:pk>/", views.issuance_detail, name="issuance"),
    path("corrections/<int:pk>/evidence/", views.correction_evidence, name="correction_evidence"),
]
