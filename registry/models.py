from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Cast, Concat, Greatest, Length, LPad
from django.utils import timezone

from utilities.time_zones import validate_time_zone


def public_id(prefix: str, width: int) -> models.GeneratedField:
    """A public id computed by the database from the primary key (MM00412, ACT-00031): never typed."""
    digits = Cast("id", models.CharField())
    return models.GeneratedField(
        expression=Concat(
            models.Value(prefix),
            LPad(digits, Greatest(models.Value(width), Length(digits)), models.Value("0")),
        ),
        output_field=models.CharField(max_length=24),
        db_persist=True,
        unique=True,
    )


class Organization(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class Kind(models.TextChoices):
        PARTICIPANT = "participant", "Participant"
        # A program's regulator (or program administrator): its members read, across organizations, the
        # retirements toward the programs it administers (programs.ProgramAdministrator), and nothing else.
        REGULATOR = "regulator", "Regulator"

    class Tier(models.TextChoices):
        """The subscription tier the fee schedule prices (billing.TierFee)."""

        SMALL = "small", "Small"
        MEDIUM = "medium", "Medium"
        LARGE = "large", "Large"

    public_id = public_id("MM", 5)
    name = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.PARTICIPANT,
                            help_text="A regulator's members read the retirements toward the programs it administers.")
    contact_email = models.EmailField(blank=True)
    require_two_factor = models.BooleanField(
        default=False, help_text="Members without two-factor sign-in are sent to set it up before anything else.")
    created_at = models.DateTimeField(default=timezone.now)
    # Billing (billing/): the tier its annual subscription is priced by, and the member its invoices go to
    # (any member; the managers when none is named).
    billing_tier = models.CharField(max_length=16, choices=Tier, default=Tier.SMALL)
    billing_contact = models.ForeignKey("registry.User", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+", help_text="Any member; its invoices are sent there.")
    # Why billing has inactivated it ("": it has not): an invoice unpaid too long. It can sign in, look and
    # pay, but not transfer, retire, upload or issue (certificates.reviews.organization_refusal, the one rule every
    # such path asks), and every page says this. Set and cleared by billing.services only.
    billing_hold = models.CharField(max_length=400, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})" if self.public_id else self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_regulator(self) -> bool:
        return self.kind == self.Kind.REGULATOR


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("Users sign in with an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra_fields)


def registry_time_zone() -> str:
    """A new user's time zone: the registry's own (settings.TIME_ZONE)."""
    return settings.TIME_ZONE


class EmailEvent(models.TextChoices):
    """The emails a user can turn off, one by one (on by default; the settings page lists them)."""

    TRANSFER_RECEIVED = "transfer_received", "A transfer is waiting for us to accept or reject"
    TRANSFER_SENT = "transfer_sent", "A transfer I submitted is on its way (or done, for our own accounts)"
    TRANSFER_ACCEPTED = "transfer_accepted", "A transfer was accepted"
    TRANSFER_REJECTED = "transfer_rejected", "A transfer was rejected"
    TRANSFER_WITHDRAWN = "transfer_withdrawn", "A transfer was withdrawn"
    TRANSFER_EXPIRED = "transfer_expired", "A transfer expired"
    EXPORT_DECIDED = "export_decided", "An export was accepted or rejected by the receiving system"
    UPLOAD_FINISHED = "upload_finished", "A mass-transfer upload I made finished or failed"
    RETIREMENT = "retirement", "A retirement"
    GENERATOR_DECIDED = "generator_decided", "A generator we submitted was approved or sent back"
    CERTIFICATES_ISSUED = "certificates_issued", "Certificates were issued to us"
    # Billing's: to the billing contact, or the managers when none is named (notifications.billing).
    INVOICE_ISSUED = "invoice_issued", "An invoice was issued to us"
    INVOICE_DUE_SOON = "invoice_due_soon", "A reminder that an unpaid invoice is due soon"
    # Managers are sent an overdue invoice's notice whatever they choose: only a billing contact who is not
    # a manager can turn it off.
    INVOICE_OVERDUE = "invoice_overdue", "An invoice is overdue (managers always get this one)"


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Registry staff: may use the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    time_zone = models.CharField(
        max_length=64, default=registry_time_zone, validators=[validate_time_zone],
        help_text="Dates and times on the pages, downloads and emails this user gets are in this zone.")
    email_opt_outs = ArrayField(
        models.CharField(max_length=32, choices=EmailEvent.choices), default=list, blank=True,
        help_text="The emails this user turned off (EmailEvent); every other one is sent.")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def wants_email(self, event: str) -> bool:
        return event not in self.email_opt_outs

    @staticmethod
    def wanting_email(event: str) -> models.Q:
        """The users who have not turned this email off, as a filter (the rule of wants_email)."""
        return ~models.Q(email_opt_outs__contains=[event])


class Membership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        TRADER = "trader", "Trader"
        VIEWER = "viewer", "Viewer"

    # Who may move the organization's certificates (transfer, accept, reject, withdraw, upload):
    # the one definition that the services, the pages and the emails use.
    ROLES_THAT_TRANSFER = (Role.MANAGER.value, Role.TRADER.value)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.organization.name} ({self.role})"

    @property
    def can_transfer(self) -> bool:
        return self.role in self.ROLES_THAT_TRANSFER

    @classmethod
    def roles_that_transfer_text(cls) -> str:
        """Who may move certificates, in words: "a manager or trader" (from ROLES_THAT_TRANSFER)."""
        labels = [cls.Role(role).label.lower() for role in cls.ROLES_THAT_TRANSFER]
        return "a " + (", ".join(labels[:-1]) + " or " + labels[-1] if len(labels) > 1 else labels[0])

    def read_only_note(self, *, may: str = "transfer them") -> str:
        """What this read-only role can do and who may do the rest, as the pages and the 403 page say it:
        "Your role (viewer) can see and download certificates; a manager or trader can transfer them"."""
        return (f"Your role ({self.get_role_display().lower()}) can see and download certificates; "
                f"{self.roles_that_transfer_text()} can {may}.")

    @property
    def is_manager(self) -> bool:
        """Managers run the organization: its members, invitations, accounts and settings."""
        return self.role == self.Role.MANAGER

    @staticmethod
    def manager_only_note(organization: Organization) -> str:
        """The refusal to anyone else, as the pages' 403 and the services' refusals say it."""
        return f"Only a manager of {organization.name} may do this."


class TrackingSystem(models.Model):
    """Another compatible registry that certificates can be exported to."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Invitation(models.Model):
    """An invitation to join an organization with a role, sent by email as a single-use link.

    Only a hash of the link's token is kept: the token itself is in the email and nowhere else. The
    link is also signed with a timestamp (registry.invitations), so a tampered or old link is refused
    before the database is read.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)  # when it was accepted or revoked

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            # One pending invitation per address and organization: inviting again means resending.
            models.UniqueConstraint(fields=["organization", "email"], condition=models.Q(status="pending"),
                                    name="invitation_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization.name} as {self.role} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
