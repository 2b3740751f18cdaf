from django.urls import path

from . import factor_views, message_views, record_views, views

app_name = "portal"
urlpatterns = [
    path("", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-in/second-step/", views.second_factor, name="second_factor"),
    path("profile/authenticator/", factor_views.add_totp, name="add_totp"),
    path("profile/passkey/", factor_views.add_passkey, name="add_passkey"),
    path("profile/sign-in-methods/<int:factor_id>/remove/", factor_views.remove, name="remove_factor"),
    path("profile/recovery-codes/", factor_views.new_codes, name="new_codes"),
    path("password/new/", views.new_password, name="new_password"),
    path("username/", views.username_offer, name="username_offer"),
    path("home/", views.home, name="home"),
    path("switch/", views.switch, name="switch"),
    path("appointments/", views.appointments, name="appointments"),
    path("profile/", views.profile, name="profile"),
    path("history/", views.history, name="history"),
    path("forgot/", views.forgot, name="forgot"),
    path("reset/", views.reset, name="reset"),
    path("contact/", views.contact, name="contact"),
    path("logo", views.logo, name="logo"),
    path("activate/", views.activate, name="activate"),
    path("activate/<str:token>/", views.activate_link, name="activate_link"),
    path("api/appointments", views.appointments_json, name="api_appointments"),
    # SPEC L7: the messages tab, and the records tabs (account, treatment
    # plan, health summary, documents), all in the "portal" namespace.
    path("messages/", message_views.message_list, name="messages"),
    path("messages/<int:pk>/", message_views.message_thread, name="message_thread"),
    path("account/", record_views.account, name="account"),
    path("account/statements/<int:pk>.pdf", record_views.statement_pdf, name="statement_pdf"),
    path("treatment-plan/", record_views.treatment_plan, name="treatment_plan"),
    path("health-summary/", record_views.health_summary, name="health_summary"),
    path("health-summary.pdf", record_views.health_summary_pdf, name="health_summary_pdf"),
    path("health-summary.json", record_views.health_summary_fhir, name="health_summary_json"),
    path("health-summary/send/", record_views.health_summary_send, name="health_summary_send"),
    path("documents/", record_views.documents, name="documents"),
    path("documents/<int:pk>/", record_views.document_download, name="document_download"),
]
