"""Django settings, read from the environment (see README, "Configuration").

Nothing here needs editing: every knob is a CALLTALLY_* variable.
"""

from __future__ import annotations

import datetime as dt
import os

import bootstrap_wrapper

from calltally import conf

DATA_DIR = conf.data_dir()
SPOOL_DIR = conf.env_path("CALLTALLY_SPOOL_DIR", DATA_DIR / "spool")
LOG_DIR = DATA_DIR / "logs"
LOG_DIR.mkdir(exist_ok=True)

SECRET_KEY = conf.secret_key(DATA_DIR)
DEBUG = conf.env_bool("CALLTALLY_DEBUG", False)
ALLOWED_HOSTS = conf.env_list("CALLTALLY_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("CALLTALLY_CSRF_TRUSTED_ORIGINS", [])

# How many raw records the Miner reads, turns into calls and commits at once.
MINER_BATCH_SIZE = conf.env_int("CALLTALLY_MINER_BATCH", 10000, minimum=1)
# 2: big jobs use a second process on a second core — a mining backlog and recalculation
# (calltally/miner/turns.py) and tariff comparison; 1: one process. Default 2 with 2+ cores.
PROCESSES = conf.env_int("CALLTALLY_PROCESSES", 2 if (os.cpu_count() or 1) > 1 else 1, minimum=1)
# Seconds the Miner sleeps when the spool has nothing new.
MINER_IDLE_SECONDS = conf.env_int("CALLTALLY_MINER_IDLE", 2, minimum=1)

INSTALLED_APPS = [
    # Django's admin as a superuser's read-only window on the tables (calltally.webkit.admin).
    "calltally.web.apps.InspectionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tables2",
    "django_filters",
    # Sign-in lockout after repeated failures (see "Sign-in" below).
    "axes",
    # Checks the Content-Security-Policy settings at start-up.
    "csp",
    "calltally.audit",
    "calltally.sites",
    "calltally.directory",
    "calltally.accounts",
    "calltally.spool",
    "calltally.calls",
    "calltally.rating",
    "calltally.collectors",
    "calltally.miner",
    "calltally.services",
    "calltally.reports",
    "calltally.jobs",
    "calltally.schedules",
    "calltally.alerts",
    "calltally.budgets",
    "calltally.privacy",
    "calltally.setup",
    "calltally.system",
    # The page kit (generic list/edit pages, form and table templates), then the shell.
    "calltally.webkit",
    "calltally.web",
    # The REST API (docs/api.md): Django REST framework, its OpenAPI schema, Swagger UI's files
    # served from the package (no CDN), and CallTally's API shell with its hashed tokens.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "calltally.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside everything else, so that error pages and static files carry the policy too.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the idle sign-out, which leaves a message saying why the account was signed out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "calltally.web.sessions.IdleSignOutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "calltally.web.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a refused sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "calltally.urls"
WSGI_APPLICATION = "calltally.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calltally.web.context.shell",
            ],
        },
    },
]

DATABASES = {"default": conf.database(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = conf.env_str("CALLTALLY_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Bootstrap's CSS and JS come from its package (bootstrap-wrapper), served as /static/bootstrap/.
STATICFILES_DIRS = [("bootstrap", bootstrap_wrapper.get_bootstrap_dir())]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- web security (docs/security.md) -------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# A TLS-terminating proxy in front (nginx, Caddy, a load balancer): it says the request came
# over HTTPS in X-Forwarded-Proto and who sent it in X-Forwarded-For (calltally.audit.addresses),
# so cookies may be HTTPS-only and browsers told to stay on HTTPS. Without one these headers
# are whatever the client wrote and must not be believed.
BEHIND_PROXY = conf.env_bool("CALLTALLY_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = conf.env_int("CALLTALLY_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    # Off by default: the proxy answers plain HTTP itself; a second redirect here could loop.
    SECURE_SSL_REDIRECT = conf.env_bool("CALLTALLY_SSL_REDIRECT", False)

# Pages load nothing from elsewhere and run no inline code: scripts and styles are static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# A signed-in session ends after this long without a request (calltally.web.sessions), and
# optionally when the browser closes. The cookie outlives the idle time by the minute the
# middleware waits between two saves of the session, so the middleware decides, to the second.
SESSION_IDLE_MINUTES = conf.env_int("CALLTALLY_SESSION_IDLE_MINUTES", 60, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60 + 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = conf.env_bool("CALLTALLY_SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# --- sign-in ---------------------------------------------------------------------------------

# Argon2 first: new passwords, and old PBKDF2 ones at their next sign-in, are hashed with it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "calltally.web.signin.LockoutBackend",
    # Accounts marked "ldap" sign in by a bind to CALLTALLY_LDAP_URL, and only so.
    "calltally.accounts.signin.LdapBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After LOGIN_FAILURE_LIMIT failed sign-ins with one username from one address, that pair is
# refused for LOGIN_LOCKOUT_MINUTES, even with the right password; a success clears the count.
LOGIN_FAILURE_LIMIT = conf.env_int("CALLTALLY_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = conf.env_int("CALLTALLY_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it, so the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "calltally.audit.addresses.client_address"
AXES_LOCKOUT_CALLABLE = "calltally.web.signin.locked_out"
CSRF_FAILURE_VIEW = "calltally.web.errors.csrf_failure"

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --- the REST API (docs/api.md) ---------------------------------------------------------------

REST_FRAMEWORK = {
    # A token (Authorization: Token …) for scripts; the browser's signed-in session for the
    # browsable API and the schema UI (which then needs the CSRF token to write).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "calltally.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Nothing without an account; each endpoint then applies the account's scope.
    "DEFAULT_PERMISSION_CLASSES": ["calltally.api.permissions.SignedIn"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "calltally.api.renderers.BrowsableAPI",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "calltally.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    # Decimals (costs) as strings, never floats: money keeps its digits.
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CallTally API",
    "DESCRIPTION": "Calls, reports and configuration of CallTally, scoped to the account of the token "
                   "(docs/api.md).",
    "VERSION": "1",
    # The schema is as private as the API: only for signed-in accounts and tokens.
    "SERVE_PERMISSIONS": ["calltally.api.permissions.SignedIn"],
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files from the drf-spectacular-sidecar package, served as static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# The long-running services log to the file and to the console (the terminal of `calltally up`,
# or the journal); one-shot commands to the file only, their warnings counted by a tally that
# calltally.cli prints at the end (conf.console_logging says which).
LOG_FILE = LOG_DIR / "calltally.log"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_FILE),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
        },
        **(
            {"console": {"class": "logging.StreamHandler", "formatter": "plain"}}
            if conf.console_logging
            else {"tally": {"()": "calltally.cliutil.command_tally", "log_file": str(LOG_FILE), "level": "WARNING"}}
        ),
    },
    "loggers": {
        "calltally": {
            "handlers": ["file", "console" if conf.console_logging else "tally"],
            "level": conf.env_str("CALLTALLY_LOG_LEVEL", "INFO"),
        },
        # A page that failed (500): its traceback goes to the file, never to the browser.
        "django.request": {"handlers": ["file"], "level": "ERROR", "propagate": False},
        # Refused requests (a bad CSRF token, a suspicious file name…) are worth a line in the file.
        "django.security": {"handlers": ["file"], "level": "WARNING", "propagate": False},
        # Except unknown host names: one line per request, with a traceback. calltally.web.errors
        # logs each name once instead, with the setting to change.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # django-axes' own lines go to the file only; the calltally.security logger says the
        # same for people (a lockout, with the username and address).
        "axes": {"handlers": ["file"], "level": "WARNING", "propagate": False},
    },
}
