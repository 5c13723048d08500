import datetime

import factory
from django.utils import timezone

from accounts.models import Account
from api.models import ApiKey
from certificates.models import FUEL_TECHNOLOGIES, FuelType, Generator, GeneratorEligibility
from registry.models import Membership, Organization, TrackingSystem, User
from retirements.models import RetirementOption
from webhooks.models import EventType, WebhookEndpoint
from webhooks.signing import secret_new


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.org")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password("demo")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.TRADER


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Account {n}")
    type = Account.Type.ACTIVE


RECORDED_FROM = datetime.date(2000, 1, 1)


class GeneratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Generator
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"M{800 + n}")
    name = factory.Sequence(lambda n: f"Prairie Ridge Wind {n}")
    fuel_type = FuelType.WIND
    technology = factory.LazyAttribute(lambda generator: FUEL_TECHNOLOGIES[FuelType(generator.fuel_type)][0])
    capacity_mw = 100
    state = "MN"
    eligibilities = factory.LazyFunction(lambda: ["MN RES", "Green-e"])
    commissioned_on = datetime.date(2015, 6, 1)
    status = Generator.Status.APPROVED
    # Approved now, as staff's decision records it: a generator approved this year has nothing to confirm in
    # the annual review (certificates.reviews) until next year's, so the wall clock locks no test's organization.
    reviewed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def recorded(generator, create, extracted, **kwargs):
        """Registry staff recorded the eligibilities it claims, holding from RECORDED_FROM with no end (so
        every period the tests issue carries them); `recorded=False`: none recorded."""
        if create and extracted is not False:
            GeneratorEligibility.objects.bulk_create([
                GeneratorEligibility(generator=generator, name=name, start_date=RECORDED_FROM)
                for name in generator.eligibilities])


class TrackingSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingSystem
        django_get_or_create = ("code",)

    code = "WREGIS"
    name = "Western Renewable Energy Generation Information System"


class RetirementOptionFactory(factory.django.DjangoModelFactory):
    """Minnesota's RES: a state RPS that needs a compliance period."""

    class Meta:
        model = RetirementOption
        django_get_or_create = ("name",)

    name = "Minnesota RES"
    type = RetirementOption.Type.STATE_RPS
    reason = RetirementOption.Reason.COMPLIANCE
    state = "MN"
    requires_compliance_period = True


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint written as it is stored (webhook_endpoint_create checks its URL in DNS first)."""

    class Meta:
        model = WebhookEndpoint

    organization = factory.SubFactory(OrganizationFactory)
    created_by = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/registry")
    event_types = factory.LazyFunction(lambda: list(EventType.values))
    secret = factory.LazyFunction(secret_new)


def member(organization: Organization, role: str = Membership.Role.TRADER, **user_fields) -> User:
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organization=organization, role=role)
    return user


def api_key_for(user: User, organization: Organization, scope: str = "read", **fields):
    """A key `user` made for `organization` with `scope`: (its ApiKey row, the key itself)."""
    fields.setdefault("name", f"{scope} key")
    return ApiKey.objects.create_key(organization=organization, created_by=user, scope=scope, **fields)
