from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/", views.storefront, name="storefront"),
    path("<slug:slug>/lost-sales/", views.lost_sales, name="lost-sales"),
    path("<slug:slug>/lost-sales/<int:pk>/", views.lost_sale, name="lost-sale"),
    path("<slug:slug>/lost-sales/<int:pk>/stop/", views.stop_sequence, name="stop-sequence"),
]
