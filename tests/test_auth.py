"""Password hashing, allow-lists and throttling of the hosted login."""

import pytest

from pmkit.auth import MAX_FAILURES, AuthSettings, Throttle, auth_settings, check_password, hash_password


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
