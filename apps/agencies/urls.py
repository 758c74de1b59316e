from django.urls import path

from apps.agencies import views

app_name = "agencies"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("ports/<str:locode>/", views.port_detail, name="port"),
    path("people/", views.people, name="people"),
]
