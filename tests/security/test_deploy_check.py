"""`check --deploy` is clean with the production settings docs/security.md lists."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The set docs/security.md documents; keep the two in step.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "tracker.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://tracker.example.com",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def test_it_reports_nothing_with_production_settings() -> None:
    # A clean environment: the test run's own variables (DJANGO_ALLOW_ASYNC_UNSAFE...)
    # are not production's. DATABASE_URL passes, to check the database the suite uses.
    passed = {k: os.environ[k] for k in ("PATH", "DATABASE_URL") if k in os.environ}
    env = {**passed, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout
