from django.urls import path

from . import views

app_name = "staffauth"
urlpatterns = [
    path("login/verify/", views.verify, name="verify"),
    path("security/", views.security, name="security"),
    path("security/authenticator/", views.add_totp, name="add_totp"),
    path("security/passkey/", views.add_passkey, name="add_passkey"),
    path("security/<int:factor_id>/remove/", views.remove, name="remove"),
    path("security/recovery-codes/", views.new_codes, name="new_codes"),
]
