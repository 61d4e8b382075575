"""Access rules: passphrase hashes, configuration precedence, OIDC roles by email and domain."""

from __future__ import annotations

import pytest

from hubdash import auth
from hubdash.cli import main


def test_hash_round_trip_and_near_misses() -> None:
    h = auth.hash_passphrase("harbour lights", iterations=1000)
    assert h.startswith("pbkdf2_sha256$1000$") and "harbour" not in h
    assert auth.verify_passphrase("harbour lights", h)
    assert not auth.verify_passphrase("harbour lights ", h)
    assert not auth.verify_passphrase("Harbour lights", h)
    assert not auth.verify_passphrase("harbour lights", "garbage")
    assert auth.hash_passphrase("x", iterations=1000) != auth.hash_passphrase("x", iterations=1000), "salted"


def test_off_unless_configured() -> None:
    cfg = auth.load_config(None, {})
    assert cfg.mode == "off" and not cfg.enabled
    assert auth.load_config({"editor_passphrase_hash": ""}, {}).mode == "off"


def test_env_passphrases_plain_or_hashed_and_env_wins() -> None:
    h = auth.hash_passphrase("from secrets", iterations=1000)
    cfg = auth.load_config({"editor_passphrase_hash": h}, {auth.ENV_EDITOR: "from env"})
    assert cfg.mode == "passphrase"
    assert auth.role_for_passphrase("from env", cfg) == "editor"
    assert auth.role_for_passphrase("from secrets", cfg) is None
    env_hash = auth.hash_passphrase("viewer words", iterations=1000)
    cfg = auth.load_config(None, {auth.ENV_VIEWER: env_hash})
    assert auth.role_for_passphrase("viewer words", cfg) == "viewer"
    assert auth.role_for_passphrase(env_hash, cfg) is None, "the hash itself is not a passphrase"
    assert auth.role_for_passphrase("", cfg) is None


def test_same_passphrase_for_both_roles_grants_editor() -> None:
    cfg = auth.load_config(None, {auth.ENV_EDITOR: "same", auth.ENV_VIEWER: "same"})
    assert auth.role_for_passphrase("same", cfg) == "editor"


def test_oidc_roles_by_email_and_domain() -> None:
    cfg = auth.load_config({"mode": "oidc", "provider": "microsoft",
                            "editors": ["Lead@Kestlemouth.gov.uk", "@fh.kestlemouth.gov.uk"],
                            "allowed_domains": ["kestlemouth.gov.uk", "@fh.kestlemouth.gov.uk", "nhs.net"]}, {})
    assert cfg.mode == "oidc" and cfg.provider == "microsoft"
    assert auth.role_for_user("lead@kestlemouth.gov.uk", cfg) == "editor"
    assert auth.role_for_user("anyone@fh.kestlemouth.gov.uk", cfg) == "editor"
    assert auth.role_for_user("other@kestlemouth.gov.uk", cfg) == "viewer"
    assert auth.role_for_user("midwife@nhs.net", cfg) == "viewer"
    assert auth.role_for_user("someone@gmail.com", cfg) is None
    assert auth.role_for_user("lead@kestlemouth.gov.uk.evil.com", cfg) is None
    assert auth.role_for_user(None, cfg) is None and auth.role_for_user("no-at-sign", cfg) is None
    open_cfg = auth.load_config({"mode": "oidc"}, {})
    assert auth.role_for_user("a@b.org", open_cfg) == "viewer", "no domain list: any signed-in user views"


def test_role_permissions() -> None:
    assert auth.can_edit("editor") and not auth.can_edit("viewer") and not auth.can_edit(None)
    assert auth.sees_personal_data("editor") and not auth.sees_personal_data("viewer")


def test_cli_hashes_a_passphrase(capsys: pytest.CaptureFixture) -> None:
    assert main(["passphrase", "correct horse battery"]) == 0
    h = capsys.readouterr().out.strip()
    assert auth.verify_passphrase("correct horse battery", h)
    assert main(["passphrase", "short"]) == 2
