from django.urls import path

from apps.learning import views

app_name = "learning"

urlpatterns = [
    path("", views.models, name="models"),
    path("train/", views.start_training, name="train"),
    path("versions/<int:pk>/", views.model_detail, name="model"),
    path("training/<int:pk>/", views.training, name="training"),
]
