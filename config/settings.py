"""Settings, read from the environment (see README for the variables, deploy/casework.env.example for all).

One module for every deployment: the embedded default is SQLite + the django-q2 ORM broker + local files +
a local-memory cache; set DATABASE_URL, Q_BROKER_URL, REDIS_URL and STORAGE_URL to run on PostgreSQL, Redis
and object storage at city scale. CASEWORK_ENV=production turns on everything a public deployment needs and
refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_int,
    env_int_range,
    env_list,
    env_required,
    env_signed_endpoint,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CASEWORK_VAR_DIR", str(BASE_DIR / "var")))

# --- production mode ---------------------------------------------------------------------------------------
CASEWORK_ENV = env_choice("CASEWORK_ENV", ("embedded", "production"), "embedded")
PRODUCTION = CASEWORK_ENV == "production"
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY", reason="CASEWORK_ENV=production signs sessions and tokens with it")
    # Django's own check (security.W009) asks for 50 characters with variety; refuse rather than warn.
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be a random value of at least 50 characters in production "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')"
        )
    ALLOWED_HOSTS = env_list(
        "ALLOWED_HOSTS", env_required("ALLOWED_HOSTS", reason="the host names this site answers to")
    )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS=* is refused in production: name the site's host names")
    if env_bool("DEBUG", False):
        raise ImproperlyConfigured("DEBUG=1 is refused in production: it shows settings and tracebacks to anyone")
    DEBUG = False
else:
    SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
    DEBUG = env_bool("DEBUG", False)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
# Key of the audit chain's HMAC (cases/models/audit.py). It lives only in the environment of the nodes and of
# whoever runs verify_audit, never in the database: someone who can write to the database but does not hold
# the key cannot rewrite events and recompute a chain that verifies (issue 10 item 7). The embedded default
# below is public (demo and tests only); production refuses it.
DEMO_AUDIT_HMAC_KEY = "casework-demo-audit-key-not-secret"
if PRODUCTION:
    AUDIT_HMAC_KEY = env_required("AUDIT_HMAC_KEY", reason="the audit chain is keyed with it (manage.py verify_audit)")
    if AUDIT_HMAC_KEY == DEMO_AUDIT_HMAC_KEY or len(AUDIT_HMAC_KEY) < 32:
        raise ImproperlyConfigured(
            "AUDIT_HMAC_KEY must be a random value of at least 32 characters in production "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))'); keep a copy offline for the auditors"
        )
else:
    AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", DEMO_AUDIT_HMAC_KEY)
# After a key rotation (README, "Rotating the audit key"): "LAST_SEQ:OLD_KEY" pairs, comma-separated — events up
# to LAST_SEQ were sealed with OLD_KEY; verify_audit checks them with it. New events always use AUDIT_HMAC_KEY.
AUDIT_HMAC_PREVIOUS_KEYS = []
for _pair in env_list("AUDIT_HMAC_PREVIOUS_KEYS", ""):
    _seq, _sep, _key = _pair.partition(":")
    if not _sep or not _seq.strip().isdigit() or not _key.strip():
        raise ImproperlyConfigured("AUDIT_HMAC_PREVIOUS_KEYS must be LAST_SEQ:KEY pairs, comma-separated")
    AUDIT_HMAC_PREVIOUS_KEYS.append((int(_seq), _key.strip()))
AUDIT_HMAC_PREVIOUS_KEYS.sort()
# Previous keys, newest first: sessions and password-reset links signed with them stay valid while a key
# is rotated (README, "Rotating SECRET_KEY").
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS. Behind nginx (deploy/nginx/casework.conf) TLS ends at the proxy, which says so in X-Forwarded-Proto;
# trust that header only when a proxy that always sets it stands in front.
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PRODUCTION else "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# The load balancer's health probe speaks plain HTTP to the node; it must not be redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int_range("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Idle sessions end (config/session.py): officers handle personal data, so their sessions end sooner.
SESSION_IDLE_STAFF_SECONDS = env_int_range("SESSION_IDLE_STAFF_MINUTES", 30, minimum=1) * 60
SESSION_IDLE_APPLICANT_SECONDS = env_int_range("SESSION_IDLE_APPLICANT_MINUTES", 120, minimum=1) * 60
SESSION_COOKIE_AGE = max(SESSION_IDLE_STAFF_SECONDS, SESSION_IDLE_APPLICANT_SECONDS)

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "viewflow",
    "viewflow.workflow",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI from our own static files (no CDN)
    "cases",
    "workflows",
    "notices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files straight from the web node, compressed and cached forever under hashed names
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL, broken UTF-8, lone surrogates, over-deep JSON, over-long query values: a bilingual 400 (issue 10)
    "config.input_guard.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.session.IdleSessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.twofactor.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: it turns a lockout signalled by the backend into the lockout page
    "axes.middleware.AxesMiddleware",
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
                "cases.context_processors.navigation",
                "cases.context_processors.unread_messages",
                "cases.context_processors.identity_provider",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int_range("DB_CONN_MAX_AGE", 0, minimum=0),
        # A kept connection is checked before each request reuses it, so a restarted or failed-over
        # PostgreSQL costs one reconnect instead of a 500.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
# Django's backends plus a hook just before COMMIT (config/db/precommit.py): the audit chain appends a
# transaction's events there, holding its one head row only for the last moment of the transaction.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "config.db.postgresql",
    "django.db.backends.sqlite3": "config.db.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"] == "config.db.sqlite3":
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
    # first, so that a locked-out account or address is refused before its password is even checked
    "config.auth.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "cases.task_permissions.TaskPermissionBackend",
]

# Passwords of a government site (GB/T 22239-2019 等保 2.0 "口令具有复杂度要求"): at least 10 characters from
# at least three classes, not like the user's own names, not a common password.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name", "email", "first_name", "last_name")},
    },
    {
        "NAME": "config.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int_range("PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
    {"NAME": "config.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int_range("PASSWORD_RESET_TIMEOUT_MINUTES", 60, minimum=5) * 60
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "信用事项办理平台 <noreply@localhost>")

# Login protection (django-axes): after AXES_FAILURE_LIMIT failures an account — and, separately, an address —
# is refused for AXES_COOLOFF_MINUTES. Attempts are kept in the database, so every web node sees them.
AXES_FAILURE_LIMIT = env_int_range("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int_range("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.auth.lockout_response"
AXES_VERBOSE = False
# Behind N trusted proxies the client's address is the Nth from the right in X-Forwarded-For; with none,
# REMOTE_ADDR is the client (never trust a header a client can write itself).
TRUSTED_PROXY_COUNT = env_int_range("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Two-factor sign-in (django-otp, TOTP): any officer may turn it on; with STAFF_2FA=1 supervisors and
# administrators must (config/twofactor.py).
STAFF_2FA = env_bool("STAFF_2FA", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "信用事项办理平台")
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
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "config.staticfiles.AppDirectoriesFinder",
]
# Collected by scripts/install.sh (manage.py collectstatic) into the checkout, not into CASEWORK_VAR_DIR:
# the code and its static files are released together.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
# Whitenoise's defaults plus the notice fonts (static/fonts/notice/, 5 MB each): read only by the PDF renderer,
# compressing them made every collectstatic minutes slower.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv"),
    *("woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv"),
    "otf",
)
# A file added since the last collectstatic is served under its plain name rather than failing the page.
WHITENOISE_MANIFEST_STRICT = False
# Without a production release step (tests, a fresh checkout) serve straight from the source folders too.
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploads and issued PDFs live outside the web root and are served only by permission-checked views: on the
# local disk (embedded default) or in an S3-compatible bucket shared by every node (STORAGE_URL / AWS_*).
PRIVATE_STORAGE_ROOT = Path(env_str("PRIVATE_STORAGE_ROOT", str(VAR_DIR / "private")))
STORAGE_URL = env_url("STORAGE_URL", ("s3", "file"))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
if STORAGE_URL.startswith("s3://") or (not STORAGE_URL and AWS_STORAGE_BUCKET_NAME):
    if STORAGE_URL:
        # s3://bucket/optional/prefix?endpoint_url=http://host:9000&region_name=cn-north-1&addressing_style=path
        _parts = urlsplit(STORAGE_URL)
        _query = {key: values[-1] for key, values in parse_qs(_parts.query).items()}
        _bucket, _location = _parts.hostname or "", _parts.path.strip("/")
    else:
        _query, _bucket, _location = {}, AWS_STORAGE_BUCKET_NAME, env_str("AWS_LOCATION", "")
    if not _bucket:
        raise ImproperlyConfigured(f"STORAGE_URL={STORAGE_URL!r} names no bucket (s3://BUCKET/prefix)")
    unknown = set(_query) - {"endpoint_url", "region_name", "addressing_style"}
    if unknown:
        raise ImproperlyConfigured(f"STORAGE_URL has unknown parameters: {', '.join(sorted(unknown))}")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "location": _location,
            "endpoint_url": _query.get("endpoint_url") or env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": _query.get("region_name") or env_str("AWS_S3_REGION_NAME", "") or None,
            "addressing_style": _query.get("addressing_style") or env_str("AWS_S3_ADDRESSING_STYLE", "") or None,
            # credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read by boto3 itself
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            # Private objects, never a public or signed URL: downloads go through the permission-checked views.
            "default_acl": None,
            "querystring_auth": True,
            # Never overwrite: a second file of the same name gets a new name, as on the local disk.
            "file_overwrite": False,
        },
    }
else:
    if STORAGE_URL.startswith("file://"):
        PRIVATE_STORAGE_ROOT = Path(urlsplit(STORAGE_URL).path)
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT), "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "config.staticfiles.StaticFilesStorage"},
}
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)

# Shared cache: on Redis every node sees the same lockouts, rate limits and task-cluster statistics.
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "casework"),
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: django-q2 with the ORM broker by default (no extra server), Redis with Q_BROKER_URL.
Q_BROKER_URL = env_url("Q_BROKER_URL", ("redis", "rediss", "unix"))
# The queue's name: clusters of one site share it (and the signing of task payloads); two sites on one Redis
# need two names.
Q_CLUSTER_NAME = env_str("Q_CLUSTER_NAME", "casework")
Q_CLUSTER = {
    "name": Q_CLUSTER_NAME,
    **({"redis": Q_BROKER_URL} if Q_BROKER_URL else {"orm": "default"}),
    "workers": env_int_range("Q_WORKERS", 2, minimum=1),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 5,
    "ack_failures": True,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
    "label": "后台任务",
    # Keep the last results of each scheduled job (group = schedule name), so a flood of notice renders does
    # not push the history of the periodic jobs out (/healthz and the admin read it).
    "save_limit": env_int_range("Q_SAVE_LIMIT", 250, minimum=0),
    "save_limit_per": "group",
}
# /healthz: the task clusters are down when none has reported for this long (the schedulers run every 30 s).
HEALTHZ_CLUSTER_MAX_AGE = env_int_range("HEALTHZ_CLUSTER_MAX_AGE", 180, minimum=30)

# Working-day calendar: years whose arrangement the State Council has not published are computed
# provisionally (weekends only) up to this many years after the last known one.
CALENDAR_PROVISIONAL_YEARS = env_int("CALENDAR_PROVISIONAL_YEARS", 3)
# PROCEDURES.md "Counting time" [cfg]: something received after office hours counts as received on
# the next working day. Off by default.
RECEIPT_AFTER_HOURS_NEXT_DAY = env_bool("RECEIPT_AFTER_HOURS_NEXT_DAY", False)
RECEIPT_OFFICE_CLOSES = env_str("RECEIPT_OFFICE_CLOSES", "17:30")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int_range("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Every logger (django.request included: a 500 leaves its traceback) to stdout, one record per line; JSON in
# production for the log collector, plain text otherwise. systemd/journald or docker keep stdout.
LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error"), "info").upper()
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "text"), "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "config.logging.LineFormatter", "json": LOG_FORMAT == "json"}},
    "handlers": {"stdout": {"class": "config.logging.StdoutHandler", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config sends these to mail_admins/console only with DEBUG; here they propagate.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"handlers": [], "level": "WARNING", "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "casework": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # chatty at INFO (a line per rendering step, per font subset)
        "weasyprint": {"handlers": [], "level": "WARNING", "propagate": True},
        "fontTools": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}


# Platform sync outbox (DESIGN.md, "Integration with the credit platform"). No endpoint = append each event
# to a local JSON-lines file; with an endpoint, events are POSTed and signed with the shared secret.
OUTBOX_ENDPOINT, OUTBOX_HMAC_SECRET = env_signed_endpoint("OUTBOX_ENDPOINT", "OUTBOX_HMAC_SECRET", what="events")
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

# A person's messages (cases.services.messages): the site always; e-mail copies through EMAIL_BACKEND; SMS
# through a gateway — SMS_GATEWAY_URL set → signed HTTP POST (HMAC-SHA256 with SMS_GATEWAY_SECRET, the outbox's
# scheme); empty → one JSON line per SMS appended to SMS_FILE_SINK.
SMS_GATEWAY_URL, SMS_GATEWAY_SECRET = env_signed_endpoint("SMS_GATEWAY_URL", "SMS_GATEWAY_SECRET", what="SMS requests")
SMS_FILE_SINK = Path(env_str("SMS_FILE_SINK", str(VAR_DIR / "sms" / "messages.jsonl")))
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10)
MESSAGE_ID_DOMAIN = env_str("MESSAGE_ID_DOMAIN", "casework.localhost")
# Registration: a one-time code to the mobile, valid this many minutes, this many tries.
PHONE_CODE_MINUTES = env_int("PHONE_CODE_MINUTES", 10)
PHONE_CODE_ATTEMPTS = env_int("PHONE_CODE_ATTEMPTS", 5)
# 办件查询 (/track/) without login: at most this many look-ups per address per window, counted on the shared
# cache (Redis at scale) so every web node sees the same count.
TRACK_RATE_LIMIT = env_int("TRACK_RATE_LIMIT", 10)
TRACK_RATE_WINDOW_SECONDS = env_int("TRACK_RATE_WINDOW_SECONDS", 600)
# The 查询码 is an HMAC of the 办件编号 with this key: nothing to store, and it cannot be guessed from the number.
TRACK_CODE_SECRET = env_str("TRACK_CODE_SECRET", "") or SECRET_KEY

# 统一身份认证 (OIDC): off by default. When OIDC_ENABLED is set, mozilla-django-oidc signs people in against
# the province's identity provider (the login page offers it next to the password form); every endpoint and
# the client credentials come from the environment. Nothing here fakes a provider.
OIDC_ENABLED = env_bool("OIDC_ENABLED", False)
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "config.oidc.CaseworkOIDCBackend"]
    OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
    OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
    OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid profile phone")
    missing = [
        name
        for name in ("OIDC_RP_CLIENT_ID", "OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT")
        if not globals()[name]
    ]
    if missing:
        raise ImproperlyConfigured(f"OIDC_ENABLED is set but {', '.join(missing)} is empty")

# Notices (文书): the public address printed on each PDF next to its verification code.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
NOTICE_CLAIM_LEASE_SECONDS = env_int("NOTICE_CLAIM_LEASE_SECONDS", 300)
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 5)
NOTICE_EMAIL_ENABLED = env_bool("NOTICE_EMAIL_ENABLED", False)


# REST API v1 (cases/api/): Django REST Framework + drf-spectacular, as Open Zaak and Froide do.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["cases.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["cases.api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["cases.api.auth.ClientRateThrottle", "cases.api.auth.PublicRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["cases.api.parsers.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "cases.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "信用事项办理平台 API",
    "DESCRIPTION": (
        "部门、政务服务平台和城市信用平台的接口。除公开接口外，均以 `Authorization: Bearer <接口密钥>` 调用；"
        "每个 POST 须带 `Idempotency-Key`；错误为 RFC 9457 `application/problem+json`（中英文）。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.schema.add_problem_responses",
    ],
}
# Public endpoints (verification, 办件查询), per address; clients have their own ApiClient.rate_per_minute.
API_PUBLIC_RATE = env_str("API_PUBLIC_RATE", "60/min")

# Signed notices (notices/signing.py): keys and certificates outside the repository. NOTICE_PKI_DEMO lets the
# demo CA (made by ``manage.py notice_pki``) certify an organisation that has no certificate yet; production
# places each organisation's own certificate there, or signs in an HSM through PKCS#11 (README).
NOTICE_PKI_DIR = Path(env_str("NOTICE_PKI_DIR", str(Path.home() / ".local" / "share" / "casework" / "pki")))
NOTICE_PKI_DEMO = env_bool("NOTICE_PKI_DEMO", not PRODUCTION)
NOTICE_SIGNING_PKCS11_MODULE = env_str("NOTICE_SIGNING_PKCS11_MODULE", "")
NOTICE_SIGNING_PKCS11_TOKEN = env_str("NOTICE_SIGNING_PKCS11_TOKEN", "")
NOTICE_SIGNING_PKCS11_PIN = env_str("NOTICE_SIGNING_PKCS11_PIN", "")
NOTICE_SIGNING_LOCATION = env_str("NOTICE_SIGNING_LOCATION", "郑州")
# The public verification page: requests per address per minute (config.ratelimit; the address as
# TRUSTED_PROXY_COUNT reads it). The API's verification endpoint counts under API_PUBLIC_RATE.
NOTICE_VERIFY_PER_MINUTE = env_int("NOTICE_VERIFY_PER_MINUTE", 30)
