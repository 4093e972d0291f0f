"""Django settings, read from the environment (see README, "Configuration").

Nothing here needs editing: every knob is a CALLTALLY_* variable.
"""

from __future__ import annotations

import os

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
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tables2",
    "django_filters",
    "calltally.sites",
    "calltally.directory",
    "calltally.accounts",
    "calltally.spool",
    "calltally.calls",
    "calltally.rating",
    "calltally.collectors",
    "calltally.miner",
    "calltally.services",
    "calltally.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "calltally.web.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

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
    },
}
