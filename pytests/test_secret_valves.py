"""Secret valves are stored sealed (``encrypted:…``, keyed from WEBUI_SECRET_KEY), the way
the reference pipe stored them, and the engine still uses the plain value.

The valves are validated the way Open WebUI does it (``Valves(**form)`` then
``model_dump(exclude_unset=True)`` is what lands in its database), and the plain key is
checked where it matters: in the Authorization header the fake OpenRouter receives.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import sys

import pytest

from bridge_helpers import API_KEY, chat_body, collect, content_of, new_pipe, parse_lines

fernet = pytest.importorskip("cryptography.fernet", reason="sealing needs cryptography")
import openrouter_pipe.secret_valves as secret_valves  # noqa: E402

SECRET = "webui-secret-for-the-secret-valve-tests"
SECRETS = {
    "API_KEY": API_KEY,
    "ARTIFACT_ENCRYPTION_KEY": "artifact-passphrase-0123456789",
    "SESSION_LOG_ZIP_PASSWORD": "zip-password-0123456789",
}


def unseal(stored: str, secret: str = SECRET) -> str:
    assert stored.startswith("encrypted:"), stored
    key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
    return fernet.Fernet(key).decrypt(stored[len("encrypted:") :].encode()).decode()


def saved_form(valves_class, form: dict) -> dict:
    """What Open WebUI stores for an admin form: the validated, explicitly set values."""
    return valves_class(**{k: v for k, v in form.items() if v is not None}).model_dump(exclude_unset=True)


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(secret_valves, "_warned", set())


@pytest.fixture
def with_secret(monkeypatch):
    monkeypatch.setenv("WEBUI_SECRET_KEY", SECRET)


async def chat_authorization(fake, pipe) -> str:
    payloads = parse_lines(await collect(pipe, chat_body("secret hello")))
    assert content_of(payloads) == "Echo: secret hello"
    return fake.requests("/api/v1/responses")[-1]["headers"]["authorization"]


async def test_saved_secrets_hold_no_plain_text_and_the_engine_still_uses_them(fake, with_secret):
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    stored = saved_form(Valves, {**SECRETS, "BASE_URL": fake.base_url})
    for name, plain in SECRETS.items():
        assert plain not in str(stored), f"{name} would be stored in plain text"
        assert unseal(stored[name]) == plain, name
    assert stored["BASE_URL"] == fake.base_url, "ordinary valves are stored as typed"

    pipe.valves = Valves(**stored)  # Open WebUI loads the stored valves before each call
    assert await chat_authorization(fake, pipe) == f"Bearer {API_KEY}"


async def test_resaving_the_form_neither_seals_twice_nor_breaks_the_key(fake, with_secret):
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    first = saved_form(Valves, {"API_KEY": API_KEY, "BASE_URL": fake.base_url})
    # The admin form shows the stored value back (password field) and sends it again.
    again = saved_form(Valves, first)
    assert again == first
    assert again["API_KEY"].count("encrypted:") == 1
    pipe.valves = Valves(**again)
    assert await chat_authorization(fake, pipe) == f"Bearer {API_KEY}"


async def test_values_sealed_by_the_reference_and_plain_reference_values_keep_working(fake, with_secret):
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    key = base64.urlsafe_b64encode(hashlib.sha256(SECRET.encode()).digest())
    by_reference = "encrypted:" + fernet.Fernet(key).encrypt(API_KEY.encode()).decode()
    loaded = Valves(API_KEY=by_reference, BASE_URL=fake.base_url)
    assert loaded.API_KEY == by_reference, "an already sealed value is kept as stored"
    pipe.valves = loaded
    assert await chat_authorization(fake, pipe) == f"Bearer {API_KEY}"

    # A plain value the reference stored without WEBUI_SECRET_KEY is sealed when loaded.
    pipe.valves = Valves(API_KEY=API_KEY, BASE_URL=fake.base_url)
    assert unseal(pipe.valves.API_KEY) == API_KEY
    assert await chat_authorization(fake, pipe) == f"Bearer {API_KEY}"


async def test_empty_secrets_stay_empty_and_the_environment_key_is_used(fake, with_secret, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-from-the-environment")
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    stored = saved_form(Valves, {"API_KEY": "", "ARTIFACT_ENCRYPTION_KEY": "", "BASE_URL": fake.base_url})
    assert stored["API_KEY"] == "" and stored["ARTIFACT_ENCRYPTION_KEY"] == ""
    pipe.valves = Valves(**stored)
    assert await chat_authorization(fake, pipe) == "Bearer sk-or-from-the-environment"


async def test_a_key_sealed_under_another_secret_is_ignored_not_sent(fake, with_secret, monkeypatch, caplog):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-from-the-environment")
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    other = base64.urlsafe_b64encode(hashlib.sha256(b"another-server").digest())
    foreign = "encrypted:" + fernet.Fernet(other).encrypt(b"sk-or-other-server").decode()
    loaded = Valves(API_KEY=foreign, BASE_URL=fake.base_url)
    assert loaded.API_KEY == foreign, "a value sealed under another key still loads unchanged"
    pipe.valves = loaded
    with caplog.at_level(logging.WARNING, logger="openrouter_pipe"):
        assert await chat_authorization(fake, pipe) == "Bearer sk-or-from-the-environment"
    assert any("cannot be decrypted" in r.getMessage() for r in caplog.records)


async def test_without_webui_secret_key_secrets_are_kept_as_typed_with_one_warning(
    fake, monkeypatch, caplog, fresh_warnings
):
    monkeypatch.delenv("WEBUI_SECRET_KEY", raising=False)
    pipe = new_pipe(fake.base_url)
    Valves = pipe.module.Pipe.Valves
    with caplog.at_level(logging.WARNING, logger="openrouter_pipe"):
        for _ in range(3):
            stored = saved_form(Valves, {**SECRETS, "BASE_URL": fake.base_url})
    assert {name: stored[name] for name in SECRETS} == SECRETS
    warnings = [r.getMessage() for r in caplog.records if "WEBUI_SECRET_KEY" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert not any(plain in r.getMessage() for r in caplog.records for plain in SECRETS.values())
    pipe.valves = Valves(**stored)
    assert await chat_authorization(fake, pipe) == f"Bearer {API_KEY}"


def test_without_cryptography_secrets_are_kept_as_typed_with_one_warning(
    with_secret, monkeypatch, caplog, fresh_warnings
):
    monkeypatch.setitem(sys.modules, "cryptography.fernet", None)  # makes the import fail
    Valves = new_pipe("http://127.0.0.1:9").module.Pipe.Valves
    with caplog.at_level(logging.WARNING, logger="openrouter_pipe"):
        first = saved_form(Valves, {"API_KEY": API_KEY})
        saved_form(Valves, {"API_KEY": "sk-or-second"})
    assert first["API_KEY"] == API_KEY
    assert len([r for r in caplog.records if "cryptography" in r.getMessage()]) == 1
