"""gunicorn settings for a Credit Casework web node (`gunicorn -c deploy/gunicorn.conf.py config.wsgi`).

Every value comes from the environment (deploy/casework.env.example documents them), read with the project's
typed helpers so a typo stops the node at start instead of running it wrongly.
"""

import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.env import env_int_range, env_str  # noqa: E402

# nginx in front (deploy/nginx/casework.conf) talks to the node on the loopback or the private network.
bind = env_str("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# Sync workers: each request holds one database connection; the rule of thumb is 2 × cores + 1.
workers = env_int_range("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1, minimum=1)
threads = env_int_range("GUNICORN_THREADS", 1, minimum=1)
# A PDF render runs in the task cluster, never in a request; a minute is generous for the slowest page.
timeout = env_int_range("GUNICORN_TIMEOUT", 60, minimum=5)
graceful_timeout = env_int_range("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = 5
# Recycle workers now and then so a slow leak never takes a node down; jitter keeps them from restarting together.
max_requests = env_int_range("GUNICORN_MAX_REQUESTS", 2000, minimum=0)
max_requests_jitter = max_requests // 10
# Logs to stdout/stderr for journald; the application's own records are JSON lines (LOG_FORMAT).
accesslog = env_str("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Which proxies may set X-Forwarded-Proto/-For (nginx on the same machine by default).
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "casework-web"
