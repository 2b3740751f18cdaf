from django.urls import path

from . import views

# Mounted under /staff/.
app_name = "records"
base = "patients/<int:pk>/records/"
urlpatterns = [
    path(base, views.patient_records, name="patient"),
    path(f"{base}ledger/", views.ledger_add, name="ledger_add"),
    path(f"{base}statements/", views.statement_add, name="statement_add"),
    path(f"{base}statements/<int:statement_id>.pdf", views.statement_download, name="statement_pdf"),
    path(f"{base}plans/new/", views.plan_edit, name="plan_new"),
    path(f"{base}plans/<int:plan_id>/", views.plan_edit, name="plan_edit"),
    path(f"{base}documents/", views.document_upload, name="document_upload"),
    path(f"{base}documents/<int:document_id>/", views.document_download, name="document_download"),
    path(
        f"{base}documents/<int:document_id>/visibility/",
        views.document_visibility,
        name="document_visibility",
    ),
]
for kind, plural in (("problem", "problems"), ("medication", "medications"), ("allergy", "allergies")):
    urlpatterns += [
        path(f"{base}{plural}/new/", views.health_edit, {"kind": kind}, name=f"{kind}_new"),
        path(f"{base}{plural}/<int:item_id>/", views.health_edit, {"kind": kind}, name=f"{kind}_edit"),
    ]
