"""Settings, all from the environment (12-factor).

DATABASE_URL   default: SQLite file var/warmstation.sqlite3
REDIS_URL      optional: Redis cache (rate-limit guards across processes); local memory otherwise
SECRET_KEY     optional: generated once into var/secret_key when unset
FIELD_ENCRYPTION_KEY  optional: Fernet key for personal data at rest; derived from SECRET_KEY
SMS_BACKEND    "console" (default: recorded and printed) or "http" (SMS_GATEWAY_URL)
WARMSTATION_ENV  "production" (`make serve`): SECRET_KEY required, secure cookies, HSTS, HTTPS
               redirect, JSON logs; anything else is the demo / development (`make run`)
Every setting is in docs/operations.md#settings.
"""

import importlib.util
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("WARMSTATION_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


PRODUCTION = os.environ.get("WARMSTATION_ENV", "").lower() == "production"


def _secret_key() -> str:
    if key := os.environ.get("DJANGO_SECRET_KEY") or os.environ.get("SECRET_KEY"):
        return key
    if PRODUCTION:
        # A generated key on one machine of several would sign sessions the others refuse.
        raise RuntimeError("WARMSTATION_ENV=production needs DJANGO_SECRET_KEY (or SECRET_KEY)")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written once with owner-only permissions; re-runs keep sessions and encrypted data valid.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",")
# Our own reverse proxies (addresses or networks, comma-separated): X-Forwarded-For is honoured
# only on a connection from one of them (core/audit.py client_ip); otherwise REMOTE_ADDR.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
# Older deployments: a proxy that overwrites X-Real-IP (prefer TRUSTED_PROXIES).
TRUST_X_REAL_IP = _env_bool("TRUST_X_REAL_IP", False)
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "warmstation.core",
    "warmstation.accounts",
    "warmstation.areas",
    "warmstation.appeals",
    "warmstation.outreach",
    "warmstation.points",
    "warmstation.benefits",
    "warmstation.stations",
    "warmstation.volunteering",
    "warmstation.documents",
    "warmstation.housing",
    "warmstation.union",
    "warmstation.reports",
    "warmstation.dashboard",
    "warmstation.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "django_prometheus",
]

MIDDLEWARE = [
    # Outermost, so request counts and latencies include everything below (/metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # First, so a database outage anywhere below answers 503 (core/outage.py).
    "warmstation.core.outage.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages and JSON compressed (gzip, with Django's BREACH padding); static files come
    # precompressed from whitenoise above and never reach it (core/compression.py).
    "warmstation.core.compression.PageGZipMiddleware",
    # Where reads go (primary or replica): above sessions, so a sign-in's session write pins.
    "warmstation.core.dbrouting.replica_routing_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "warmstation.config.api.api_problem_middleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "warmstation.accounts.middleware.SessionLifetimeMiddleware",
    # An imported worker's first sign-in: the terms consent before any other page.
    "warmstation.accounts.middleware.TermsDueMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "warmstation.core.inputs.InputContractMiddleware",
    "warmstation.core.refusals.RefusalMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "warmstation.config.urls"
WSGI_APPLICATION = "warmstation.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "warmstation" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'warmstation.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the task worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A database host that does not answer (rather than refusing) must not hold a web thread
    # or the task worker for the operating system's TCP timeout (minutes): give up after 5 s,
    # and the request answers 503 (core/outage.py) while the worker waits and retries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# PgBouncer in transaction mode in front of PostgreSQL (DATABASE_POOL_MODE=transaction): a
# server connection serves one transaction, then another client, so nothing may outlive a
# transaction on it — no server-side cursors, no prepared statements (psycopg prepares a query
# it has run 5 times, unless told not to). docs/scaling.md.
DATABASE_POOL_MODE = os.environ.get("DATABASE_POOL_MODE", "session")
if DATABASE_POOL_MODE not in ("session", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOL_MODE is session or transaction")


# Parameters bound on the server, and a statement run DATABASE_PREPARE_AFTER times on a connection
# kept as a prepared statement (psycopg's prepare_threshold), so PostgreSQL stops planning it
# again: an ORM query's planning (4-6 ms for a list with four joins) cost more than running it
# (0.2-0.9 ms). Django's default binds on the client, which gives PostgreSQL new text, and a new
# plan, on every call. 0 turns it off (client-side binding, as Django ships). ADR 0017.
DATABASE_PREPARE_AFTER = int(os.environ.get("DATABASE_PREPARE_AFTER", "5"))


def _prepared(database: Any) -> Any:
    """A PostgreSQL connection that binds on the server and prepares (DATABASE_PREPARE_AFTER)."""
    if database["ENGINE"].endswith("postgresql") and DATABASE_PREPARE_AFTER > 0:
        database.setdefault("OPTIONS", {}).update(server_side_binding=True,
                                                  prepare_threshold=DATABASE_PREPARE_AFTER)
    return database


def _pooled(database: Any) -> Any:
    if not database["ENGINE"].endswith("postgresql"):
        return database
    _prepared(database)
    if DATABASE_POOL_MODE == "transaction":
        # Bound on the server still works through the pooler (unnamed statements); a named,
        # prepared one would be looked up on a server connection that never saw it.
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return database


_pooled(DATABASES["default"])
# A streaming replica for reads (DATABASE_REPLICA_URL): core/dbrouting.py sends reads there and
# keeps a writer on the primary for REPLICA_PIN_SECONDS; a replica that does not answer is left
# alone for REPLICA_RETRY_SECONDS while the primary serves. Tests mirror it onto the primary.
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "10"))
REPLICA_RETRY_SECONDS = int(os.environ.get("REPLICA_RETRY_SECONDS", "5"))
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True)
    # The replica is reached directly (not through the pooler), so it may keep prepared
    # statements; it gives up as fast as the primary does.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    _prepared(DATABASES["replica"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["warmstation.core.dbrouting.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["warmstation.accounts.backends.MobilePasswordBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:worker_login"

# Sessions: idle timeout (cookie age, refreshed on every request) and an absolute lifetime
# enforced by SessionLifetimeMiddleware.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 12 * 3600))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from the page's meta tag, never the cookie
SESSION_COOKIE_NAME = "__Host-ws_session" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-ws_csrf" if SESSION_COOKIE_SECURE else "csrftoken"

# HTTPS (production): TLS ends at the reverse proxy, which says so in X-Forwarded-Proto; plain
# HTTP is redirected, except the health, readiness and metrics checks from the local network.
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if PRODUCTION or _env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", 31_536_000 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# Preloading is a promise to the browsers' lists that is slow to take back: the district's
# choice (HSTS_PRELOAD=true), so `check --deploy` is told not to ask for it.
SECURE_HSTS_PRELOAD = _env_bool("HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Sign-in limits (see accounts/services.py).
SMS_CODE_TTL_SECONDS = 5 * 60
SMS_CODE_RESEND_SECONDS = 60
SMS_CODE_DAILY_CAP = int(os.environ.get("SMS_CODE_DAILY_CAP", 10))
SMS_CODE_MAX_ATTEMPTS = 5
SMS_CODE_PER_IP_HOUR = int(os.environ.get("SMS_CODE_PER_IP_HOUR", 30))
STAFF_LOCKOUT_THRESHOLD = 5
STAFF_LOCKOUT_SECONDS = 15 * 60
TOTP_ISSUER = "37°C+ 暖心驿站"
API_TOKEN_DAYS = 30
# Seconds a bearer token's person and grants stay in the cache (accounts/services.py, ADR 0018);
# forgotten in every process on any change, so this only bounds a cache that missed a change
# while it was down. Needs a cache all processes share: off (0) without REDIS_URL.
API_TOKEN_CACHE_SECONDS = int(os.environ.get("API_TOKEN_CACHE_SECONDS",
                                             "60" if os.environ.get("REDIS_URL") else "0"))

SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
OUTBOX_MAX_ATTEMPTS = 8
# A claim older than this is a dead worker's: the message goes back to pending (outreach).
OUTBOX_CLAIM_TIMEOUT_S = int(os.environ.get("OUTBOX_CLAIM_TIMEOUT_S", 300))
# Notices (outreach): SMS a person gets a day at most; the address links in pushes point at.
NOTICE_SMS_DAILY_CAP = int(os.environ.get("NOTICE_SMS_DAILY_CAP", 3))
# Notice SMS sent a minute at most, across every worker (the gateway contract's rate, less
# headroom for sign-in codes, which are never held back by it). 0: no limit.
NOTICE_SMS_PER_MINUTE = int(os.environ.get("NOTICE_SMS_PER_MINUTE", 1200))
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "warmstation" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Leaflet's JS and CSS come from the django-leaflet package (served by whitenoise, no CDN). Its
# app is not installed — it pulls in GeoDjango/GDAL, which we do not need — only its files.
_leaflet = importlib.util.find_spec("leaflet")
assert _leaflet is not None and _leaflet.submodule_search_locations, "django-leaflet is not installed"
_LEAFLET_STATIC = Path(list(_leaflet.submodule_search_locations)[0]) / "static"
STATICFILES_DIRS: list = [BASE_DIR / "warmstation" / "static", _LEAFLET_STATIC]
# uPlot (the dashboard's charts) from npm: package.json pins it, `make setup` runs `npm ci`
# (docs/decisions/0011-dashboard-rollups-and-charts.md). Until it has run, the dashboard shows
# its tables without charts instead of failing.
_UPLOT = BASE_DIR / "node_modules" / "uplot" / "dist"
if _UPLOT.is_dir():
    STATICFILES_DIRS.append(("uplot", _UPLOT))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # e.g. a 天地图 or self-hosted XYZ template
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
# The coordinate system of those tiles: "wgs84" (天地图, OSM-style servers) or "gcj02" (AMap,
# Tencent). Stored positions are WGS-84; markers are converted to match (core/geo.py), or they
# would sit ~500 m off on GCJ-02 tiles. docs/operations.md#map-tiles has an example of each.
MAP_TILE_CRS = os.environ.get("MAP_TILE_CRS", "wgs84").lower()
assert MAP_TILE_CRS in ("wgs84", "gcj02"), "MAP_TILE_CRS must be wgs84 or gcj02"
# Open311 GeoReport v2 (reports/open311.py): our jurisdiction_id (Fangshan's division code)
# and the contact discovery names. A media_url on a private or loopback address is refused;
# only tests that serve pictures from 127.0.0.1 turn this on.
OPEN311_JURISDICTION = os.environ.get("OPEN311_JURISDICTION", "110111")
OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "房山区城市管理指挥中心 010-89351008")
OPEN311_MEDIA_ALLOW_PRIVATE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (cached a year, immutable) and .br/.gz beside each file; needs collectstatic
    # (make run: collectstatic_if_stale, core/staticfiles.py).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# On one machine the app serves uploaded pictures itself; behind a proxy, let the proxy serve
# MEDIA_ROOT/stations/ at /media/stations/ and set SERVE_MEDIA=0. Only the folders below are
# public; everything else under MEDIA_ROOT (a case's photos, appeals/) is personal and served
# by the app after its access check (appeals: /appeals/attachments/<id>/).
SERVE_MEDIA = _env_bool("SERVE_MEDIA", True)
PUBLIC_MEDIA_PREFIXES = ("stations/",)
# Serve only what collectstatic wrote (hashed, compressed); True serves the sources as well,
# uncompressed and briefly cached (development without collectstatic).
WHITENOISE_USE_FINDERS = _env_bool("WHITENOISE_USE_FINDERS", False)

if REDIS_URL := os.environ.get("REDIS_URL"):
    # Short timeouts: a Redis that does not answer costs a request half a second, not a thread
    # for minutes; sign-in limits then refuse and everything else carries on (core/ratelimit.py).
    CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "ws"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": float(os.environ.get("REDIS_TIMEOUT", "0.5")),
                    "SOCKET_TIMEOUT": float(os.environ.get("REDIS_TIMEOUT", "0.5"))},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Whether every process reads the same cache (Redis): what one changes, the others see.
CACHE_SHARED = bool(os.environ.get("REDIS_URL"))
if API_TOKEN_CACHE_SECONDS and not CACHE_SHARED:
    raise ImproperlyConfigured("API_TOKEN_CACHE_SECONDS needs REDIS_URL: a local-memory cache is "
                               "per process, so a token revoked in one would work in the others")

# /metrics (Prometheus): from these addresses or networks, or with this bearer token.
METRICS_ALLOWED = [a.strip() for a in os.environ.get("METRICS_ALLOWED", "127.0.0.1,::1").split(",")
                   if a.strip()]
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Rate limits (core/ratelimit.py): scope -> (hits, window in seconds, "ip" or "user").
# "user" counts a signed-in person by id (mobile networks put many workers behind one address)
# and anyone else by address. RATE_LIMIT_<SCOPE>="hits/seconds" overrides one.
RATE_LIMITS = {
    "sign_in": (20, 300, "ip"),          # password, TOTP and SMS-code sign-ins (pages and API)
    "sms_code": (SMS_CODE_PER_IP_HOUR, 3600, "ip"),  # code requests, whatever the numbers
    "need": (20, 3600, "user"),          # needs and complaints raised (appeals)
    "report": (30, 3600, "user"),        # street reports (reports), photos included
    "open311_post": (60, 3600, "ip"),    # Open311 POST requests (per client address)
    "search": (120, 60, "ip"),           # nearby search, station list queries
    "redeem_fail": (20, 600, "ip"),      # wrong redemption codes, per merchant (ident)
}
for _scope, (_hits, _window, _key) in list(RATE_LIMITS.items()):
    if _override := os.environ.get(f"RATE_LIMIT_{_scope.upper()}"):
        _h, _sep, _w = _override.partition("/")
        RATE_LIMITS[_scope] = (int(_h), int(_w or _window), _key)
# Scopes that refuse when the cache (Redis) does not answer; the others let requests through.
RATE_LIMIT_FAIL_CLOSED = {"sign_in", "sms_code", "redeem_fail"}

# The django.tasks backend (ADR 0014): "db" (django-tasks-db, the default: no broker, works on
# SQLite) or "redis" (django-tasks-redis on Redis Streams, for a city: enqueueing and claiming
# leave the database). A dotted path is taken as it is. The worker `supervise` starts follows it
# (db_worker or redis_worker). The task code is the same either way.
# Task workers run this much below the web workers' CPU priority (nice; 0: the same).
TASK_WORKER_NICE = int(os.environ.get("TASK_WORKER_NICE", "10"))
# Two queues (ADR 0020): "default", what a person waits on by the second (an SMS sign-in code, a
# notice); "bulk", CPU-heavy work nobody waits on by the second (photos to re-encode, imports,
# handbooks, the dashboard's figures), taken by a worker of its own (`worker-bulk`) that runs
# this much below the web workers: a burst of photos never holds an SMS back. (At 19 a worker
# starved by busy cores could not stop within the supervisor's 8 s: ADR 0020.)
TASK_QUEUES = ["default", "bulk"]
TASK_BULK_WORKER_NICE = int(os.environ.get("TASK_BULK_WORKER_NICE", "10"))
TASK_BACKEND_ALIASES = {
    "db": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_redis.RedisTaskBackend",
}
_task_backend = os.environ.get("TASKS_BACKEND", "db")
TASKS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": TASK_BACKEND_ALIASES.get(_task_backend, _task_backend),
                "QUEUES": TASK_QUEUES},
}
if TASKS["default"]["BACKEND"] == TASK_BACKEND_ALIASES["redis"]:
    _tasks_redis_url = os.environ.get("TASKS_REDIS_URL") or REDIS_URL
    if not _tasks_redis_url:
        raise ImproperlyConfigured("TASKS_BACKEND=redis needs TASKS_REDIS_URL (or REDIS_URL)")
    TASKS["default"]["OPTIONS"] = {
        "REDIS_URL": _tasks_redis_url,
        "REDIS_KEY_PREFIX": os.environ.get("TASKS_REDIS_PREFIX",
                                           os.environ.get("CACHE_KEY_PREFIX", "ws") + ":tasks"),
        # A task whose worker died (killed, machine lost) is handed to another worker after
        # this long; our tasks are idempotent, so one still running would only run twice.
        "REDIS_CLAIM_TIMEOUT": int(os.environ.get("TASKS_CLAIM_TIMEOUT_S", "300")),
        # How long an idle worker blocks on the stream per read (ms): it answers SIGTERM and
        # writes its heartbeat between reads.
        "REDIS_BLOCK_TIMEOUT": 2000,
        "REDIS_SOCKET_CONNECT_TIMEOUT": 5,
        "REDIS_HEALTH_CHECK_INTERVAL": 30,
        # Finished results are kept a week, as prune_db_task_results keeps the database's.
        "REDIS_RESULT_TTL": 7 * 86400,
        # A task started this many times without finishing (it kills its worker) is given up.
        "REDIS_MAX_DELIVERIES": int(os.environ.get("TASKS_MAX_DELIVERIES", "5")),
    }
    INSTALLED_APPS.append("django_tasks_redis")  # its admin pages (Redis tasks) for operators

# Every periodic safety net of the system, run by `manage.py run_periodic` (core): (name, dotted
# path of a function returning how many it handled). Each is idempotent and cheap when there is
# nothing to do. Listed here, where the apps are assembled, because core names no app.
PERIODIC_JOBS = [
    ("outbox", "warmstation.outreach.services.outbox_retry_due"),
    ("notices", "warmstation.outreach.services.notice_publish_due"),
    ("handbooks", "warmstation.documents.services.handbook_refresh_due"),
    ("points_holds", "warmstation.points.services.hold_expire_due"),
    ("redemptions", "warmstation.benefits.services.redemption_expire_due"),
    ("appeal_reminders", "warmstation.appeals.services.appeal_remind_due"),
    ("volunteering", "warmstation.volunteering.services.volunteering_tick"),
    ("idempotency_keys", "warmstation.points.idempotency.idempotency_purge_due"),
    ("report_photos", "warmstation.reports.services.photo_process_due"),
    ("audit_retention", "warmstation.core.retention.audit_purge_due"),
    ("partitions", "warmstation.core.partitioning.partitions_maintain_due"),
    ("dashboard_figures", "warmstation.dashboard.services.figures_refresh_due"),
    ("import_batches", "warmstation.dashboard.importing_services.import_batch_expire_due"),
    ("import_resume", "warmstation.dashboard.importing_services.import_batch_resume_due"),
]
# Monthly partitions on PostgreSQL (core.partitioning, ADR 0015): (table, timestamp column) of
# every append-only table that grows without bound, created by the apps' migrations; the job
# keeps this month's and the next PARTITIONS_AHEAD_MONTHS' partitions made.
PARTITIONED_TABLES = [
    ("core_auditevent", "at"),
    ("points_entry", "created_at"),
    ("stations_servicerecord", "at"),
    ("outreach_outboxmessage", "created_at"),
]
PARTITIONS_AHEAD_MONTHS = int(os.environ.get("PARTITIONS_AHEAD_MONTHS", "3"))
# How old the dashboard's roll-ups may get before the periodic job refreshes them (minutes).
DASHBOARD_REFRESH_MINUTES = int(os.environ.get("DASHBOARD_REFRESH_MINUTES", "10"))

# The worker home's task launcher (accounts/launcher.py), in the order shown: (URL name with an
# optional query, label, icon (one plain symbol such as ♨ ¥ ✎ ☰ — cheap phones lack
# colour emoji), badge = "" or the dotted path of a function (user) -> int | None).
# An entry whose URL name does not resolve yet is skipped, so the slots of apps still being built
# can wait here. An app adds its task with ONE line (HELPERS.md, "Worker home launcher").
WORKER_TASKS = [
    ("stations:list?open=1", _("附近驿站"), "♨", ""),
    ("benefits:wallet", _("积分钱包 · 爱心餐"), "¥", ""),
    ("appeals:new", _("提诉求"), "✎", ""),
    ("appeals:mine", _("我的诉求"), "☰", "warmstation.appeals.selectors.appeal_open_count"),
    # snap-and-report (reports)
    ("reports:new", _("随手拍"), "◉", ""),
    # volunteering
    ("volunteering:list", _("志愿服务"), "♥",
     "warmstation.volunteering.selectors.coming_shift_count"),
    # notices (outreach)
    ("notices:inbox", _("通知"), "✉", "warmstation.outreach.selectors.unread_count"),
    # housing: the family flat, the survey, resources
    ("housing:home", _("住宿 · 爱心公寓"), "⌂", ""),
    # union membership
    ("union:home", _("加入工会"), "☆", ""),
]
# The same for a resident's home (孤、老、病、残 residents, usually helped by their community).
RESIDENT_TASKS = [
    ("stations:list", _("附近驿站"), "♨", ""),
    # errands (volunteering)
    ("volunteering:errand_new", _("请小哥跑腿"), "♥", ""),
    ("accounts:my_data", _("我的数据"), "☰", ""),
]

# Retention (docs/operations.md): audit rows are kept AUDIT_RETENTION_DAYS (at least 183: about
# six months), exported to AUDIT_ARCHIVE_DIR before they are deleted (core.retention); an
# idempotency key is kept POINTS_IDEMPOTENCY_RETENTION_DAYS, well past the 24 hours within
# which a client may retry a request that moves points (docs/points-ledger.md).
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
AUDIT_ARCHIVE_DIR = Path(os.environ.get("AUDIT_ARCHIVE_DIR", VAR_DIR / "audit-archive"))
POINTS_IDEMPOTENCY_RETENTION_DAYS = int(os.environ.get("POINTS_IDEMPOTENCY_RETENTION_DAYS", "7"))
# The key that signs the ledger's checkpoints (points.chain); derived from SECRET_KEY when unset.
# Production sets its own and keeps it out of the database's backups.
LEDGER_CHECKPOINT_KEY = os.environ.get("LEDGER_CHECKPOINT_KEY", "")

from django.utils.csp import CSP  # noqa: E402

# Map tiles come from the host in MAP_TILE_URL (天地图, a district tile server …): allow it.
_TILE_ORIGIN = urlsplit(MAP_TILE_URL.replace("{s}", "a"))
_TILE_HOSTS = [f"{_TILE_ORIGIN.scheme}://{_TILE_ORIGIN.netloc.replace('a.', '*.', 1)}"] \
    if _TILE_ORIGIN.netloc else []
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_TILE_HOSTS],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

NINJA_PAGINATION_PER_PAGE = 50
# Bounded, so a huge limit or offset is a 422, not an integer overflow in the database.
NINJA_PAGINATION_MAX_LIMIT = 200
NINJA_PAGINATION_MAX_OFFSET = 1_000_000
NINJA_PAGINATION_CLASS = "warmstation.core.pagination.BoundedLimitOffset"

# Logs: one JSON object a line in production (LOG_FORMAT=json), plain text otherwise; mobile and
# ID numbers are masked in every line whatever its source (core/logs.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask": {"()": "warmstation.core.logs.MaskPersonalData"}},
    "formatters": {
        "json": {"()": "warmstation.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask"],
                             "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "warmstation": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                        "propagate": False},
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
