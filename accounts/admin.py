from django.contrib import admin

from .models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "organization", "type", "status", "created_at"]
    list_filter = ["type", "status"]
    search_fields = ["public_id", "name", "organization__name", "organization__public_id"]
    readonly_fields = ["public_id", "status", "created_at"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
