"""RATC Ops settings: one file, read from the environment through the typed helpers in ``env``.

With nothing set the project runs embedded: SQLite, the in-memory channel layer and Celery tasks run
inline. ``DATABASE_URL`` switches to PostgreSQL (psycopg 3), ``REDIS_URL`` to the Redis channel layer and
Celery broker, ``DJANGO_ENV=production`` to hardened settings.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url

from ratc_ops.env import (
    env_bool,
    env_choice,
    env_int,
    env_json_object,
    env_list,
    env_rate,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED_DATA_DIR = Path(env_str("RATC_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))

DJANGO_ENV = env_choice("DJANGO_ENV", "development", ("development", "test", "production"))
PRODUCTION = DJANGO_ENV == "production"

# A demo is shown to people who did not write it: no tracebacks, our own error pages (DJANGO_DEBUG=1
# still turns DEBUG on for whoever debugs it). WhiteNoise serves static files with or without DEBUG.
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION and not env_bool("RATC_DEMO", default=False))
if PRODUCTION and DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")

SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY",
    required=PRODUCTION,
    # Only ever used for the embedded laptop mode; production refuses to start without a real key.
    fallback="embedded-development-only-key-not-for-production-use-3f9a7c1e",
)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The floor simulator (apps.simulator: the demo's traffic and staff, a training floor's arrivals) is
# installed only where made-up data belongs: the demo (RATC_DEMO), a training floor (RATC_TRAINING), and
# the tools that read every app: the test suite (pytest-django loads these settings with pytest
# imported), the processes a test starts (pytest sets PYTEST_CURRENT_TEST while a test runs: they
# migrate and serve the same apps as the test) and the type checker (django-stubs loads these settings
# inside mypy). A live centre runs without it.
_TOOLING = not {"pytest", "mypy"}.isdisjoint(sys.modules) or bool(env_str("PYTEST_CURRENT_TEST"))
SIMULATOR_INSTALLED = (
    env_bool("RATC_DEMO", default=False) or env_bool("RATC_TRAINING", default=False) or _TOOLING
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "template_partials",
    "apps.core",
    "apps.agencies",
    "apps.intake",
    "apps.entities",
    "apps.watchlists",
    "apps.risk",
    "apps.learning",
    "apps.targeting",
    "apps.frontline",
    "apps.reports",
    "apps.compliance",
    "apps.live",
    "apps.integrations",
    "apps.alerts",
    *(["apps.simulator"] if SIMULATOR_INSTALLED else []),
    "apps.training",
    "apps.handover",
    "apps.quality",
    # Sign-in (apps.accounts, docs/sign-in.md): single sign-on and the second factor.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "mozilla_django_oidc",
    "apps.accounts",
    "axes",
    "django_celery_beat",
    "django_prometheus",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request's id (apps.core.observability).
    "apps.core.observability.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user, membership, agency and ports read in one query (apps.accounts.principal).
    "apps.accounts.principal.PrincipalAuthenticationMiddleware",
    # The database out of reach (a restart): 503 with Retry-After, not a 500 (apps.core.unavailable).
    "apps.core.unavailable.DatabaseUnavailableMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # From here on request.user is the user itself, not two lazy stand-ins (apps.accounts.middleware).
    "apps.accounts.middleware.UserInHandMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.agencies.middleware.MembershipMiddleware",
    # A password alone does not open the floor to roles that see personal data (apps.accounts).
    "apps.accounts.middleware.SecondFactorMiddleware",
    # Last but for the metrics, as django-axes asks: it turns a flagged sign-in into our lockout page.
    "axes.middleware.AxesMiddleware",
    # Outermost on the way back: it only observes (django-prometheus asks for it last).
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "ratc_ops.urls"
ASGI_APPLICATION = "ratc_ops.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
            ],
            # Named fragments ({% partialdef %}) are used by every page that htmx refreshes in part.
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})
        # Under Daphne requests run on short-lived threads: a persistent connection (DB_CONN_MAX_AGE)
        # belongs to one of them, so a process keeps one open per request it ever ran at once. A pool
        # of DB_POOL_SIZE connections per process is bounded and shared by all of its threads.
        if DB_POOL_SIZE := env_int("DB_POOL_SIZE", 0, minimum=0, maximum=100):
            if DATABASES["default"]["CONN_MAX_AGE"]:
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured("Set DB_POOL_SIZE or DB_CONN_MAX_AGE, not both.")
            DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DB_POOL_SIZE, "timeout": 10}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "ratc_ops.sqlite3")),
            # The embedded mode runs the server, the simulator and inline tasks against one file:
            # WAL and a generous busy timeout keep them from tripping over each other's locks.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Tests use a file as well, not Django's default in-memory database: a live server's request
            # threads and any other thread of a test open connections of their own, and connections to a
            # shared in-memory database lock whole tables and fail at once ("database table is locked",
            # no busy timeout) where a file's writers wait for each other, as the embedded mode's do.
            # One file per process (pytest-xdist's workers, two runs in one checkout), in the temp folder.
            "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"ratc-test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Intake -----------------------------------------------------------------------------------------
# A run of several files parses the next ones in a process of its own while it stores this one
# (apps/intake/parallel.py): on by default where there is more than one core.
INTAKE_PARSE_PROCESS = env_bool("RATC_INTAKE_PARSE_PROCESS", default=(os.cpu_count() or 1) > 1)

# --- Training floor (apps.training, docs/training.md) ----------------------------------------------
# RATC_TRAINING=1 makes this installation a training floor: a banner on every page, scenarios and a
# scoreboard, and its own database, never the live centre's. With PostgreSQL that is
# RATC_TRAINING_DATABASE_URL (required beside a DATABASE_URL, and refused when it names the same
# database); embedded, a SQLite file of its own. The simulator also checks the database's own mark.
RATC_TRAINING = env_bool("RATC_TRAINING", default=False)
# A folder of the centre's own scenario files, offered beside those that ship in apps/training/scenarios.
RATC_TRAINING_SCENARIOS = env_str("RATC_TRAINING_SCENARIOS", "")
if RATC_TRAINING:
    _TRAINING_DATABASE_URL = env_str("RATC_TRAINING_DATABASE_URL")
    if DATABASE_URL and not _TRAINING_DATABASE_URL:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "RATC_TRAINING=1 with DATABASE_URL set: a training floor never uses the live centre's database; "
            "set RATC_TRAINING_DATABASE_URL to a database of its own"
        )
    if _TRAINING_DATABASE_URL:
        _training_db = dj_database_url.parse(_TRAINING_DATABASE_URL)
        _live_db = dj_database_url.parse(DATABASE_URL) if DATABASE_URL else {}
        if _live_db and all(
            _training_db.get(k) == _live_db.get(k) for k in ("ENGINE", "HOST", "PORT", "NAME")
        ):
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "RATC_TRAINING_DATABASE_URL names the live centre's database (DATABASE_URL): give the "
                "training floor a database of its own"
            )
        DATABASES = {"default": _training_db}
    elif not env_str("SQLITE_PATH"):
        DATABASES["default"]["NAME"] = str(BASE_DIR / "var" / "training.sqlite3")

# --- Tamper evidence (apps/compliance/chain.py, anchors.py) ----------------------------------------
# The HMAC key of the append-only records never lives in the database. Production (or PostgreSQL with
# DEBUG off, where processes may run on several hosts) sets RATC_CHAIN_KEY, or names a key file that
# every process shares (a mounted secret: "<id> <secret>"). The embedded, demo and test modes generate
# one once into the key file. Rotation: move the old key to RATC_CHAIN_RETIRED_KEYS as "id:secret".
_CHAIN_KEY_FILE = env_str("RATC_CHAIN_KEY_FILE")
_CHAIN_KEY_REQUIRED = PRODUCTION or bool(DATABASE_URL and not DEBUG)
RATC_CHAIN_KEY = env_secret("RATC_CHAIN_KEY", required=_CHAIN_KEY_REQUIRED and not _CHAIN_KEY_FILE)
RATC_CHAIN_KEY_ID = env_str("RATC_CHAIN_KEY_ID", "1")
RATC_CHAIN_RETIRED_KEYS = env_list("RATC_CHAIN_RETIRED_KEYS", [])
RATC_CHAIN_KEY_FILE = _CHAIN_KEY_FILE or str(BASE_DIR / "var" / "chain.key")
RATC_CHAIN_KEY_GENERATE = not PRODUCTION  # production never invents a key: it is given one
# Where each chain's head is anchored (append-only, one file per database and chain): put it where the
# database's users cannot write. The seal anchors at most this often; Celery beat every minute.
RATC_CHAIN_ANCHOR_DIR = env_str("RATC_CHAIN_ANCHOR_DIR", str(BASE_DIR / "var" / "anchors"))
RATC_CHAIN_ANCHOR_SECONDS = env_int("RATC_CHAIN_ANCHOR_SECONDS", 60, minimum=0)
# On PostgreSQL rows are linked into the chain by a thread of each process after the commit, off the
# request's path; SQLite serialises writers anyway and links them inline.
RATC_CHAIN_SEAL_IN_BACKGROUND = env_bool("RATC_CHAIN_SEAL_IN_BACKGROUND", default=bool(DATABASE_URL))
# How long that thread lets commits gather before a round (a round costs the same for one row or many);
# also the longest a committed row waits, beyond the round itself, to be linked.
RATC_CHAIN_SEAL_DELAY_MS = env_int("RATC_CHAIN_SEAL_DELAY_MS", 200, minimum=0, maximum=10_000)

# --- Redis: channel layer and Celery ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Every key this installation keeps in Redis (channel layer, cache, Celery's queues) starts with this,
# so that two installations on one Redis (a training floor beside the live one, parallel test workers)
# never hear each other's events or run each other's tasks.
REDIS_PREFIX = env_str("RATC_REDIS_PREFIX", "ratc").strip() or "ratc"
if RATC_TRAINING and not env_str("RATC_REDIS_PREFIX"):
    REDIS_PREFIX = "ratc-training"  # a training floor beside the live one on the same Redis stays apart
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # No read timeout, as before redis-py 8: its new default of 5 s races channels_redis'
            # 5-second BZPOPMIN (the server answers within that), and a lost race kills whichever
            # socket was reading (redis-py #4091). A finite one above 5 s hung cancellations in tests.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": 5}],
                "prefix": f"{REDIS_PREFIX}:asgi",
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
# Only the Redis transport reads this (RabbitMQ separates installations by virtual host instead).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | int] = {"global_keyprefix": f"{REDIS_PREFIX}:"}
# A task whose worker died hard (kill -9, a lost host) is delivered again this long after it was taken
# (Redis transport; default an hour). Keep it above the longest task: a task still running past it is
# delivered a second time. bench/drill.py sets a few seconds to see redelivery within the drill.
if _VISIBILITY_TIMEOUT := env_int("CELERY_VISIBILITY_TIMEOUT", 0, minimum=0):
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "visibility_timeout": _VISIBILITY_TIMEOUT,
        "unacked_restore_interval": 1,  # look for abandoned tasks every second, not every 100
        "unacked_restore_throttle": 1,
        # The lock a worker takes while it puts abandoned tasks back (a round of milliseconds) outlives a
        # worker killed inside it for this long (default five minutes): no task is redelivered until it
        # expires. Seen in the drill: the killed worker held it, and its run waited minutes, not seconds.
        "unacked_mutex_expire": min(_VISIBILITY_TIMEOUT, 300),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Stopping a worker loses no task (README, "Running on the real stack"): a pool child that dies mid-task
# sends the task back to the queue instead of failing it, and a worker stopped with SIGTERM (remapped to
# SIGQUIT: REMAP_SIGTERM=SIGQUIT) gives the tasks in hand this long to finish, then puts them back.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = float(env_int("RATC_WORKER_SHUTDOWN_SECONDS", 60, minimum=0))
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Beat reads its schedule from the database (django-celery-beat), so an administrator changes when a job
# runs in the admin; the entries below are written there when beat starts. Run exactly one beat.
# (apps.core.beat: django-celery-beat's scheduler, writing each registered job once, then the admin's.)
CELERY_BEAT_SCHEDULER = "apps.core.beat:RegistryScheduler"
# Workers log through LOGGING below (JSON lines with the request id), not Celery's own set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Periodic work: every job (missed targets, retention, report figures, the weekly report, drift checks,
# retraining, ...) is registered once in apps/core/schedule.py, read by beat on the real stack and by the
# server process in the embedded mode (apps/core/periodic.py). There is no CELERY_BEAT_SCHEDULE here.
# RATC_EMBEDDED_JOBS=0 keeps an embedded server from running them: a second embedded server beside one
# that does, or a test's server, whose every job (never run, so due at once) would start ten seconds in,
# in the middle of what the test is timing.
EMBEDDED_JOBS = env_bool("RATC_EMBEDDED_JOBS", default=True)

# Webhooks to port systems (apps.integrations): the hosts an endpoint's URL may name, as Django's
# ALLOWED_HOSTS spells them ("*" any, ".example.org" a domain and its subdomains); the POST's timeout;
# how many attempts before a delivery is marked failed; and the back-off, which doubles from BACKOFF up
# to BACKOFF_MAX seconds, each wait drawn between half and all of it (jitter).
RATC_WEBHOOK_ALLOWED_HOSTS = env_list("RATC_WEBHOOK_ALLOWED_HOSTS", ["*"])
RATC_WEBHOOK_TIMEOUT_SECONDS = env_int("RATC_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)
RATC_WEBHOOK_MAX_ATTEMPTS = env_int("RATC_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=20)
RATC_WEBHOOK_BACKOFF_SECONDS = env_int("RATC_WEBHOOK_BACKOFF_SECONDS", 30, minimum=0)
RATC_WEBHOOK_BACKOFF_MAX_SECONDS = env_int("RATC_WEBHOOK_BACKOFF_MAX_SECONDS", 3600, minimum=0)

# Alerts with partner administrations (apps.alerts, docs/alerts.md): this centre's name as its STIX
# identity (the identity's id is derived from it, so keep it stable), the timeout of a TAXII request to a
# partner, and the first wait after a failed exchange (doubling up to an hour).
RATC_ALERTS_IDENTITY = env_str("RATC_ALERTS_IDENTITY", "RATC Ops targeting centre")
RATC_ALERTS_TIMEOUT_SECONDS = env_int("RATC_ALERTS_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)
RATC_ALERTS_RETRY_SECONDS = env_int("RATC_ALERTS_RETRY_SECONDS", 60, minimum=1)
# The key that encrypts partners' credentials at rest (apps.alerts.crypto): a Fernet key or 32+ random
# characters; empty, a key derived from SECRET_KEY (keep it apart from SECRET_KEY in production).
RATC_ALERTS_SECRET_KEY = env_secret("RATC_ALERTS_SECRET_KEY", required=False)

# Without a broker (the embedded mode) no beat runs: the server process applies retention itself, this
# often (the job "apply-retention" in apps/core/schedule.py); 0 turns that off.
RETENTION_EVERY_MINUTES = env_int("RATC_RETENTION_EVERY_MINUTES", 60, minimum=0)

# E-mail (the weekly report). The default prints to the console; production names its relay.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ratc-ops@localhost")

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Authentication and permissions --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (account, address) pair before any password is checked.
    "apps.core.security.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
    # Single sign-on (OpenID Connect); answers only the SSO callback, and only when configured.
    "apps.accounts.oidc.SsoBackend",
]
# Guardian is used only for grants to agency groups; no anonymous user object is needed.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_MONKEY_PATCH_GROUP = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"

# Sign-in throttling (django-axes), for our sign-in page and /admin/login/ alike. Failures count per
# (account, client address) pair, so a mistyped or invented name locks out only itself at that desk.
# The client address is the socket's unless RATC_TRUSTED_PROXIES says how many proxies (the load
# balancer: 1) append to X-Forwarded-For in front of us; without it that header is ignored.
RATC_TRUSTED_PROXIES = env_int("RATC_TRUSTED_PROXIES", 0, minimum=0, maximum=5)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("RATC_SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("RATC_SIGNIN_LOCK_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.core.security.username_key"
AXES_CLIENT_IP_CALLABLE = "apps.core.security.client_address"
AXES_LOCKOUT_CALLABLE = "apps.core.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Sign-ins are audited by our own access log; axes keeps only the failure counts it needs.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Single sign-on and the second factor (apps.accounts, docs/sign-in.md) ---------------------------
# A second factor (TOTP, or the identity provider's own MFA) before any personal data: on in production,
# off elsewhere unless asked for (the demo and the test suite sign in with a password alone).
RATC_REQUIRE_SECOND_FACTOR = env_bool("RATC_REQUIRE_SECOND_FACTOR", default=PRODUCTION)
# The issuer named beside the code in authenticator apps.
RATC_OTP_ISSUER = env_str("RATC_OTP_ISSUER", "RATC Ops")
OTP_TOTP_ISSUER = RATC_OTP_ISSUER
OTP_TOTP_THROTTLE_FACTOR = 1  # a wrong code doubles the wait before the next try (1 s, 2 s, 4 s, ...)
OTP_STATIC_THROTTLE_FACTOR = 1

# OpenID Connect: on when RATC_OIDC_CLIENT_ID is set; then every endpoint must be.
RATC_OIDC_CLIENT_ID = env_str("RATC_OIDC_CLIENT_ID")
RATC_OIDC_ENABLED = bool(RATC_OIDC_CLIENT_ID)
RATC_OIDC_PROVIDER_NAME = env_str("RATC_OIDC_PROVIDER_NAME", "single sign-on")
RATC_OIDC_ISSUER = env_str("RATC_OIDC_ISSUER")  # checked against the ID token's "iss" when set
# The claim that lists the person's groups, and which group gives which role profile (first listed wins):
# {"targeting-analysts": {"agency": "CUS", "role": "analyst", "ports": []}, ...}. Checked at start-up
# against the roles (apps.accounts.checks); agencies and ports must exist when someone signs in.
RATC_OIDC_GROUPS_CLAIM = env_str("RATC_OIDC_GROUPS_CLAIM", "groups")
RATC_OIDC_GROUP_ROLES = env_json_object("RATC_OIDC_GROUP_ROLES")
# The provider asserted a second factor when the ID token's "amr" holds one of these, or its "acr" is
# one of RATC_OIDC_MFA_ACR; otherwise the person also verifies a code of this installation.
RATC_OIDC_MFA_AMR = env_list("RATC_OIDC_MFA_AMR", ["mfa", "otp", "hwk"])
RATC_OIDC_MFA_ACR = env_list("RATC_OIDC_MFA_ACR", [])
if RATC_OIDC_ENABLED:
    _missing = [
        name
        for name in (
            "RATC_OIDC_CLIENT_SECRET",
            "RATC_OIDC_AUTHORIZATION_ENDPOINT",
            "RATC_OIDC_TOKEN_ENDPOINT",
            "RATC_OIDC_USERINFO_ENDPOINT",
            "RATC_OIDC_JWKS_ENDPOINT",
        )
        if not env_str(name)
    ]
    if _missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"RATC_OIDC_CLIENT_ID is set: also set {', '.join(_missing)}")
# mozilla-django-oidc reads these names; they stay defined (empty) when single sign-on is off.
OIDC_RP_CLIENT_ID = RATC_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = env_str("RATC_OIDC_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("RATC_OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("RATC_OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("RATC_OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("RATC_OIDC_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_choice("RATC_OIDC_SIGN_ALGO", "RS256", ("rs256", "es256", "rs512")).upper()
OIDC_RP_SCOPES = env_str("RATC_OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("RATC_OIDC_TIMEOUT_SECONDS", 10, minimum=1, maximum=60)
OIDC_CALLBACK_CLASS = "apps.accounts.oidc.SsoCallbackView"
OIDC_AUTHENTICATE_CLASS = "apps.accounts.oidc.SsoStartView"
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso-callback"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)  # one shift
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Django's database sessions, read with the principal in one query (apps.accounts.sessions); not from
# the cache: a session ended in the database must end on the next request.
SESSION_ENGINE = "apps.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # WhiteNoise expects the folder even when it serves from the finders; the laptop mode makes it.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Everything uploaded or attached (apps/core/storage.py): on a deployment every host must read what any
# host wrote, so beside a DATABASE_URL the files are kept in PostgreSQL; the embedded mode, one host,
# keeps them under MEDIA_ROOT.
RATC_UPLOADS = env_choice(
    "RATC_UPLOADS", "database" if DATABASE_URL else "filesystem", ("database", "filesystem")
)
STORAGES["uploads"] = {
    "BACKEND": "apps.core.storage.DatabaseStorage"
    if RATC_UPLOADS == "database"
    else "django.core.files.storage.FileSystemStorage"
}

# --- API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed, named, expiring tokens of system accounts (apps/agencies/tokens.py), not DRF's clear ones.
        # First, so that a refused or missing credential is 401 with ``WWW-Authenticate: Token``.
        "apps.agencies.drf.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.agencies.drf.IsMember"],
    # The API's conventions (apps.core.api, apps.core.rest): cursor pages, filters that only narrow the
    # scope, rate limits per token and per signed-in person, errors as RFC 9457 problem details.
    "DEFAULT_PAGINATION_CLASS": "apps.core.rest.ApiCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.rest.ScopedFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.rest.TokenRateThrottle", "apps.core.rest.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "login": "10/min",
        "token": env_rate("RATC_API_RATE_TOKEN", "600/min"),
        "user": env_rate("RATC_API_RATE_USER", "1200/min"),
    },
    "EXCEPTION_HANDLER": "apps.core.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.ApiAutoSchema",
}
#: How long an ``Idempotency-Key`` and its stored answer are kept (apps.core.idempotency).
IDEMPOTENCY_KEY_HOURS = env_int("RATC_IDEMPOTENCY_KEY_HOURS", 24, minimum=1, maximum=24 * 30)
SPECTACULAR_SETTINGS = {
    "TITLE": "RATC Ops API",
    "DESCRIPTION": "Intake, risk, targeting, examination and reporting for customs targeting centres.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set shared by several models (import strings: settings import no models).
    "ENUM_NAME_OVERRIDES": {
        "AgencyKindEnum": "apps.agencies.models.AgencyKind",
        "SourceKindEnum": "apps.intake.models.SourceKind",
        "SubjectKindEnum": "apps.intake.models.SubjectKind",
        "SubjectStatusEnum": "apps.intake.models.Subject.Status",
        "SubjectLinkKindEnum": "apps.intake.models.SubjectLink.Kind",
        "IntakeRunStatusEnum": "apps.intake.models.IntakeRun.Status",
        "IntakeFormatEnum": "apps.intake.services.FORMATS",
        "JobStatusEnum": "apps.watchlists.models.ImportRun.Status",
        "ModelStatusEnum": "apps.learning.models.ModelStatus",
        "RuleStateEnum": "apps.risk.models.RuleState",
        "TargetStateEnum": "apps.targeting.models.TargetState",
        "WatchlistFormatEnum": "apps.watchlists.models.SourceFormat",
        "WatchlistHandlingEnum": "apps.watchlists.models.HandlingCode",
        "WatchlistEntryKindEnum": "apps.watchlists.models.EntryKind",
        "UnmaskStatusEnum": "apps.compliance.models.UnmaskRequest.Status",
    },
}

# --- Product configuration ------------------------------------------------------------------------
RATC_OPERATING_MODEL_DEFAULT = env_choice(
    "RATC_OPERATING_MODEL", "centralised", ("centralised", "decentralised", "hybrid")
)
# The currency the centre records values in (goods seized, revenue): an ISO 4217 code, shown beside amounts.
RATC_CURRENCY = env_str("RATC_CURRENCY", "GBP").strip().upper()
if not (len(RATC_CURRENCY) == 3 and RATC_CURRENCY.isascii() and RATC_CURRENCY.isalpha()):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"RATC_CURRENCY={RATC_CURRENCY!r} is not a three-letter currency code (e.g. GBP)"
    )

# A demo installation lists its demo users on the login page. Never set in production.
RATC_DEMO = env_bool("RATC_DEMO", default=False)
if PRODUCTION and RATC_DEMO:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("RATC_DEMO must be off in production")

# Logs: one line per event with the request's id (apps.core.observability). LOG_FORMAT=json writes one
# JSON object a line for a log shipper (the production default); plain suits a person at a console.
# Prometheus (apps.core.metrics): /metrics answers these networks only (the monitoring host), 404 others.
RATC_METRICS_ALLOWED_IPS = env_list("RATC_METRICS_ALLOWED_IPS", ["127.0.0.1/32", "::1/128"])

LOG_FORMAT = env_choice("LOG_FORMAT", "json" if PRODUCTION else "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Task results (lists of ids) would flood the console of an intake; failures still show.
    # django-axes logs every successful sign-in at INFO; failures and lockouts are WARNING and stay.
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
