from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from branch_ops import api, health, views
from branch_ops.floor import customer_page as floor_customer_page
from complaints import api as complaints_api
from customer_service import api as cs_api
from teller import api as teller_api

api_v1 = [
    path("me/", api.MeApi.as_view(), name="me"),
    path("branches/<str:code>/", api.BranchDetailApi.as_view(), name="branch-detail"),
    path("staff/", api.StaffListApi.as_view(), name="staff-list"),
    path("approvals/", api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<str:approval_id>/", api.ApprovalDetailApi.as_view(), name="approval-detail"),
    path("approvals/<str:approval_id>/approve/", api.ApprovalApproveApi.as_view(), name="approval-approve"),
    path("approvals/<str:approval_id>/reject/", api.ApprovalRejectApi.as_view(), name="approval-reject"),
    path("approvals/<str:approval_id>/cancel/", api.ApprovalCancelApi.as_view(), name="approval-cancel"),
    path("audit/events/", api.AuditEventListApi.as_view(), name="audit-list"),
    path("audit/verification/", api.AuditVerificationApi.as_view(), name="audit-verification"),
    path("events/", api.EventFeedApi.as_view(), name="event-feed"),
    path("service-accounts/", api.ServiceAccountListCreateApi.as_view(), name="service-account-list"),
    path("tokens/", api.TokenListIssueApi.as_view(), name="token-list"),
    path("tokens/<uuid:token_id>/revoke/", api.TokenRevokeApi.as_view(), name="token-revoke"),
    path("tokens/<uuid:token_id>/rotate/", api.TokenRotateApi.as_view(), name="token-rotate"),
    path("webhooks/", api.WebhookListCreateApi.as_view(), name="webhook-list"),
    path("webhooks/<uuid:subscription_id>/", api.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<uuid:subscription_id>/rotate-secret/", api.WebhookRotateApi.as_view(), name="webhook-rotate"),
    path("webhooks/<uuid:subscription_id>/deactivate/", api.WebhookDeactivateApi.as_view(), name="webhook-deactivate"),
    path("webhooks/<uuid:subscription_id>/deliveries/", api.WebhookDeliveryListApi.as_view(),
         name="webhook-deliveries"),
    path("webhook-deliveries/<uuid:delivery_id>/redeliver/", api.WebhookRedeliverApi.as_view(),
         name="webhook-redeliver"),
    path("customers/", accounts_api.CustomerListCreateApi.as_view(), name="customer-list"),
    path("customers/<str:number>/", accounts_api.CustomerDetailApi.as_view(), name="customer-detail"),
    path("customers/<str:number>/signature/", accounts_api.CustomerSignatureApi.as_view(), name="customer-signature"),
    path("accounts/opening-requests/", accounts_api.AccountOpenRequestApi.as_view(), name="account-open-request"),
    path("accounts/<str:number>/", accounts_api.AccountDetailApi.as_view(), name="account-detail"),
    path("accounts/<str:number>/balance/", accounts_api.AccountBalanceApi.as_view(), name="account-balance"),
    path("accounts/<str:number>/statement/", accounts_api.AccountStatementApi.as_view(), name="account-statement"),
    path("accounts/<str:number>/freeze-requests/", accounts_api.AccountFreezeRequestApi.as_view(),
         name="account-freeze-request"),
    path("accounts/<str:number>/unfreeze-requests/", accounts_api.AccountUnfreezeRequestApi.as_view(),
         name="account-unfreeze-request"),
    path("accounts/<str:number>/close-requests/", accounts_api.AccountCloseRequestApi.as_view(),
         name="account-close-request"),
    path("transfers/", accounts_api.TransferCreateApi.as_view(), name="transfer-create"),
    path("teller/session/", teller_api.SessionApi.as_view(), name="teller-session"),
    path("teller/session/open/", teller_api.SessionOpenApi.as_view(), name="teller-session-open"),
    path("teller/session/close/", teller_api.SessionCloseApi.as_view(), name="teller-session-close"),
    path("teller/journal/", teller_api.JournalApi.as_view(), name="teller-journal"),
    path("teller/vault-transfers/", teller_api.VaultTransferRequestApi.as_view(), name="vault-transfer-request"),
    path("teller/vault-transfers/<uuid:transfer_id>/confirm/", teller_api.VaultTransferConfirmApi.as_view(),
         name="vault-transfer-confirm"),
    path("teller/vault-transfers/<uuid:transfer_id>/reject/", teller_api.VaultTransferRejectApi.as_view(),
         name="vault-transfer-reject"),
    path("teller/deposits/", teller_api.CashDepositApi.as_view(), name="cash-deposit"),
    path("teller/withdrawals/", teller_api.CashWithdrawalApi.as_view(), name="cash-withdrawal"),
    path("teller/operations/<str:reference>/", teller_api.OperationDetailApi.as_view(), name="cash-operation"),
    path("teller/operations/<str:reference>/reversal-requests/", teller_api.ReversalRequestApi.as_view(),
         name="cash-reversal-request"),
    path("teller/rates/", teller_api.RateBoardApi.as_view(), name="rate-board"),
    path("teller/alerts/", teller_api.CashAlertsApi.as_view(), name="cash-alerts"),
    path("teller/quotes/", teller_api.QuoteApi.as_view(), name="exchange-quote"),
    path("teller/exchanges/", teller_api.ExchangeApi.as_view(), name="cash-exchange"),
    path("teller/payments/", teller_api.OutgoingPaymentApi.as_view(), name="outgoing-payment"),
    path("service-requests/", cs_api.RequestListCreateApi.as_view(), name="service-request-list"),
    path("service-requests/<str:number>/", cs_api.RequestDetailApi.as_view(), name="service-request-detail"),
    path("service-requests/<str:number>/statement.csv", cs_api.StatementCsvApi.as_view(),
         name="service-request-statement-csv"),
    path("service-requests/<str:number>/statement.pdf", cs_api.StatementPdfApi.as_view(),
         name="service-request-statement-pdf"),
    path("customers/<str:number>/offers/", cs_api.CustomerOffersApi.as_view(), name="customer-offers"),
    *[path(f"service-requests/<str:number>/{action}/", cs_api.action_view(action),
           name=f"service-request-{action}")
      for action in ("submit", "claim", "start", "fulfil", "cancel", "advance-cheque-book")],
    path("complaints/", complaints_api.ComplaintListCreateApi.as_view(), name="complaint-list"),
    path("complaints/report/", complaints_api.ComplaintReportApi.as_view(), name="complaint-report"),
    path("complaints/<str:number>/", complaints_api.ComplaintDetailApi.as_view(), name="complaint-detail"),
    path("complaints/<str:number>/letter/", complaints_api.ComplaintLetterApi.as_view(), name="complaint-letter"),
    *[path(f"complaints/<str:number>/{action}/", complaints_api.action_view(action), name=f"complaint-{action}")
      for action in complaints_api.ACTIONS],
    path("floor/lobby/", include("branch_ops.floor.lobby.api_urls")),
    path("floor/", include("branch_ops.floor.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("login/code/", views.two_factor_verify, name="two-factor-verify"),
    path("login/two-factor-setup/", views.two_factor_setup, name="two-factor-setup"),
    path("two-factor/backup-codes/", views.two_factor_backup_codes, name="two-factor-backup-codes"),
    path("reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("branch_ops.floor.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("floor/customers/<str:customer_number>/complaints/", floor_customer_page.customer_complaints_panel,
         name="floor-customer-complaints"),
    path("", include("accounts.urls")),
    path("", include("teller.urls")),
    path("", include("customer_service.urls")),
    path("", include("complaints.urls")),
    path("floor/lobby/", include("branch_ops.floor.lobby.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # the split view serves Swagger UI's start-up script as a file: no inline script (CSP)
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="api-docs"),
    path("admin/login/", views.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
]

handler404 = "branch_ops.views.not_found"
handler500 = "branch_ops.views.server_error"
handler403 = "branch_ops.views.forbidden"

