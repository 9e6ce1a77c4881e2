from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
