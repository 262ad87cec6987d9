"""Who may open a hosted pmkit: an OIDC allow-list and a password list, without Streamlit.

Secrets (`.streamlit/secrets.toml`, never committed):

    [auth]                      # Streamlit's own st.login settings, for any OIDC provider
    redirect_uri = "https://pmkit.example.com/oauth2callback"
    cookie_secret = "a long random string"
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://login.example.com/.well-known/openid-configuration"

    [pmkit_auth]
    allowed_emails = ["ceo@example.com"]    # who may see the app after an OIDC login
    allowed_domains = ["example.com"]       # or everyone with an address at these domains
    anonymous = false                       # true: no login at all (only behind your own gate)

    [pmkit_auth.passwords]                  # small teams without an identity provider
    "ceo@example.com" = "$argon2id$v=19$m=65536,t=3,p=4$..."   # python -m pmkit hash-password

The app in local mode asks for no login unless one is configured; in read-only (hosted) mode a
login is required, and with nothing configured it refuses to show data (secure by default).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Throttling: after this many failures for one user name, wait LOCKOUT_SECONDS, doubling each
# further failure, up to MAX_LOCKOUT_SECONDS.
MAX_FAILURES = 5
LOCKOUT_SECONDS = 30.0
MAX_LOCKOUT_SECONDS = 15 * 60.0
# Verify against this when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("pmkit-dummy-password")


def hash_password(password: str) -> str:
    """An argon2id hash (random salt included) to paste into [pmkit_auth.passwords]."""
    return _hasher.hash(password)


@dataclass(frozen=True)
class AuthSettings:
    oidc: bool  # an [auth] section with Streamlit's st.login settings exists
    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    passwords: Mapping[str, str] = field(default_factory=dict)
    anonymous: bool = False

    @property
    def configured(self) -> bool:
        return self.oidc or bool(self.passwords) or self.anonymous

    def email_allowed(self, email: str | None) -> bool:
        """After an OIDC login: is this address on the allow-list? An empty list allows nobody,
        so a forgotten allow-list never opens the app to every account of the provider."""
        if not email:
            return False
        email = email.strip().lower()
        domain = email.rpartition("@")[2]
        return email in self.allowed_emails or domain in self.allowed_domains


def auth_settings(secrets: Mapping[str, Any]) -> AuthSettings:
    section = secrets.get("pmkit_auth", {}) or {}
    return AuthSettings(
        oidc="auth" in secrets,
        allowed_emails=frozenset(str(e).strip().lower() for e in section.get("allowed_emails", [])),
        allowed_domains=frozenset(str(d).strip().lower().lstrip("@") for d in section.get("allowed_domains", [])),
        passwords={str(k).strip().lower(): str(v) for k, v in dict(section.get("passwords", {})).items()},
        anonymous=bool(section.get("anonymous", False)),
    )


class Throttle:
    """Failed attempts per user name, shared by every session of the server process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    def wait_seconds(self, user: str) -> float:
        """Seconds before ``user`` may try again (0 when allowed now)."""
        with self._lock:
            return max(0.0, self._locked_until.get(user, 0.0) - self._clock())

    def failed(self, user: str) -> None:
        with self._lock:
            count = self._failures.get(user, 0) + 1
            self._failures[user] = count
            if count >= MAX_FAILURES:
                delay = min(LOCKOUT_SECONDS * 2 ** (count - MAX_FAILURES), MAX_LOCKOUT_SECONDS)
                self._locked_until[user] = self._clock() + delay

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(user, None)
            self._locked_until.pop(user, None)


THROTTLE = Throttle()


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    message: str = ""


def check_password(settings: AuthSettings, user: str, password: str, throttle: Throttle = THROTTLE) -> PasswordCheck:
    """Verify a password login; the message never says whether the user name exists."""
    user = user.strip().lower()
    wait = throttle.wait_seconds(user)
    if wait > 0:
        return PasswordCheck(False, f"Too many failed attempts. Try again in {int(wait) + 1} seconds.")
    stored = settings.passwords.get(user)
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        ok = stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok:
        throttle.succeeded(user)
        return PasswordCheck(True)
    throttle.failed(user)
    return PasswordCheck(False, "Wrong user name or password.")
