from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("r/<str:token>/", views.retry, name="retry"),
]
