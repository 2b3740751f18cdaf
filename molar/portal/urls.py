from django.urls import include, path

from . import factor_views, views

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
    path("", include("molar.messaging.portal_urls")),
    path("", include("molar.records.portal_urls")),
]
