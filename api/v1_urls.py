from django.urls import path

from . import views

urlpatterns = [
    path("organization/", views.OrganizationView.as_view(), name="organization"),
    path("accounts/", views.AccountList.as_view(), name="accounts"),
    path("accounts/<str:public_id>/", views.AccountDetail.as_view(), name="account"),
    path("batches/", views.BatchList.as_view(), name="batches"),
    path("batches.csv", views.BatchDownload.as_view(), name="batches-csv"),
    path("verify/<str:reference>/", views.Verification.as_view(), name="verify"),
]
