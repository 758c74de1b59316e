from django.urls import path

from apps.handover import views

app_name = "handover"

urlpatterns = [
    path("", views.handover_list, name="list"),
    path("prepare/", views.prepare, name="prepare"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/items/", views.add_item, name="add_item"),
    path("<int:pk>/items/<int:item_pk>/close/", views.close_item, name="close_item"),
    path("<int:pk>/refresh/", views.refresh, name="refresh"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
]
