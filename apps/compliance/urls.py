from django.urls import path

from apps.compliance import views

app_name = "compliance"

urlpatterns = [
    path("purpose/", views.purpose, name="purpose"),
    path("access-log/", views.access_log, name="log"),
    path("unmasking/", views.unmask_requests, name="unmask"),
    path("unmasking/<int:pk>/decide/", views.decide, name="decide"),
    path("subjects/<int:subject_pk>/unmask/", views.ask_unmask, name="ask_unmask"),
    path("integrity/", views.oversight, name="oversight"),
]
