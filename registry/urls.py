from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.members, name="list"),
    path("two-factor/", views.members_two_factor, name="two-factor"),
    path("<int:member_id>/role/", views.member_role, name="role"),
    path("<int:member_id>/remove/", views.member_remove_confirm, name="remove"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_manage, {"action": "resend"}, name="resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_manage, {"action": "revoke"}, name="revoke"),
]
