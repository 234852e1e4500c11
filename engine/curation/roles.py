"""Who may change the catalogue: the app's mode, and the curator password (no Streamlit here).

`LOOKALIKE_MODE` chooses what a deployment offers:

- `curator` (the default): shoppers' pages plus the curator tools (box editor, catalogue management, marking
  matches). Every write needs the curator mode, unlocked in the sidebar with the password from
  `LOOKALIKE_CURATOR_PASSWORD` (or `curator_password` in Streamlit's secrets). Without a password configured
  the tools stay locked.
- `shop`: a public shop. The curator tools are not offered at all, and nothing can be written, whatever the
  password or the address: no curation mark, no product or box edit, no catalogue build (an unbuilt catalogue
  is not offered).

Password guesses are limited per server process (`PASSWORD_GUESSES`), whatever the number of browser sessions.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable

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


class GuessLimiter:
    """A token bucket shared by every session of the server: `burst` guesses at once, then one per `interval`
    seconds. A guess takes a token first (`take`); a right password gives it back (`refund`)."""

    def __init__(self, burst: int = 5, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.burst, self.interval, self.clock = burst, interval, clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """A full bucket."""
        with self._lock:
            self._tokens, self._since = float(self.burst), self.clock()

    def take(self) -> float:
        """0 when a guess may be checked now (a token is taken), else the seconds to wait before the next one."""
        with self._lock:
            now = self.clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._since) / self.interval)
            self._since = now
            if self._tokens < 1:
                return (1 - self._tokens) * self.interval
            self._tokens -= 1
            return 0.0

    def refund(self) -> None:
        """Give back the token of a guess that was right."""
        with self._lock:
            self._tokens = min(float(self.burst), self._tokens + 1)


PASSWORD_GUESSES = GuessLimiter()  # one per server process: parallel sessions share it


def writes_allowed() -> bool:
    """Whether this deployment may change anything on disk at a visitor's request (never in shop mode)."""
    return curator_tools_offered()
