from django.urls import path

from payments import views, webhooks

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/<str:public_id>/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("webhooks/adyen/<str:public_id>/", webhooks.adyen_webhook, name="adyen-webhook"),
    path("r/<str:token>/", views.retry, name="retry"),
]
