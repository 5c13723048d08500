from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "transfers"

    def ready(self):
        # The Certificates dashboard (a layer below) shows three tabs of transfers; this app fills them.
        from certificates import views as dashboard

        from .selectors import transfers_incoming_pending_count
        from .views import dashboard_pending_tab, dashboard_retired_tab, dashboard_transactions_tab

        dashboard.TRANSFER_TABS.update(pending=dashboard_pending_tab, retired=dashboard_retired_tab,
                                       transactions=dashboard_transactions_tab)
        # The Pending tab's label counts the transfers waiting for the organization's decision.
        dashboard.TAB_COUNTS.update(pending=transfers_incoming_pending_count)
