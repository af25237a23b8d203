"""Settings, read from the environment so that a fresh checkout just runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url
import plotly
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


DEBUG = envbool("DEBUG", False)
# The default key is only good for a laptop; `check --deploy` flags it in production.
SECRET_KEY = os.getenv("SECRET_KEY", "django-insecure-sweeptracker-development-key")
ALLOWED_HOSTS = os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "projects",
    "runs",
    "sweeps",
]

MIDDLEWARE = [
    "sweeptracker.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "sweeptracker.urls"
WSGI_APPLICATION = "sweeptracker.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Agents write concurrently: WAL lets readers go on while one writes, and
    # IMMEDIATE transactions take the write lock up front instead of failing
    # with "database is locked" when a reader tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("SQLITE_BUSY_TIMEOUT", 30),
    }
    # Tests run against a file too, so that server threads and agent
    # processes share one database as they do in real use.
    # One file per test process, so that two suites can run side by side.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"sweeptracker-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Whitenoise serves straight from the finders, so collectstatic is optional;
# set STATIC_ROOT only where it is run.
STATIC_ROOT = os.getenv("STATIC_ROOT") or None
# plotly.js comes from the installed plotly package, so the JS always matches
# the Python library that builds the figures.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("plotly", Path(plotly.__file__).parent / "package_data"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Bodies past this get 413; the client keeps its batches well below it.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("MAX_REQUEST_BYTES", 5 * 1024 * 1024)
# How many metric points one log request may carry.
MAX_POINTS_PER_BATCH = envint("MAX_POINTS_PER_BATCH", 50_000)
# Seconds without a heartbeat after which a running run counts as crashed.
HEARTBEAT_TIMEOUT = envint("HEARTBEAT_TIMEOUT", 300)
# Seconds between two checks of one sweep's runs for silent ones (and trials left running
# by ended runs) from one server process, made at suggestions: agents asking many times a
# second need not each pay a query for a timeout counted in minutes.
SWEEP_RUN_CHECK_INTERVAL = float(os.getenv("SWEEP_RUN_CHECK_INTERVAL", "1.0"))
# Seconds after an agent's last request (or its running trial's last heartbeat) during
# which a sweep's page lists it as live (sweeps.agents).
AGENT_TIMEOUT = envint("AGENT_TIMEOUT", 60)
# Bayes sweeps use a Gaussian process until this many trials are complete, then TPE.
GP_MAX_TRIALS = envint("GP_MAX_TRIALS", 100)
# How often a grid point whose run failed is handed out again.
GRID_RETRY_LIMIT = envint("GRID_RETRY_LIMIT", 2)
# A sweep whose first this-many trials to end all failed is failed (W&B's agent gives up
# after 5 initial failures too); 0 never fails a sweep.
SWEEP_MAX_INITIAL_FAILURES = envint("SWEEP_MAX_INITIAL_FAILURES", 5)
# Limits on the shape of input (docs/security.md): nesting past these is refused before
# Python's recursive parsers see it (a RecursionError would be a 500).
MAX_JSON_DEPTH = envint("MAX_JSON_DEPTH", 64)
MAX_YAML_DEPTH = envint("MAX_YAML_DEPTH", 64)
# Aliases in a sweep's YAML, counting those an alias repeats ("billion laughs").
MAX_YAML_ALIASES = envint("MAX_YAML_ALIASES", 100)
MAX_SWEEP_PARAMETERS = envint("MAX_SWEEP_PARAMETERS", 1000)
# Characters in one string of a run's config or summary (keys too).
MAX_STRING_LENGTH = envint("MAX_STRING_LENGTH", 65536)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "projects.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "sweeptracker.parsers.LenientJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "sweeptracker.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "sweeptracker.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sweeptracker.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many proxies append to X-Forwarded-For in front of us; 0 trusts only the
    # socket's address, so a client cannot dodge the bad-key throttle with a made-up header.
    "NUM_PROXIES": envint("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SweepTracker API",
    "DESCRIPTION": "Projects, runs, metrics and sweeps.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page loads Swagger UI from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RunStateEnum": "runs.models.RunState.choices",
        "FinalRunStateEnum": "runs.models.FINAL_STATE_CHOICES",
        "SweepStateEnum": "sweeps.models.SweepState.choices",
        "TrialStateEnum": "sweeps.models.TrialState.choices",
    },
}

# Cookies travel over TLS only unless DEBUG is on; `tasks.py run` serves plain
# http on a laptop and says SECURE_COOKIES=false. docs/security.md lists the rest.
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# TLS ends at a proxy in front of gunicorn, so these default off: turned on
# without one, a plain-http server would redirect every client to nowhere.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Only a proxy that overwrites X-Forwarded-Proto may be trusted with it; a client
# reaching gunicorn directly could otherwise claim https.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("TRUST_X_FORWARDED_PROTO", False) else None
)

# A client that sends this many bad API keys within the window gets 429 until the
# window ends (projects/throttling.py).
BAD_KEY_LIMIT = envint("BAD_KEY_LIMIT", 20)
BAD_KEY_WINDOW = envint("BAD_KEY_WINDOW", 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
