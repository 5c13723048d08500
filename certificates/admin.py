from django.contrib import admin

from registry.admin_readonly import ReadOnlyAdmin

from .models import Certificate, CertificateBatch, Generator


@admin.register(Generator)
class GeneratorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "organization", "fuel_type", "state", "capacity_mw"]
    list_filter = ["fuel_type", "state"]
    search_fields = ["code", "name", "organization__name"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["serial_base", "generator", "vintage", "quantity", "issued_at"]
    list_filter = ["fuel_type", "state"]
    search_fields = ["serial_base", "generator__code", "generator__name"]
    date_hierarchy = "vintage"
    list_select_related = ["generator"]


@admin.register(CertificateBatch)
class CertificateBatchAdmin(ReadOnlyAdmin):
    list_display = ["serial_number", "quantity", "account", "status", "parent", "created_at"]
    list_filter = ["status"]
    search_fields = ["certificate__serial_base", "account__public_id", "account__organization__name"]
    list_select_related = ["certificate", "account"]
