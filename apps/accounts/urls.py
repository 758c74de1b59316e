from django.urls import path

from apps.accounts import views
from apps.accounts.oidc import SsoCallbackView, SsoStartView

app_name = "accounts"

urlpatterns = [
    path("second-factor/enrol/", views.enrol, name="enrol"),
    path("second-factor/verify/", views.verify, name="verify"),
    path("second-factor/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("sso/start/", SsoStartView.as_view(), name="sso-start"),
    path("sso/callback/", SsoCallbackView.as_view(), name="sso-callback"),
    path("sso/refused/", views.sso_refused, name="sso-refused"),
]
