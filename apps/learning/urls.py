from django.urls import path

from apps.learning import views

app_name = "learning"

urlpatterns = [
    path("", views.models, name="models"),
    path("train/", views.start_training, name="train"),
    path("versions/<int:pk>/", views.model_detail, name="model"),
    # One URL per button of a version (activate, retire, roll back).
    *[
        path(f"versions/<int:pk>/{action}/", views.version_move(action), name=f"model_{action}")
        for action in views.ACTIONS
    ],
    path("training/<int:pk>/", views.training, name="training"),
]
