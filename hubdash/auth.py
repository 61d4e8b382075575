"""Who may do what: optional sign-in, two roles, and the rules that decide them (no Streamlit here).

Access control is OFF unless configured, so the local demo opens straight away. Two ways on:

* **Shared passphrase** (workshops): an editor passphrase and/or a viewer passphrase, set in
  `.streamlit/secrets.toml` (`[access]` `editor_passphrase_hash`, `viewer_passphrase_hash`, made
  with `python -m hubdash passphrase`) or in the environment (`HUBDASH_PASSPHRASE_EDITOR`,
  `HUBDASH_PASSPHRASE_VIEWER`, the passphrase itself or its hash). Comparisons are constant-time
  (`hmac.compare_digest`) on PBKDF2 hashes.
* **Single sign-on** with Streamlit's OpenID Connect login (`st.login`), e.g. Microsoft Entra ID:
  `[access] mode = "oidc"` plus Streamlit's `[auth]` section; editors are listed by email or
  domain, everyone else the identity provider lets in (optionally limited to some domains) is a
  viewer. See docs/access.md.

Roles: a *viewer* sees every analysis but never personal data (contact names and emails are
hidden as in presenter mode) and cannot import, edit or undo; an *editor* can do everything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["viewer", "editor"]
Mode = Literal["off", "passphrase", "oidc"]
VIEWER: Role = "viewer"
EDITOR: Role = "editor"
ROLE_LABELS = {VIEWER: "Viewer (read-only, no personal data)", EDITOR: "Editor (imports, edits, undo)"}

ENV_EDITOR = "HUBDASH_PASSPHRASE_EDITOR"
ENV_VIEWER = "HUBDASH_PASSPHRASE_VIEWER"
_SCHEME = "pbkdf2_sha256"
_ITERATIONS = 200_000
#: After this many wrong passphrases a session must wait `LOCKOUT_SECONDS` before trying again.
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0


@dataclass(frozen=True)
class AccessConfig:
    """Access settings, read from secrets and the environment by `load_config`.

    Attributes:
        mode: "off" (everyone is an editor: the local demo), "passphrase" or "oidc".
        editor_hash, viewer_hash: PBKDF2 hashes of the shared passphrases (either may be absent).
        provider: The `[auth.<provider>]` section for `st.login` (None: the plain `[auth]` one).
        editors: Emails (or "@domain" entries) of people who edit when signed in with OIDC.
        allowed_domains: If given, only these email domains may sign in at all (as viewers).
    """

    mode: Mode = "off"
    editor_hash: str | None = None
    viewer_hash: str | None = None
    provider: str | None = None
    editors: tuple[str, ...] = field(default=())
    allowed_domains: tuple[str, ...] = field(default=())

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


def hash_passphrase(passphrase: str, *, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    """A salted PBKDF2-SHA256 hash, `pbkdf2_sha256$<iterations>$<salt>$<hex>`, safe to keep in secrets."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8"), salt.encode("ascii"), iterations)
    return f"{_SCHEME}${iterations}${salt}${digest.hex()}"


def _is_hash(value: str) -> bool:
    return value.startswith(_SCHEME + "$") and value.count("$") == 3


def verify_passphrase(given: str, stored_hash: str) -> bool:
    """Whether `given` matches `stored_hash` (constant-time comparison)."""
    try:
        _, iterations, salt, expected = stored_hash.split("$")
        digest = hashlib.pbkdf2_hmac("sha256", given.encode("utf-8"), salt.encode("ascii"), int(iterations))
    except (ValueError, UnicodeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


def _as_hash(value: Any) -> str | None:
    """A configured passphrase as a hash: hashes pass through, plain text is hashed once here."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    # A fixed salt is fine here: the plain text never leaves this process, and hashing it keeps
    # every comparison on the same constant-time path.
    return value if _is_hash(value) else hash_passphrase(value, salt="hubdash-env", iterations=1_000)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence):
        return ()
    return tuple(str(v).strip().lower() for v in value if str(v).strip())


def load_config(secrets_access: Mapping[str, Any] | None, env: Mapping[str, str]) -> AccessConfig:
    """Access settings from the `[access]` secrets section and the environment.

    Environment passphrases win over secrets (a workshop host can set them for one run). With
    nothing configured the mode is "off".
    """
    sec = dict(secrets_access or {})
    editor = _as_hash(env.get(ENV_EDITOR)) or _as_hash(sec.get("editor_passphrase_hash"))
    viewer = _as_hash(env.get(ENV_VIEWER)) or _as_hash(sec.get("viewer_passphrase_hash"))
    mode = str(sec.get("mode", "")).strip().lower()
    if mode == "oidc":
        return AccessConfig(mode="oidc", provider=(str(sec["provider"]) if sec.get("provider") else None),
                            editors=_strings(sec.get("editors")),
                            allowed_domains=tuple(d.lstrip("@") for d in _strings(sec.get("allowed_domains"))))
    if editor or viewer:
        return AccessConfig(mode="passphrase", editor_hash=editor, viewer_hash=viewer)
    return AccessConfig()


def role_for_passphrase(given: str, config: AccessConfig) -> Role | None:
    """The role a shared passphrase grants, or None. Both hashes are always checked (no timing hint)."""
    is_editor = bool(config.editor_hash) and verify_passphrase(given, config.editor_hash or "")
    is_viewer = bool(config.viewer_hash) and verify_passphrase(given, config.viewer_hash or "")
    if is_editor:
        return EDITOR
    if is_viewer:
        return VIEWER
    return None


def role_for_user(email: str | None, config: AccessConfig) -> Role | None:
    """The role of someone signed in with OIDC as `email`, or None if they may not use the app.

    `editors` entries are full emails or "@domain"; `allowed_domains` (if any) limit who may sign
    in at all. Emails compare case-insensitively.
    """
    if not email or "@" not in email:
        return None
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if email in config.editors or f"@{domain}" in config.editors:
        return EDITOR
    if config.allowed_domains and domain not in config.allowed_domains:
        return None
    return VIEWER


def can_edit(role: Role | None) -> bool:
    """Editors may import, edit and undo; viewers may not."""
    return role == EDITOR


def sees_personal_data(role: Role | None) -> bool:
    """Only editors see contact names and emails (viewers see the app as in presenter mode)."""
    return role == EDITOR


# --- command line: make a hash for secrets.toml ----------------------------------------------------


def _cmd_passphrase(args) -> int:  # noqa: ANN001
    import getpass

    phrase = args.passphrase if args.passphrase is not None else getpass.getpass("Passphrase: ")
    if len(phrase) < 8:
        from hubdash.errors import AccessError

        raise AccessError("Use a passphrase of at least 8 characters (three or four words is best).",
                          title="Passphrase too short")
    print(hash_passphrase(phrase))
    return 0


def register(sub) -> None:  # noqa: ANN001
    p = sub.add_parser("passphrase", help="hash a workshop passphrase for .streamlit/secrets.toml [access]")
    p.add_argument("passphrase", nargs="?", default=None, help="the passphrase (asked for if left out)")
    p.set_defaults(func=_cmd_passphrase)
