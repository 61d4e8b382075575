"""Access control: off by default; shared passphrases give viewer or editor; OIDC asks to sign in."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hubdash import auth
from tests.app.conftest import ROOT

EDITOR_PHRASE = "harbour lights at dusk"
VIEWER_PHRASE = "saltmarsh in spring"


def _app(**secrets: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in secrets.items():
        at.secrets[k] = v
    return at


def _sign_in(at: AppTest, phrase: str) -> AppTest:
    at.text_input[0].input(phrase)
    at.button[0].click()  # the form's submit button
    return at.run()


def _probe() -> None:
    """A page that shows what the session may do (run with AppTest.from_function)."""
    import streamlit as st

    from hubdash import ui
    from hubdash.errors import HubdashError

    ui.access_gate()
    st.markdown(f"role={ui.current_role()} can_edit={ui.can_edit()} presenter={ui.is_presenter()}")
    try:
        ui.require_editor("import surveys")
        st.markdown("write allowed")
    except HubdashError as e:
        st.markdown(f"write refused: {e.msg}")


def _probe_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


@pytest.fixture
def passphrases(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.ENV_EDITOR, EDITOR_PHRASE)
    monkeypatch.setenv(auth.ENV_VIEWER, VIEWER_PHRASE)


def test_access_is_off_by_default_and_everyone_can_edit(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.ENV_EDITOR, raising=False)
    monkeypatch.delenv(auth.ENV_VIEWER, raising=False)
    at = _app().run()
    assert not at.exception
    assert not any("Sign in" in t.value for t in at.title)
    assert at.metric, "the home page shows straight away"
    probe = AppTest.from_function(_probe).run()
    assert "role=editor can_edit=True presenter=False" in _probe_text(probe)
    assert "write allowed" in _probe_text(probe)


def test_with_a_passphrase_nothing_shows_before_sign_in(passphrases) -> None:  # noqa: ANN001
    at = _app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to hubdash"]
    assert not at.metric and not at.get("vega_lite_chart"), "no data before sign-in"
    at = _sign_in(at, "wrong guess")
    assert any("not right" in e.value for e in at.error)
    assert not at.metric


def test_editor_passphrase_gives_the_editor_role(passphrases) -> None:  # noqa: ANN001
    at = _sign_in(_app().run(), EDITOR_PHRASE)
    assert not at.exception
    assert at.metric, "the home page appears after sign-in"
    assert any("Editor" in c.value for c in at.sidebar.caption)
    assert at.session_state["hubdash_role"] == "editor"
    assert "presenter" not in at.session_state or at.session_state["presenter"] is False
    probe = AppTest.from_function(_probe)
    probe.session_state["hubdash_role"] = "editor"
    assert "role=editor can_edit=True" in _probe_text(probe.run())


def test_viewer_passphrase_is_read_only_and_hides_personal_data(passphrases) -> None:  # noqa: ANN001
    at = _sign_in(_app().run(), VIEWER_PHRASE)
    assert not at.exception
    assert at.metric
    assert any("Viewer" in c.value for c in at.sidebar.caption)
    assert at.session_state["presenter"] is True, "viewers see presenter mode: no personal data"
    probe = AppTest.from_function(_probe)
    probe.session_state["hubdash_role"] = "viewer"
    text = _probe_text(probe.run())
    assert "role=viewer can_edit=False presenter=True" in text
    assert "write refused: Only editors can import surveys" in text


def test_sign_out_returns_to_the_sign_in_form(passphrases) -> None:  # noqa: ANN001
    # Through the probe page: AppTest drops app.py's sidebar on reruns of a multipage app, so the
    # sign-out button is clicked here (and in the browser test) rather than through app.py.
    at = _sign_in(AppTest.from_function(_probe).run(), EDITOR_PHRASE)
    assert "role=editor" in _probe_text(at)
    at.sidebar.button(key="hubdash_sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in to hubdash"]
    assert "hubdash_role" not in at.session_state
    assert "role=" not in _probe_text(at)


def test_hashed_passphrase_in_secrets(app_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.ENV_EDITOR, raising=False)
    monkeypatch.delenv(auth.ENV_VIEWER, raising=False)
    at = _app(access={"editor_passphrase_hash": auth.hash_passphrase(EDITOR_PHRASE, iterations=1000)}).run()
    assert [t.value for t in at.title] == ["Sign in to hubdash"]
    at = _sign_in(at, VIEWER_PHRASE)  # no viewer passphrase is configured
    assert not at.metric
    at = _sign_in(at, EDITOR_PHRASE)
    assert at.metric and at.session_state["hubdash_role"] == "editor"


def test_repeated_wrong_passphrases_lock_the_form(passphrases, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("time.sleep", lambda s: None)
    at = _app().run()
    for _ in range(auth.MAX_FAILURES):
        at = _sign_in(at, "guess")
    at = _sign_in(at, EDITOR_PHRASE)  # even the right one waits out the lockout
    assert any("Too many" in e.value for e in at.error)
    assert not at.metric


def test_oidc_without_streamlit_auth_section_says_what_is_missing(app_db: Path) -> None:
    at = _app(access={"mode": "oidc", "provider": "microsoft"}).run()
    assert not at.exception
    assert any("[auth]" in e.value for e in at.error)
    assert not at.metric


def test_oidc_asks_to_sign_in(app_db: Path) -> None:
    at = _app(access={"mode": "oidc", "provider": "microsoft", "editors": ["@kestlemouth.gov.uk"]},
              auth={"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                    "microsoft": {"client_id": "id", "client_secret": "secret",
                                  "server_metadata_url": "https://login.microsoftonline.com/tenant/v2.0/"
                                                         ".well-known/openid-configuration"}}).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to hubdash"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric
