from django.urls import path

from . import views

app_name = "matching"
# Included at the root: the pages under /matching/, and the public statement beside its retirement's
# verification page (/verify/<reference>/hours/).
urlpatterns = [
    path("matching/", views.matching_sites, name="sites"),
    path("matching/sites/new/", views.site_new, name="site_new"),
    path("matching/consumption/", views.consumption_upload, name="upload"),
    path("matching/consumption-template.csv", views.consumption_template, name="template"),
    path("matching/sites/<str:code>/", views.site_detail, name="site"),
    path("matching/sites/<str:code>/match/", views.site_match, name="match"),
    path("matching/statements/<str:reference>/", views.statement_detail, name="statement"),
    path("matching/statements/<str:reference>/statement.pdf", views.statement_detail_pdf, name="statement_pdf"),
    path("verify/<str:reference>/hours/", views.statement_verify, name="verify"),
    path("verify/<str:reference>/hours.json", views.statement_verify_json, name="verify_json"),
    path("verify/<str:reference>/hours.pdf", views.statement_verify_pdf, name="verify_pdf"),
]
