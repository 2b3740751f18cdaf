"""Included by molar/portal/urls.py without an app_name of its own, so these
names live in the "portal" namespace: `portal:account`, `portal:documents`..."""

from django.urls import path

from . import portal_views as views

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/statements/<int:pk>.pdf", views.statement_pdf, name="statement_pdf"),
    path("treatment-plan/", views.treatment_plan, name="treatment_plan"),
    path("health-summary/", views.health_summary, name="health_summary"),
    path("health-summary.pdf", views.health_summary_pdf, name="health_summary_pdf"),
    path("health-summary.json", views.health_summary_fhir, name="health_summary_json"),
    path("health-summary/send/", views.health_summary_send, name="health_summary_send"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
]
