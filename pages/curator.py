"""Curator mode in the app: the sign-in, and the check every write goes through.

The sign-in form lives where curator work happens, never in a shopper's sidebar: the sidebar of the About page
and of the curator pages, and inside the curator tools on a shopper page (under a result grid, a product's box).
Once signed in, every page's sidebar says who is signed in, with a Lock button.

`engine.curation.roles` decides: in shop mode (`LOOKALIKE_MODE=shop`) nothing here shows and `curator()` is always None;
in curator mode the tools show, and writing (and the curator-only pages: review, duplicates, export) needs the
password (`LOOKALIKE_CURATOR_PASSWORD` or the `curator_password` secret), entered once per browser session;
guesses are limited per server (`engine.curation.roles.PASSWORD_GUESSES`).
"""

from __future__ import annotations

import time

import streamlit as st

import engine
from catalog.updater import Updater
from engine.curation import (
    PASSWORD_ENV,
    PASSWORD_GUESSES,
    PASSWORD_SECRET,
    curator_tools_offered,
    password_from,
    password_matches,
)

UNLOCKED = "curator-unlocked"  # session key: the curator's name once the password matched
WRONG_PASSWORD_DELAY = 1.0  # seconds: slows down guessing


def configured_password() -> str | None:
    """The curator password from the environment or Streamlit's secrets; None when none is set."""
    return password_from(secrets=st.secrets)


def curator() -> str | None:
    """The unlocked curator's name, or None: locked, no password configured, or shop mode."""
    if not curator_tools_offered() or configured_password() is None:
        return None
    return st.session_state.get(UNLOCKED)


def curator_sidebar(sign_in: bool) -> None:
    """The sidebar's curator section: who is signed in (and a Lock button) on every page, the sign-in form only
    where `sign_in` (About and the curator pages); nothing in shop mode."""
    if not curator_tools_offered() or not (sign_in or curator() is not None):
        return
    with st.sidebar:
        st.subheader("Curator mode")
        sign_in_panel()


def sign_in_panel() -> None:
    """Who is signed in and a Lock button; else the sign-in form, or why there is none (no password set)."""
    from pages.shared import markdown_text

    who = curator()
    if who is not None:
        st.caption(f"Unlocked as {markdown_text(who)}: you can edit boxes, products and marks.")
        if st.button("Lock", key="curator-lock"):
            del st.session_state[UNLOCKED]
            st.rerun()
        return
    if configured_password() is None:
        st.caption(
            f"Locked: no curator password is set. Set `{PASSWORD_ENV}` (or `{PASSWORD_SECRET}` in "
            "`.streamlit/secrets.toml`) and restart the app to edit the catalogue."
        )
        return
    _unlock_form()


def _unlock_form() -> None:
    """Name and password; a match unlocks this browser session."""
    with st.form(key="curator-unlock"):
        name = st.text_input("Your name (recorded with your changes)", key="curator-name")
        password = st.text_input("Curator password", type="password", key="curator-password")
        submitted = st.form_submit_button("Unlock", key="curator-unlock-button")
    if not submitted:
        return
    wait = PASSWORD_GUESSES.take()  # shared by every session of this server
    if wait:
        st.error(f"Too many password attempts on this server: try again in {max(1, round(wait))} s.")
        return
    if password_matches(password, configured_password()):
        PASSWORD_GUESSES.refund()
        st.session_state[UNLOCKED] = name.strip()[:80] or "curator"
        st.rerun()
    time.sleep(WRONG_PASSWORD_DELAY)
    st.error("Wrong password.")


def require_curator(title: str) -> str:
    """The signed-in curator's name; otherwise the page says how to sign in and stops (curator-only pages)."""
    who = curator()
    if who is None:
        st.title(title)
        st.info("This page is for curators: unlock curator mode in the sidebar to open it.")
        st.stop()
    return who


@st.cache_resource(show_spinner="Loading the catalogue's detector for editing…")
def get_updater(index_dir: str) -> Updater:
    """The build's detector and embedder for an index, loaded once per process when a curator first edits."""
    return Updater.for_index(index_dir)


def updater_for(service: engine.Lookalike) -> Updater:
    """The cached updater of the service's index."""
    return get_updater(str(service.index_dir))
