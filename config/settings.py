"""Settings, read from the environment (see README for the variables).

One module for every deployment: the embedded default is SQLite + the django-q2 ORM broker + local files;
set DATABASE_URL (and friends) to run on PostgreSQL at city scale.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CASEWORK_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "django_q",
    "viewflow",
    "viewflow.workflow",
    "cases",
    "workflows",
    "notices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workflows.context_processors.calendar_alarm",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves one web process and one qcluster: wait for the write lock
    # instead of failing at once. A deferred transaction that reads first and then writes cannot wait —
    # SQLite refuses the lock upgrade at once ("database is locked") when another connection is writing —
    # so transactions take the write lock when they begin (IMMEDIATE). WAL lets pages read meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "cases.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "cases.task_permissions.TaskPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Language and time: Simplified Chinese first, English kept complete; Beijing time.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

# Uploads and issued PDFs live outside the web root and are served only by permission-checked views.
PRIVATE_STORAGE_ROOT = Path(env_str("PRIVATE_STORAGE_ROOT", str(VAR_DIR / "private")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

# Background work: django-q2 with the ORM broker by default (no extra server).
Q_CLUSTER = {
    "name": "casework",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 5,
    "ack_failures": True,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
    "label": "后台任务",
}

# Working-day calendar: years whose arrangement the State Council has not published are computed
# provisionally (weekends only) up to this many years after the last known one.
CALENDAR_PROVISIONAL_YEARS = env_int("CALENDAR_PROVISIONAL_YEARS", 3)
# PROCEDURES.md "Counting time" [cfg]: something received after office hours counts as received on
# the next working day. Off by default.
RECEIPT_AFTER_HOURS_NEXT_DAY = env_bool("RECEIPT_AFTER_HOURS_NEXT_DAY", False)
RECEIPT_OFFICE_CLOSES = env_str("RECEIPT_OFFICE_CLOSES", "17:30")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "casework": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    },
}


# Platform sync outbox (DESIGN.md, "Integration with the credit platform"). No endpoint = append each event
# to a local JSON-lines file; with an endpoint, events are POSTed and signed with the shared secret.
OUTBOX_ENDPOINT = env_str("OUTBOX_ENDPOINT", "")
OUTBOX_HMAC_SECRET = env_str("OUTBOX_HMAC_SECRET", "")
if OUTBOX_ENDPOINT and not OUTBOX_HMAC_SECRET:
    raise ImproperlyConfigured("OUTBOX_ENDPOINT is set but OUTBOX_HMAC_SECRET is empty: events must be signed")
OUTBOX_FILE_SINK = Path(env_str("OUTBOX_FILE_SINK", str(VAR_DIR / "outbox" / "events.jsonl")))
OUTBOX_HTTP_TIMEOUT = env_int("OUTBOX_HTTP_TIMEOUT", 10)
# Retries back off 1, 2, 4 … minutes up to 6 h; after the last attempt the event is dead until staff retry it.
# 12 attempts span about 20 h, well inside the shortest sync limit (3 WD).
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12)
OUTBOX_BACKOFF_BASE_SECONDS = env_int("OUTBOX_BACKOFF_BASE_SECONDS", 60)
OUTBOX_BACKOFF_MAX_SECONDS = env_int("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600)
# A claim older than this belongs to a worker that died: another worker may take the event over.
# Keep it well above OUTBOX_HTTP_TIMEOUT so a slow delivery is not sent twice.
OUTBOX_CLAIM_LEASE_SECONDS = env_int("OUTBOX_CLAIM_LEASE_SECONDS", 600)
OUTBOX_BATCH = env_int("OUTBOX_BATCH", 100)

# Notices (文书): the public address printed on each PDF next to its verification code.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
NOTICE_CLAIM_LEASE_SECONDS = env_int("NOTICE_CLAIM_LEASE_SECONDS", 300)
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 5)
NOTICE_EMAIL_ENABLED = env_bool("NOTICE_EMAIL_ENABLED", False)
