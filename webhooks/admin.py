from django.contrib import admin

from utilities.admin_readonly import ReadOnlyAdmin, admin_link

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """Read-only for staff; the signing secret is never shown."""

    list_display = ("url", "organization", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organization__name", "organization__public_id")
    exclude = ("secret",)
    list_select_related = ("organization",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("event_type", "event_id", "endpoint_link", "status", "attempts", "last_response_code",
                    "created_at", "next_attempt_at")
    list_filter = ("status", "event_type")
    search_fields = ("=event_id", "endpoint__url")
    list_select_related = ("endpoint",)

    @admin.display(description="endpoint")
    def endpoint_link(self, delivery):
        return admin_link(delivery.endpoint)
