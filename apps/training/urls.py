from django.urls import path

from apps.compliance.gate import personal_data
from apps.training import views

app_name = "training"

urlpatterns = [
    path("", views.home, name="home"),
    path("exercises/<int:pk>/", views.exercise_detail, name="exercise"),
    path("exercises/<int:pk>/finish/", views.finish, name="finish"),
    # The answers name the planted travellers: the gate asks for a purpose and logs the access.
    personal_data(
        path("exercises/<int:pk>/answers/", views.answers, name="answers"),
        object_type="training exercise",
    ),
]
