from django.urls import path

from . import views

# Mounted under /staff/.
app_name = "sheets"
urlpatterns = [
    path("sheets/templates/", views.template_list, name="templates"),
    path("sheets/templates/new/", views.template_new, name="template_new"),
    path("sheets/templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("sheets/templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("patients/<int:pk>/sheets/", views.patient_sheets, name="patient_sheets"),
    path("patients/<int:pk>/sheets/new/", views.sheet_new, name="sheet_new"),
    path("patients/<int:pk>/sheets/<int:sheet_id>/print/", views.sheet_print, name="sheet_print"),
]
