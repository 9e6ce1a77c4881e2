from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("t/<str:token>/", views.page, name="page"),
    path("track/<slug:slug>/", views.lookup, name="lookup"),
]
