import factory
from django.contrib.auth import get_user_model

from storefront_settings.models import Membership, Storefront


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"merchant{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class StorefrontFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Storefront

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    storefront = factory.SubFactory(StorefrontFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER
