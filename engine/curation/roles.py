"""Who may change the catalogue: the app's mode, and the curator password (no Streamlit here).

`LOOKALIKE_MODE` chooses what a deployment offers:

- `curator` (the default): shoppers' pages plus the curator tools (box editor, catalogue management, marking
  matches). Every write needs the curator mode, unlocked in the sidebar with the password from
  `LOOKALIKE_CURATOR_PASSWORD` (or `curator_password` in Streamlit's secrets). Without a password configured
  the tools stay locked.
- `shop`: a public shop. The curator tools are not offered at all, and nothing can be written, whatever the
  password.
"""

from __future__ import annotations

import hmac
import os

SHOP, CURATOR = "shop", "curator"
MODES = (SHOP, CURATOR)
MODE_ENV = "LOOKALIKE_MODE"
PASSWORD_ENV = "LOOKALIKE_CURATOR_PASSWORD"
PASSWORD_SECRET = "curator_password"  # the key in .streamlit/secrets.toml


def app_mode() -> str:
    """$LOOKALIKE_MODE: "curator" (default) or "shop"; anything else is refused with a clear message."""
    mode = os.environ.get(MODE_ENV, CURATOR).strip().lower() or CURATOR
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV} must be 'shop' or 'curator', not '{mode}'")
    return mode


def curator_tools_offered() -> bool:
    """Whether this deployment offers the curator tools at all (not in shop mode)."""
    return app_mode() == CURATOR


def password_from(env: dict | None = None, secrets=None) -> str | None:
    """The curator password: $LOOKALIKE_CURATOR_PASSWORD, else the `curator_password` secret; None when unset."""
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    try:
        value = secrets.get(PASSWORD_SECRET) if secrets is not None else None
    except (FileNotFoundError, KeyError, AttributeError, RuntimeError):  # no secrets file
        value = None
    return str(value) if value else None


def password_matches(given: str, expected: str | None) -> bool:
    """Constant-time comparison; never true in shop mode, without a configured password, or for an empty one."""
    if not curator_tools_offered() or not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
