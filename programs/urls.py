from django.urls import path

from . import views

app_name = "programs"
# Included at the root: a participant's programs are an Organization tab; a regulator's, a page of its own.
urlpatterns = [
    path("organization/programs/", views.participation_list, name="participation"),
    path("organization/programs/<int:participation_id>/answer/", views.participation_answer, name="answer"),
    path("organization/programs/<int:participation_id>/accounts/", views.program_account_new, name="account_open"),
    path("programs/", views.administered_list, name="administered"),
    path("programs/<int:program_id>/invite/", views.participant_invite, name="invite"),
]
