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

A password sign-in lasts for the browser session (a reload keeps it) when a secret to sign it
with is configured: ``session_secret`` under [pmkit_auth], else [auth] ``cookie_secret`` (at
least 32 characters). See ``issue_session``.

The app in local mode asks for no login unless one is configured; in read-only (hosted) mode a
login is required, and with nothing configured it refuses to show data (secure by default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Throttling: after this many failures for one user name from one address, wait LOCKOUT_SECONDS,
# doubling each further failure, up to MAX_LOCKOUT_SECONDS. From every address together, the
# name is locked after NAME_MAX_FAILURES: a guesser spread over many addresses is slowed as well,
# while one guesser can no longer lock an executive out from everywhere with five tries.
MAX_FAILURES = 5
NAME_MAX_FAILURES = 10 * MAX_FAILURES
# One address: a local part without spaces or a second "@", and a domain of labels.
PLAIN_ADDRESS = re.compile(r"[^@\s]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
LOCKOUT_SECONDS = 30.0
MAX_LOCKOUT_SECONDS = 15 * 60.0
# Past this many keys, those without a failure for FORGET_AFTER_SECONDS (and not locked) are forgotten.
MAX_KEYS = 10_000
FORGET_AFTER_SECONDS = 3600.0
# Password sessions: a signed cookie lasts this long; the signing secret is at least this long.
SESSION_SECONDS = 12 * 3600
MIN_SECRET_LENGTH = 32
SESSION_COOKIE = "pmkit_session"
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
    session_secret: str | None = None  # signs password sessions (None: a reload asks again)

    @property
    def configured(self) -> bool:
        return self.oidc or bool(self.passwords) or self.anonymous

    def email_allowed(self, email: str | None, verified: object = True) -> bool:
        """After an OIDC login: is this address on the allow-list? An empty list allows nobody,
        so a forgotten allow-list never opens the app to every account of the provider. An
        address the provider says is not verified (``email_verified`` false), or that is not
        one plain address, is refused: "attacker@evil.com@example.com" and an unverified
        "anyone@example.com" passed the domain check."""
        if not email or unverified(verified):
            return False
        email = email.strip().lower()
        if not PLAIN_ADDRESS.fullmatch(email):
            return False
        domain = email.rpartition("@")[2]
        return email in self.allowed_emails or domain in self.allowed_domains


def unverified(claim: object) -> bool:
    """Whether an ``email_verified`` claim says no (a provider that sends none is taken at its
    word; some send the text "false")."""
    return claim in (False, 0, "false", "False", "0")


def auth_settings(secrets: Mapping[str, Any]) -> AuthSettings:
    section = secrets.get("pmkit_auth", {}) or {}
    return AuthSettings(
        oidc="auth" in secrets,
        allowed_emails=frozenset(str(e).strip().lower() for e in section.get("allowed_emails", [])),
        allowed_domains=frozenset(str(d).strip().lower().lstrip("@") for d in section.get("allowed_domains", [])),
        passwords={str(k).strip().lower(): str(v) for k, v in dict(section.get("passwords", {})).items()},
        anonymous=bool(section.get("anonymous", False)),
        session_secret=_session_secret(
            section.get("session_secret") or (secrets.get("auth") or {}).get("cookie_secret")
        ),
    )


def _session_secret(value: object) -> str | None:
    """A secret to sign sessions with, else None (sessions then end on reload): at least 32
    characters and no spaces, so the example file's "replace with: ..." text never signs one."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH and not any(c.isspace() for c in value):
        return value
    return None


class Throttle:
    """Failed attempts per key (``check_password``'s: a user name, or a name from one address),
    shared by every session of the server process."""

    # One password check at a time per user name (``checking``). Counting an attempt as a
    # failure until its check ended stopped parallel guessing, but also refused right passwords:
    # ten viewers of one login signing in at once got "Too many failed attempts" from the sixth
    # on. Checked one after another, each attempt sees the failures before it and nothing else.
    # Striped, so names made up by a guesser cannot grow a table of locks.
    STRIPES = 64

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[Hashable, int] = {}
        self._locked_until: dict[Hashable, float] = {}
        self._last_failure: dict[Hashable, float] = {}
        self._checks = [threading.Lock() for _ in range(self.STRIPES)]

    def checking(self, user: str) -> threading.Lock:
        """Held while one attempt for ``user`` is counted and checked."""
        return self._checks[int.from_bytes(hashlib.sha256(user.encode()).digest()[:4], "big") % self.STRIPES]

    def wait_seconds(self, key: Hashable) -> float:
        """Seconds before ``key`` may try again (0 when allowed now)."""
        with self._lock:
            return max(0.0, self._locked_until.get(key, 0.0) - self._clock())

    def attempt(self, key: Hashable, limit: int = MAX_FAILURES) -> float:
        """Count an attempt for ``key`` before its password is checked, and return 0; or the
        seconds to wait, counting nothing. Counted first, as a failure until ``succeeded``: 12
        attempts sent at once were all checked, where the limit is 5, one of them guessing right."""
        with self._lock:
            wait = self._locked_until.get(key, 0.0) - self._clock()
            if wait > 0:
                return wait
            self._count_failure(key, limit)
            return 0.0

    def failed(self, key: Hashable, limit: int = MAX_FAILURES) -> None:
        with self._lock:
            self._count_failure(key, limit)

    def _count_failure(self, key: Hashable, limit: int) -> None:
        now = self._clock()
        if len(self._failures) >= MAX_KEYS:
            self._forget_quiet_keys(now)
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        self._last_failure[key] = now
        if count >= limit:
            delay = min(LOCKOUT_SECONDS * 2 ** (count - limit), MAX_LOCKOUT_SECONDS)
            self._locked_until[key] = now + delay

    def _forget_quiet_keys(self, now: float) -> None:
        """Forget the keys with no failure for FORGET_AFTER_SECONDS and no lockout running: a
        guesser making up names and addresses grew the tables for as long as the server ran."""
        for key in [k for k, last in self._last_failure.items() if last < now - FORGET_AFTER_SECONDS]:
            if self._locked_until.get(key, 0.0) <= now:
                self._failures.pop(key, None)
                self._locked_until.pop(key, None)
                self._last_failure.pop(key, None)

    def succeeded(self, key: Hashable) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)
            self._last_failure.pop(key, None)


THROTTLE = Throttle()


@dataclass(frozen=True)
class PasswordCheck:
    ok: bool
    message: str = ""


def check_password(
    settings: AuthSettings, user: str, password: str, throttle: Throttle = THROTTLE, client: str | None = None
) -> PasswordCheck:
    """Verify a password login; the message never says whether the user name exists. ``client``:
    the address the attempt comes from (None: this machine); its failures lock the name for it
    alone, every address's together for all (``NAME_MAX_FAILURES``)."""
    user = user.strip().lower()
    # Apart: a name sent with a line break and an address in it once made another viewer's key.
    here, everywhere = ("address", user, client or ""), ("name", user)
    with throttle.checking(user):
        wait = max(throttle.wait_seconds(here), throttle.wait_seconds(everywhere))
        if wait > 0:
            return PasswordCheck(False, f"Too many failed attempts. Try again in {int(wait) + 1} seconds.")
        # Counted as failures until it succeeds (one check per name at a time: see checking).
        throttle.attempt(here)
        throttle.attempt(everywhere, NAME_MAX_FAILURES)
        stored = settings.passwords.get(user)
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok:
            throttle.succeeded(here)
            throttle.succeeded(everywhere)
            return PasswordCheck(True)
        return PasswordCheck(False, "Wrong user name or password.")


def issue_session(settings: AuthSettings, user: str, now: Callable[[], float] = time.time) -> str | None:
    """A token for the ``pmkit_session`` cookie after a password sign-in, or None when no secret
    is configured. It names the user and when it expires, signed with HMAC-SHA256 under a key
    derived from the secret. The signature also covers the user's stored password hash, so a new
    password (a new hash) ends every session signed before it. Checked by ``session_user``."""
    stored = settings.passwords.get(user)
    if settings.session_secret is None or stored is None:
        return None
    payload = json.dumps({"user": user, "expires": int(now()) + SESSION_SECONDS}, separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_signature(settings.session_secret, body, stored)}"


# Tokens ended by "Log out" (their SHA-256 -> when they expire anyway), in this server process:
# logging out only deleted the browser's copy, and a copied cookie stayed good for 12 hours. A
# restarted server forgets them; deploy/README.md says so (a new password hash ends them all).
_ENDED: dict[str, float] = {}
_ENDED_LOCK = threading.Lock()


# Streamlit's OIDC sign-in cookie: signed, but no server keeps it, and it lasts 30 days. Its
# "Log out" deleted the browser's copy only, so a copy of it stayed signed in (hosted QA).
OIDC_COOKIE = "_streamlit_user"
OIDC_COOKIE_SECONDS = 30 * 24 * 3600


def end_session(token: object, now: Callable[[], float] = time.time, lasts: int = SESSION_SECONDS) -> None:
    """Refuse ``token`` from now on (``session_user``, ``session_ended``), whoever holds a copy,
    for the ``lasts`` seconds it could still be used."""
    if not isinstance(token, str) or not token:
        return
    with _ENDED_LOCK:
        moment = now()
        for digest in [d for d, until in _ENDED.items() if until <= moment]:
            del _ENDED[digest]  # expired anyway
        _ENDED[hashlib.sha256(token.encode()).hexdigest()] = moment + lasts


def session_ended(token: object) -> bool:
    """Whether "Log out" ended ``token`` (a cookie's value) in this server process."""
    if not isinstance(token, str) or not token:
        return False
    with _ENDED_LOCK:
        return hashlib.sha256(token.encode()).hexdigest() in _ENDED


def session_user(settings: AuthSettings, token: object, now: Callable[[], float] = time.time) -> str | None:
    """The user a ``pmkit_session`` cookie signs in, or None: no secret configured, not a token
    of ours (the cookie is the browser's to change), a wrong signature, expired, ended by "Log
    out", or the user is no longer on the password list or has a new password."""
    return _session(settings, token, now)[0]


def session_end(settings: AuthSettings, token: object, now: Callable[[], float] = time.time) -> str | None:
    """Why a token of ours that once signed someone in no longer does, in words for the sign-in
    page ("has ended: ..."), or None when it still holds or was never ours."""
    return _session(settings, token, now)[1]


def _session(settings: AuthSettings, token: object, now: Callable[[], float]) -> tuple[str | None, str | None]:
    """(user, None) for a valid session token; (None, why it ended) for one of ours that did;
    (None, None) for anything else."""
    if settings.session_secret is None or not isinstance(token, str) or len(token) > 1000 or token.count(".") != 1:
        return None, None
    if session_ended(token):
        return None, "it was logged out (in this browser or with a copy of its cookie)"
    body, signature = token.split(".")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        user, expires = payload["user"], payload["expires"]
    except (ValueError, KeyError, TypeError):
        return None, None
    if not isinstance(user, str) or not isinstance(expires, int):
        return None, None
    stored = settings.passwords.get(user)
    if stored is None or not hmac.compare_digest(signature, _signature(settings.session_secret, body, stored)):
        # A signature of this secret under the hash that was: unknowable now, so a changed or
        # removed password, a new session_secret and a forged token read the same. Said only of
        # a session this tab held, or a cookie of ours on a reload.
        return None, "its password or the dashboard's sign-in settings changed"
    if expires <= now():
        return None, f"sessions last {SESSION_SECONDS // 3600} hours"
    return user, None


def _signature(secret: str, body: str, stored_hash: str) -> str:
    # A key of its own: [auth] cookie_secret also signs Streamlit's OIDC cookie.
    key = hashlib.sha256(b"pmkit password session\0" + secret.encode()).digest()
    return hmac.new(key, f"{body}\0{stored_hash}".encode(), hashlib.sha256).hexdigest()
