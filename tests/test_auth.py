"""Password hashing, allow-lists and throttling of the hosted login."""

import base64
import threading
import time

import pytest

from pmkit.auth import (
    MAX_FAILURES,
    NAME_MAX_FAILURES,
    SESSION_SECONDS,
    AuthSettings,
    PasswordCheck,
    Throttle,
    auth_settings,
    check_password,
    end_session,
    hash_password,
    issue_session,
    session_end,
    session_user,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def settings() -> AuthSettings:
    return auth_settings({"pmkit_auth": {"passwords": {"CEO@Example.com": hash_password("s3cret-pass")}}})


def test_hashes_are_salted_argon2() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first.startswith("$argon2id$") and first != second


def test_the_right_password_logs_in_and_names_are_case_insensitive(settings: AuthSettings) -> None:
    assert check_password(settings, " ceo@example.com", "s3cret-pass", Throttle()).ok


def test_a_wrong_password_or_unknown_user_is_refused_with_the_same_message(settings: AuthSettings) -> None:
    throttle = Throttle()
    wrong = check_password(settings, "ceo@example.com", "nope", throttle)
    unknown = check_password(settings, "intruder@example.com", "s3cret-pass", throttle)
    assert not wrong.ok and not unknown.ok
    assert wrong.message == unknown.message == "Wrong user name or password."


def test_a_known_and_an_unknown_name_each_cost_one_argon2_verify(
    settings: AuthSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Equal work is what keeps a wrong name as slow as a wrong password (tests never time).
    import pmkit.auth as auth

    verified: list[str] = []
    real = auth._hasher

    class Spy:
        def hash(self, password: str) -> str:
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            verified.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(auth, "_hasher", Spy())
    check_password(settings, "ceo@example.com", "nope", Throttle())
    check_password(settings, "intruder@example.com", "nope", Throttle())
    known, unknown = verified
    assert known == settings.passwords["ceo@example.com"]
    assert unknown.startswith("$argon2id$") and unknown.split("$")[2:4] == known.split("$")[2:4]


def test_repeated_failures_lock_the_user_out_for_a_while(settings: AuthSettings) -> None:
    clock = Clock()
    throttle = Throttle(clock)
    for _ in range(MAX_FAILURES):
        assert not check_password(settings, "ceo@example.com", "guess", throttle).ok
    locked = check_password(settings, "ceo@example.com", "s3cret-pass", throttle)
    assert not locked.ok and "Too many failed attempts" in locked.message
    clock.now += 31
    assert check_password(settings, "ceo@example.com", "s3cret-pass", throttle).ok


def test_lockouts_double_with_further_failures(settings: AuthSettings) -> None:
    clock = Clock()
    throttle = Throttle(clock)
    for _ in range(MAX_FAILURES):
        throttle.failed("x")
    assert throttle.wait_seconds("x") == 30
    clock.now += 30
    throttle.failed("x")
    assert throttle.wait_seconds("x") == 60


def test_the_email_allow_list_takes_addresses_and_domains() -> None:
    settings = auth_settings(
        {
            "auth": {"client_id": "x"},
            "pmkit_auth": {"allowed_emails": ["Boss@Other.org"], "allowed_domains": ["@example.com"]},
        }
    )
    assert settings.oidc and settings.configured
    assert settings.email_allowed("boss@other.org")
    assert settings.email_allowed("anyone@example.com")
    assert not settings.email_allowed("anyone@evil-example.com")
    assert not settings.email_allowed("someone@other.org")
    assert not settings.email_allowed(None)


def test_an_empty_allow_list_allows_nobody() -> None:
    assert not auth_settings({"auth": {}}).email_allowed("a@example.com")


def test_nothing_configured_is_not_configured() -> None:
    assert not auth_settings({}).configured


# --- password sessions that survive a reload -------------------------------------------------------

SECRET = "a-session-secret-of-at-least-32-characters"


def session_settings(secret: str | None = SECRET, password: str = "pw-1") -> AuthSettings:
    return auth_settings(
        {"pmkit_auth": {"passwords": {"ceo@example.com": hash_password(password)}, "session_secret": secret}}
    )


def test_a_session_token_signs_in_its_user_until_it_expires():
    settings = session_settings()
    token = issue_session(settings, "ceo@example.com", now=lambda: 1_000_000.0)
    assert token is not None
    assert session_user(settings, token, now=lambda: 1_000_000.0) == "ceo@example.com"
    last = 1_000_000.0 + SESSION_SECONDS
    assert session_user(settings, token, now=lambda: last - 1) == "ceo@example.com"
    assert session_user(settings, token, now=lambda: last) is None


def test_a_session_token_is_refused_when_changed_signed_with_another_secret_or_after_a_new_password():
    settings = session_settings()
    token = issue_session(settings, "ceo@example.com")
    body, signature = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"user":"ceo@example.com","expires":9999999999}').decode().rstrip("=")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for bad in [
        f"{forged_body}.{signature}",
        f"{body}.{flipped}",
        body,
        f"{body}.{signature}.x",
        "",
        "x" * 2000,
        7,
        None,
    ]:
        assert session_user(settings, bad) is None, bad
    assert session_user(session_settings("another-secret-of-at-least-32-characters"), token) is None
    assert session_user(session_settings(password="pw-2"), token) is None  # a new hash ends old sessions
    # The hash is one of the user's passwords: another user's list without them refuses too.
    assert session_user(auth_settings({"pmkit_auth": {"session_secret": SECRET}}), token) is None


def test_a_session_that_ended_says_why_and_no_other_token_does():
    """The sign-in page said only "Sign in to continue" to a tab whose session had ended."""
    settings = session_settings()
    token = issue_session(settings, "ceo@example.com", now=lambda: 1_000_000.0)
    assert session_end(settings, token, now=lambda: 1_000_000.0) is None  # still holds
    assert session_end(settings, token, now=lambda: 1_000_000.0 + SESSION_SECONDS) == "sessions last 12 hours"
    assert session_end(session_settings(password="pw-2"), token, now=lambda: 1_000_000.0) == (
        "its password or the dashboard's sign-in settings changed"
    )
    for other in ("", "x" * 2000, "no-dot", None, 7, "a.b"):
        assert session_end(settings, other) is None, other
    end_session(token)
    assert session_end(settings, token, now=lambda: 1_000_000.0) == (
        "it was logged out (in this browser or with a copy of its cookie)"
    )
    assert session_user(settings, token, now=lambda: 1_000_000.0) is None


def test_sessions_need_a_long_secret_and_fall_back_to_the_oidc_cookie_secret():
    assert issue_session(session_settings(secret=None), "ceo@example.com") is None
    assert issue_session(session_settings(secret="too short"), "ceo@example.com") is None
    placeholder = "replace with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    assert issue_session(session_settings(secret=placeholder), "ceo@example.com") is None  # the example's text
    assert session_user(session_settings(secret=None), "anything.at-all") is None
    oidc = auth_settings({"auth": {"cookie_secret": SECRET}, "pmkit_auth": {"passwords": {"a": hash_password("p")}}})
    assert oidc.session_secret == SECRET
    assert session_user(oidc, issue_session(oidc, "a")) == "a"
    assert issue_session(oidc, "nobody") is None


def test_twelve_attempts_at_once_check_at_most_five_passwords(settings: AuthSettings) -> None:
    """Each attempt is counted before its password is checked: 12 sent at once were all checked
    (the 12th guessing right) where the limit is 5 (security QA)."""
    import concurrent.futures

    throttle = Throttle()
    guesses = ["nope"] * 11 + ["s3cret-pass"]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda pw: check_password(settings, "ceo@example.com", pw, throttle), guesses))
    checked = [r for r in results if not r.message.startswith("Too many failed attempts")]
    assert len(checked) <= 5
    assert not any(r.ok for r in results[:11])


def test_ten_right_passwords_at_once_all_sign_in(settings: AuthSettings) -> None:
    """Ten viewers of one login signing in at once (a team's shared account, the Monday meeting):
    each attempt counted as a failure until its check ended, so the sixth to the tenth got "Too
    many failed attempts" with the right password, and the name stayed locked for 30 s."""
    import concurrent.futures

    throttle = Throttle()
    at_once = threading.Barrier(10)

    def sign_in(_: int) -> PasswordCheck:
        at_once.wait()
        return check_password(settings, "ceo@example.com", "s3cret-pass", throttle)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(sign_in, range(10)))
    assert [r.message for r in results if not r.ok] == []
    assert throttle.wait_seconds("ceo@example.com") == 0


def test_a_right_password_clears_the_attempt_it_counted(settings: AuthSettings) -> None:
    throttle = Throttle()
    for _ in range(10):
        assert check_password(settings, "ceo@example.com", "s3cret-pass", throttle).ok


def test_an_unverified_or_doubled_address_is_not_allowed() -> None:
    """attacker@evil.com@example.com and an unverified anyone@example.com passed the domain check."""
    settings = auth_settings({"auth": {}, "pmkit_auth": {"allowed_domains": ["example.com"]}})
    assert settings.email_allowed("anyone@example.com")
    assert settings.email_allowed("anyone@example.com", verified=True)
    assert not settings.email_allowed("anyone@example.com", verified=False)
    assert not settings.email_allowed("anyone@example.com", verified="false")
    assert not settings.email_allowed("attacker@evil.com@example.com")
    assert not settings.email_allowed("a b@example.com")
    assert not settings.email_allowed("@example.com")


def test_logging_out_ends_the_session_for_every_copy_of_its_cookie() -> None:
    from pmkit.auth import end_session, issue_session, session_user

    secret = "s" * 40
    settings = auth_settings(
        {"pmkit_auth": {"session_secret": secret, "passwords": {"ceo@example.com": hash_password("pw")}}}
    )
    token = issue_session(settings, "ceo@example.com")
    other = issue_session(settings, "ceo@example.com", now=lambda: time.time() + 1)
    assert session_user(settings, token) == "ceo@example.com"
    end_session(token)
    assert session_user(settings, token) is None
    assert session_user(settings, other) == "ceo@example.com"  # another sign-in is not ended


def test_a_lockout_holds_for_the_address_that_guessed(settings: AuthSettings) -> None:
    """Five wrong guesses from anywhere locked the name out for everyone, doubling with each
    further guess: anyone could keep an executive from signing in."""
    clock = Clock()
    throttle = Throttle(clock)
    for _ in range(MAX_FAILURES):
        assert not check_password(settings, "ceo@example.com", "guess", throttle, client="203.0.113.5").ok
    locked = check_password(settings, "ceo@example.com", "s3cret-pass", throttle, client="203.0.113.5")
    assert not locked.ok and "Too many failed attempts" in locked.message
    assert check_password(settings, "ceo@example.com", "s3cret-pass", throttle, client="198.51.100.7").ok
    # The right password from elsewhere does not unlock the guesser's address.
    assert not check_password(settings, "ceo@example.com", "guess", throttle, client="203.0.113.5").ok


def test_guesses_spread_over_many_addresses_lock_the_name_everywhere(settings: AuthSettings) -> None:
    clock = Clock()
    throttle = Throttle(clock)
    addresses = [f"203.0.113.{n}" for n in range(NAME_MAX_FAILURES // MAX_FAILURES)]
    for address in addresses:
        for _ in range(MAX_FAILURES):
            assert not check_password(settings, "ceo@example.com", "guess", throttle, client=address).ok
    locked = check_password(settings, "ceo@example.com", "s3cret-pass", throttle, client="198.51.100.7")
    assert not locked.ok and "Too many failed attempts" in locked.message
    assert check_password(settings, "cfo@example.com", "guess", throttle, client="198.51.100.7").message == (
        "Wrong user name or password."  # another name is not locked
    )
    clock.now += 31
    assert check_password(settings, "ceo@example.com", "s3cret-pass", throttle, client="198.51.100.7").ok


def test_names_made_up_by_a_guesser_are_forgotten_once_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    import pmkit.auth as auth

    monkeypatch.setattr(auth, "MAX_KEYS", 10)
    clock = Clock()
    throttle = Throttle(clock)
    for n in range(9):
        throttle.failed(f"made-up-{n}")
    clock.now += auth.FORGET_AFTER_SECONDS - 10
    for _ in range(MAX_FAILURES):
        throttle.failed("ceo@example.com")  # the tenth key, locked out now
    clock.now += 11
    throttle.failed("recent")  # the table is full: the quiet keys go
    assert sorted(throttle._failures) == ["ceo@example.com", "recent"]
    assert throttle.wait_seconds("ceo@example.com") > 0  # its count and lockout are kept
    throttle.failed("ceo@example.com")
    assert throttle._failures["ceo@example.com"] == MAX_FAILURES + 1


def test_a_name_holding_an_address_cannot_lock_out_another_viewer(settings: AuthSettings) -> None:
    """The browser's box strips line breaks, the server did not: failures sent as the name
    "ceo@example.com<line break>198.51.100.77" counted against the executive at that address (QA)."""
    throttle = Throttle(Clock())
    for _ in range(2 * MAX_FAILURES):
        check_password(settings, "ceo@example.com\n198.51.100.77", "guess", throttle, client="203.0.113.9")
    assert not check_password(settings, "ceo@example.com", "typo", throttle, client="198.51.100.77").ok
    assert check_password(settings, "ceo@example.com", "s3cret-pass", throttle, client="198.51.100.77").ok
