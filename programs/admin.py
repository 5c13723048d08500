from django.contrib import admin

from .admin_participants import ParticipantsAdminMixin
from .models import Program


@admin.register(Program)
class ProgramAdmin(ParticipantsAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "jurisdiction", "compliance_year", "close_date", "invite_link"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "jurisdiction"]
    inlines = ParticipantsAdminMixin.participants_inlines

    def get_urls(self):
        return [*self.participant_urls(), *super().get_urls()]
