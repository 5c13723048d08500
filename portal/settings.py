"""One settings module, driven by environment variables.

With no DATABASE_URL / REDIS_URL set, the values written by `make run` (dev.devstack) to
.data/runtime.env are used, so `manage.py` commands reach the embedded services while they run.
"""

import datetime
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from celery.schedules import crontab

from webhooks.signing import RECEIVER_DOCS  # plain text and constants (no Django): safe to import in settings

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("REGISTRY_DATA_DIR", BASE_DIR / ".data"))


def _load_runtime_env() -> None:
    runtime_env = DATA_DIR / "runtime.env"
    if not runtime_env.exists():
        return
    for line in runtime_env.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and name not in os.environ:
            os.environ[name] = value


_load_runtime_env()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_month_day(name: str, default: str) -> tuple[int, int]:
    """A day of the year as MM-DD (01-31), as (month, day); 02-29 is refused, as most years have none."""
    value = os.environ.get(name) or default
    try:
        day = datetime.datetime.strptime(value.strip(), "%m-%d").date().replace(year=2001)  # not a leap year
    except ValueError as error:
        raise RuntimeError(f"{name} must be a day of the year as MM-DD (e.g. 01-31), not {value!r}") from error
    return day.month, day.day


def database_from_url(url: str) -> dict:
    """postgresql://user:password@host:port/name, or ?host=/socket/dir for a Unix socket."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [unquote(parts.hostname or "")])[0]
    server_side = env_bool("DATABASE_SERVER_SIDE_BINDING", True)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": env_str("DATABASE_TEST_NAME") or None},
        # Server-side binding, and psycopg preparing a statement once it has run 5 times on a
        # connection, let PostgreSQL plan the hot statements of the transfer services once per
        # connection instead of on every call. Behind PgBouncer in transaction mode older than 1.21,
        # turn both off (DATABASE_SERVER_SIDE_BINDING=0).
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5} if server_side
        else {"server_side_binding": False},
    }


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or ("insecure-development-key" if DEBUG or not env_bool("PRODUCTION") else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when PRODUCTION is on")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

REGISTRY_NAME = env_str("REGISTRY_NAME", "Midwest Renewable Energy Registry")
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")  # make run sets it to the port it serves
TRANSFER_PENDING_DAYS = env_int("TRANSFER_PENDING_DAYS", 30)
# Granular (hourly, EnergyTag) certificates: the shortest interval a granular generator's generation may be
# reported for (60: hours only; 15: quarter hours too; an interval is never longer than an hour), and how
# many years after its interval's end an interval's certificate expires.
GRANULAR_INTERVAL_MINUTES = env_int("GRANULAR_INTERVAL_MINUTES", 60)
CERTIFICATE_EXPIRY_YEARS = env_int("CERTIFICATE_EXPIRY_YEARS", 2)
# The database connections an issuance run spreads its transactions over (issuance.services.issuance_run): one
# a core of the database server is what pays (bench/hourly_issuance.py); 1 issues one transaction after another.
ISSUANCE_CONNECTIONS = env_int("ISSUANCE_CONNECTIONS", 2)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)  # an invitation link works this many days after it is sent
# Registry staff are emailed, once a day, the generator eligibilities whose good-through date is within this
# many days (each eligibility once, until its good-through date changes).
ELIGIBILITY_REMINDER_DAYS = env_int("ELIGIBILITY_REMINDER_DAYS", 30)
# The public verification page answers each address at most this many times a minute.
VERIFY_REQUESTS_PER_MINUTE = env_int("VERIFY_REQUESTS_PER_MINUTE", 60)
# How often one address may ask for the public statistics' pages, CSV and API in a minute (public_stats).
STATISTICS_REQUESTS_PER_MINUTE = env_int("STATISTICS_REQUESTS_PER_MINUTE", 120)
# The public log of retirements (publiclog/): its origin (the name its checkpoints carry, by
# C2SP's convention a URL without its scheme), its Ed25519 signing key (the base64 of the private
# key's 32 bytes, from `manage.py publiclog_key`; required in production, a development key derived
# from SECRET_KEY otherwise), how often beat signs a checkpoint, and how often one address may ask
# for its endpoints in a minute.
PUBLICLOG_ORIGIN = env_str("PUBLICLOG_ORIGIN") or f"{SITE_URL.split('://', 1)[-1]}/log"
PUBLICLOG_SIGNING_KEY = env_str("PUBLICLOG_SIGNING_KEY")
PUBLICLOG_SIGNING_KEY_REQUIRED = env_bool("PRODUCTION")
PUBLICLOG_CHECKPOINT_SECONDS = env_int("PUBLICLOG_CHECKPOINT_SECONDS", 60)
PUBLICLOG_REQUESTS_PER_MINUTE = env_int("PUBLICLOG_REQUESTS_PER_MINUTE", 120)
# Witnesses (C2SP tlog-witness, tlog-cosignature). The witnesses this log asks to cosign each new
# checkpoint: "<witness verifier key> <its add-checkpoint URL>", comma-separated. As a witness of other
# logs: its name (a URL without scheme), its Ed25519 key (base64 of 32 bytes; a development key from
# SECRET_KEY otherwise, as the signing key), and the logs it witnesses, by their verifier keys.
PUBLICLOG_WITNESSES = env_list("PUBLICLOG_WITNESSES")
PUBLICLOG_WITNESS_NAME = env_str("PUBLICLOG_WITNESS_NAME") or f"{SITE_URL.split('://', 1)[-1]}/witness"
PUBLICLOG_WITNESS_KEY = env_str("PUBLICLOG_WITNESS_KEY")
PUBLICLOG_WITNESSED_LOGS = env_list("PUBLICLOG_WITNESSED_LOGS")
# Registry to registry (imports/messages.py): this registry's code as the registries it trades with name it
# (their TrackingSystem code for it), and its Ed25519 key for the messages it signs (`manage.py imports_key`).
REGISTRY_CODE = env_str("REGISTRY_CODE", "MWRR")
IMPORTS_SIGNING_KEY = env_str("IMPORTS_SIGNING_KEY")
IMPORTS_SIGNING_KEY_REQUIRED = env_bool("PRODUCTION")
MASS_TRANSFER_MAX_ROWS = env_int("MASS_TRANSFER_MAX_ROWS", 50_000)
# A mass upload always ends: each is tried at most this many times (a worker that dies mid-upload
# costs one attempt), and uploads left queued or processing with no worker holding them are queued
# again by a sweep every MASS_UPLOAD_SWEEP_SECONDS, once older than MASS_UPLOAD_STALLED_SECONDS.
MASS_UPLOAD_MAX_ATTEMPTS = env_int("MASS_UPLOAD_MAX_ATTEMPTS", 3)
MASS_UPLOAD_SWEEP_SECONDS = env_int("MASS_UPLOAD_SWEEP_SECONDS", 60)
MASS_UPLOAD_STALLED_SECONDS = env_int("MASS_UPLOAD_STALLED_SECONDS", 60)
MASS_UPLOAD_BUSY_RETRY_SECONDS = env_int("MASS_UPLOAD_BUSY_RETRY_SECONDS", 5)
MASS_UPLOAD_BUSY_RETRIES = env_int("MASS_UPLOAD_BUSY_RETRIES", 120)
# Rows of one generation-data upload (issuance/generation.py): a month of every generator a participant has.
GENERATION_UPLOAD_MAX_ROWS = env_int("GENERATION_UPLOAD_MAX_ROWS", 20_000)
# Imports by conversion (imports/): the rows of an import file registry staff upload, recorded all or nothing.
IMPORT_FILE_MAX_ROWS = env_int("IMPORT_FILE_MAX_ROWS", 1_000)
# Rows of one consumption upload (matching/consumption.py), recorded in the request: a year of a site's hours.
CONSUMPTION_UPLOAD_MAX_ROWS = env_int("CONSUMPTION_UPLOAD_MAX_ROWS", 20_000)
# The annual generator review (certificates/reviews.py): each year from REVIEW_OPENS (MM-DD) every approved
# generator's owner confirms its registration, by REVIEW_DEADLINE (MM-DD, the same year, the day itself
# included); after it, an organization with a generator not confirmed cannot transfer, retire or upload.
# The first year reviewed is REVIEW_FIRST_YEAR (the years before it lock nobody).
REVIEW_OPENS = env_month_day("REVIEW_OPENS", "01-01")
REVIEW_DEADLINE = env_month_day("REVIEW_DEADLINE", "01-31")
REVIEW_FIRST_YEAR = env_int("REVIEW_FIRST_YEAR", 2027)
if REVIEW_DEADLINE < REVIEW_OPENS:
    raise RuntimeError("REVIEW_DEADLINE must not come before REVIEW_OPENS in the year")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "rest_framework",
    "rest_framework_api_key",  # its abstract key model (api.ApiKey); its own APIKey table stays empty
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "registry.apps.RegistryConfig",
    "portal.apps.PortalConfig",
    "accounts",
    "certificates",
    "transfers",
    "programs",
    "retirements",
    "mass_uploads",
    "instructions",
    "issuance",
    "imports",
    "matching",
    "webhooks",
    "api",
    "dashboard",
    "ledger",
    "events",
    "notifications",
    "public_stats",
    "billing",
    "publiclog",
]

MIDDLEWARE = [
    "utilities.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "registry.sessions.SessionTimeoutMiddleware",  # before anything reads the signed-in user's data
    "registry.middleware.CurrentOrganizationMiddleware",
    "registry.middleware.TimeZoneMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a lockout into the lockout page
]

# Sign-in: email and password, then a TOTP code for users who turned two-factor on. Repeated
# failures lock the account, from every address, for a while; a bare address is locked only at a much
# higher count, as an office behind one proxy shares it (django-axes, with registry.lockout).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "registry.auth.RegistryBackend"]
AXES_HANDLER = "registry.lockout.AccountLockoutHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
# The account's lockout holds from every address, so from the address it failed from too.
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]  # in this order: registry.lockout's limits
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in forms' field, and authenticate()'s credential
AXES_USERNAME_CALLABLE = "registry.lockout.sign_in_username"
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# Trying again while locked does not push the time the locked page promised further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "registry.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
OTP_TOTP_ISSUER = env_str("REGISTRY_NAME", "REC Registry")

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "registry.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:certificates"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.context_processors.registry",
            ],
            "builtins": ["utilities.badges"],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/registry")
    )
}
# A streaming replica of that database (PostgreSQL's hot standby), for the reads that may lag: the
# lists, CSVs and statistics whose views say so (utilities.replica: reads_may_lag). Writes, and reads
# after a write in the same request or transaction, stay on the primary, and a browser that wrote reads
# the primary for REPLICA_PIN_SECONDS after (longer than the replica is expected to lag). Tests use the
# primary for it (MIRROR).
REPLICA_DATABASE_URL = env_str("REPLICA_DATABASE_URL")
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = database_from_url(REPLICA_DATABASE_URL) | {"TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["utilities.replica.ReplicaRouter"]
    MIDDLEWARE.append("utilities.replica.ReplicaPinMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Cached results only (the admin's ledger check): every reader falls back to working it out while
# Redis is away, and short socket timeouts keep an unreachable Redis from holding a request.
# Keys are prefixed with the database's name, so two portals (or a test run) sharing a Redis never
# read each other's cached results.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", DATABASES["default"]["NAME"]),
                      "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
# Sessions live in PostgreSQL, with the ledger: an outage or a flush of Redis signs nobody out and
# does not stop anyone signing in. Reading one is a primary-key lookup on each signed-in request.
SESSION_ENGINE = "registry.sessions"  # Django's database sessions (registry.sessions.SessionStore)
# A signed-in session ends after this long without a request, and this long after signing in however
# active (registry.sessions); the cookie and the session's row last no longer than that.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_LIFETIME_HOURS = env_int("SESSION_LIFETIME_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_LIFETIME_HOURS * 3600

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message a worker took but never acknowledged (the worker died) goes back to the queue after this
# long. It must exceed the longest task: the largest mass upload (MASS_TRANSFER_MAX_ROWS rows) takes
# under a minute here; the stalled-upload sweep re-queues a dead worker's upload well before this.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 600)}
# Two portals (or parallel test processes: tests/conftest.py) sharing one Redis database keep their
# queues apart by prefixing every key of the broker with CELERY_BROKER_KEY_PREFIX.
if env_str("CELERY_BROKER_KEY_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEY_PREFIX")
# Emails and webhooks consume the domain events services record; a commit wakes each consumer at
# most once per this many seconds per process (beat runs each every NOTIFICATION_SEND_SECONDS).
NOTIFICATION_NUDGE_SECONDS = env_int("NOTIFICATION_NUDGE_SECONDS", 1)
# The consumers of the domain events (events.services): each claims up to EVENTS_CLAIM_BATCH events
# at a time, holds a claim it runs for EVENTS_LEASE_SECONDS at most (a dead worker's claims are run
# again after it), tries a failed one again after EVENTS_RETRY_FIRST_SECONDS, doubling up to
# EVENTS_RETRY_MAX_SECONDS, and sets it aside for staff (the admin's Claims) after
# EVENTS_MAX_ATTEMPTS failures. A worker runs one consumer for EVENTS_RUN_SECONDS at most at a time.
EVENTS_CLAIM_BATCH = env_int("EVENTS_CLAIM_BATCH", 500)
EVENTS_LEASE_SECONDS = env_int("EVENTS_LEASE_SECONDS", 300)
EVENTS_RETRY_FIRST_SECONDS = env_int("EVENTS_RETRY_FIRST_SECONDS", 30)
EVENTS_RETRY_MAX_SECONDS = env_int("EVENTS_RETRY_MAX_SECONDS", 3600)
EVENTS_MAX_ATTEMPTS = env_int("EVENTS_MAX_ATTEMPTS", 10)
EVENTS_RUN_SECONDS = env_int("EVENTS_RUN_SECONDS", 60)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Emails and webhook deliveries wait on other people's servers: every task that sends them is named
# send_* and goes to the "outbound" queue, which a worker pool of its own consumes (`make run` and
# compose start it), so that no slow receiver or mail server delays uploads, issuance or expiry (the
# default queue, "celery").
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"*.tasks.send_*": {"queue": "outbound"}}
CELERY_BEAT_SCHEDULE = {
    # Each consumer of the domain events (emails, webhooks), in case a wake-up after a commit was lost.
    "send-events": {
        "task": "events.tasks.send_events_to_every_consumer",
        "schedule": env_int("NOTIFICATION_SEND_SECONDS", 10),
    },
    "requeue-stalled-mass-uploads": {
        "task": "mass_uploads.tasks.requeue_stalled_mass_uploads",
        "schedule": MASS_UPLOAD_SWEEP_SECONDS,
    },
    "requeue-stalled-generation-uploads": {
        "task": "issuance.tasks.requeue_stalled_generation_uploads",
        "schedule": MASS_UPLOAD_SWEEP_SECONDS,
    },
    "expire-pending-transfers": {
        "task": "transfers.tasks.expire_pending_transfers",
        "schedule": env_int("EXPIRY_CHECK_SECONDS", 3600),
    },
    "expire-certificates": {"task": "certificates.tasks.expire_certificates",
                            "schedule": env_int("EXPIRY_CHECK_SECONDS", 3600)},
    "clear-expired-sessions": {"task": "registry.tasks.clear_expired_sessions", "schedule": 3600},
    "send-webhook-deliveries": {
        "task": "webhooks.tasks.send_webhook_deliveries",
        "schedule": env_int("WEBHOOKS_SEND_SECONDS", 60),
    },
    "sign-log-checkpoint": {
        "task": "publiclog.tasks.sign_log_checkpoint",
        "schedule": PUBLICLOG_CHECKPOINT_SECONDS,
    },
    "purge-idempotent-requests": {"task": "api.tasks.purge_idempotent_requests", "schedule": 3600},
    # Daily: what was sent to and received from each registry running this project, compared with it.
    "send-reconciliations": {"task": "imports.tasks.send_reconciliations", "schedule": crontab(minute=15, hour=5)},
    # Daily, early: staff's email of the eligibilities that end within ELIGIBILITY_REMINDER_DAYS.
    "remind-expiring-eligibilities": {"task": "certificates.tasks.remind_expiring_eligibilities",
                                      "schedule": crontab(minute=0, hour=6)},
    # Billing: the invoices of the period that ended, once per organization (a second run issues none).
    "issue-invoices": {"task": "billing.tasks.issue_invoices", "schedule": crontab(minute=30, hour=0)},
    "charge-late-fees-and-inactivate": {"task": "billing.tasks.charge_late_fees_and_inactivate",
                                        "schedule": crontab(minute=45, hour=0)},
    # Billing: a reminder of each unpaid invoice due within its schedule's reminder_days, once.
    "remind-invoices-due": {"task": "billing.tasks.remind_invoices_due", "schedule": crontab(minute=0, hour=7)},
    # A program's retirement accounts freeze within this long after its close date's day ends.
    "freeze-closed-program-accounts": {
        "task": "programs.tasks.freeze_closed_program_accounts",
        "schedule": env_int("PROGRAM_CLOSE_CHECK_SECONDS", 3600),
    },
}

# Billing (billing/): one currency per registry (its places, from ISO 4217: USD 2, JPY 0), and the
# billing period in months (1 monthly, 3 quarterly; aligned on January).
BILLING_CURRENCY = env_str("BILLING_CURRENCY", "USD")
REGISTRY_ADDRESS = env_str("REGISTRY_ADDRESS")  # on invoices; lines separated by "; "
BILLING_PERIOD_MONTHS = env_int("BILLING_PERIOD_MONTHS", 1)
if 12 % BILLING_PERIOD_MONTHS:
    raise RuntimeError("BILLING_PERIOD_MONTHS must divide a year: 1, 2, 3, 4, 6 or 12")

# Webhooks (webhooks/): an endpoint is https on the public internet, except the hosts listed here (for
# local development and the tests: http, and local addresses, are allowed for them). An attempt has
# WEBHOOKS_ATTEMPT_SECONDS in all (connecting, sending, the whole answer); a delivery is tried again
# after WEBHOOKS_RETRY_FIRST_SECONDS, doubling up to WEBHOOKS_RETRY_MAX_SECONDS, until
# WEBHOOKS_RETRY_HOURS after it was owed.
WEBHOOKS_ALLOW_HTTP_HOSTS = env_list("WEBHOOKS_ALLOW_HTTP_HOSTS")
WEBHOOKS_ATTEMPT_SECONDS = env_int("WEBHOOKS_ATTEMPT_SECONDS", 10)
WEBHOOKS_RETRY_FIRST_SECONDS = env_int("WEBHOOKS_RETRY_FIRST_SECONDS", 30)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_RETRY_HOURS = env_int("WEBHOOKS_RETRY_HOURS", 24)
WEBHOOKS_MAX_ENDPOINTS = env_int("WEBHOOKS_MAX_ENDPOINTS", 10)
WEBHOOKS_RUN_SECONDS = env_int("WEBHOOKS_RUN_SECONDS", 45)  # one task's attempts stop after this long
# A replaced signing secret signs alongside the new one this long (two signatures), then is dropped.
WEBHOOKS_SECRET_GRACE_HOURS = env_int("WEBHOOKS_SECRET_GRACE_HOURS", 24)

# Mail: SMTP when EMAIL_HOST is set, otherwise the console and .data/mail/.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "registry@localhost")
if env_str("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "utilities.mail.ConsoleAndFileEmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    }

AUTH_PASSWORD_VALIDATORS = [  # Django's four, for a password chosen by invitation, reset or change
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ["email", "full_name"]}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/Chicago")
USE_I18N = False
USE_TZ = True
# Dates, date-times and numbers are written one way everywhere: portal/formats/en/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's target in production; elsewhere WhiteNoise and runserver serve from the finders.
STATIC_ROOT = BASE_DIR / "staticfiles" if env_bool("PRODUCTION") else None
WHITENOISE_USE_FINDERS = not env_bool("PRODUCTION")
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or not env_bool("PRODUCTION")
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# htmx is served from our own static files; no inline scripts anywhere.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# The API (api/): keys only (no session, so no CSRF to guard), JSON only, errors as problem
# details, a rate per key counted in Redis, cursor pagination for the long lists.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyThrottle"],
    # Requests a key may make: "<n>/second", "/minute", "/hour" or "/day".
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("API_RATE_PER_KEY", "1200/minute")},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "URL_FORMAT_OVERRIDE": None,  # the Accept header chooses (?format= is no parameter of ours)
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{REGISTRY_NAME} API",
    "DESCRIPTION": "The account-holder API: what the portal does, for an organization's own systems. Every "
                   "request carries `Authorization: Api-Key <key>` (a key a manager creates on Organization → "
                   "API keys) and acts for the key's organization, within the key's scope. Every POST carries an "
                   "`Idempotency-Key` header. Errors are RFC 9457 problem details (`application/problem+json`).\n\n"
                   "Every date-time, in answers and in webhook deliveries, is ISO 8601 in UTC, written with `Z` "
                   "(e.g. `2026-12-01T20:05:00.123456Z`); dates are `YYYY-MM-DD`, months `YYYY-MM`. (A retirement's "
                   "verification `record` keeps `retired_at` as its digest was computed: UTC, `+00:00`, to the "
                   "second.)\n\n"
                   "Each key may make a number of requests a minute; every answer says where it stands, with the "
                   "headers `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the "
                   "window ends); beyond the limit, a 429 with `Retry-After`. A 201 names what it made in "
                   "`Location`.\n\n"
                   + RECEIVER_DOCS,
    "VERSION": "1.0.0",
    # 3.1: for `webhooks`, what the registry sends (api.schema.WEBHOOKS); and a nullable reference is
    # `oneOf: [{$ref}, {type: null}]`, which every tool reads alike.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "api.schema.WEBHOOKS",
    "SERVERS": [{"url": SITE_URL, "description": REGISTRY_NAME}],
    "CONTACT": {"name": REGISTRY_NAME, "url": SITE_URL},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.postprocess_schema"],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENFORCE_NON_BLANK_FIELDS": True,  # a text field that refuses "" says so (minLength: 1)
    # Choice sets that share a field name get a name each (not a hash) in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TransferTypeEnum": "transfers.models.Transfer.Kind", "TransferStatusEnum": "transfers.models.Transfer.Status",
        "MassUploadStatusEnum": "mass_uploads.models.MassTransferUpload.Status",
        "BatchStatusEnum": "certificates.models.CertificateBatch.Status",
        "InternalDestinationTypeEnum": ["internal"], "OrganizationDestinationTypeEnum": ["organization"],
        "ExportDestinationTypeEnum": ["export"],
        "InvoiceStatusEnum": "billing.selectors.INVOICE_STATUSES", "ChargeKindEnum": "billing.values.ChargeKind",
        "MassUploadKindEnum": "mass_uploads.models.MassTransferUpload.Kind",
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
if env_bool("PRODUCTION"):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's and Docker's health checks
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# One JSON object a line in production (LOG_FORMAT=json), with the request id and the user.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "utilities.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "utilities.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request"],
                             "formatter": env_str("LOG_FORMAT", "json" if env_bool("PRODUCTION") else "text")}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
