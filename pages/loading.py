"""Which catalogue a session searches, its loaded engine, and the live progress of a catalogue still being built."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

import engine
from catalog import background
from engine.curation import writes_allowed
from engine.index import current_version, load_manifest
from engine.settings import DEMO_CATALOGS, catalog_choices, demo_catalog_dir
from pages.shared import markdown_text

LOG = logging.getLogger(__name__)
CHOICE_KEY = "catalogue-choice"
POLL_SECONDS = 2


@st.cache_resource(show_spinner="Loading the detector and the catalogue index…", max_entries=4)
def get_service(index_dir: str, weights: str | None, version: str) -> engine.Lookalike:
    """One engine per index version and process, shared by every session; a rebuilt index is loaded anew."""
    service = engine.load(index_dir, weights=weights)
    service.warm_up()  # the first click then costs what every other does
    return service


def chosen_catalog() -> tuple[str, Path]:
    """(name, index folder) of the catalogue this session searches: the sidebar choice, or ?catalogue=NAME."""
    choices = catalog_choices(built_only=not writes_allowed())  # a shop offers only what is built
    names = list(choices)
    if st.session_state.get("catalogue") not in names:
        wanted = st.query_params.get("catalogue")
        st.session_state["catalogue"] = wanted if wanted in names else names[0]
    if len(names) > 1:
        st.session_state[CHOICE_KEY] = st.session_state["catalogue"]
        st.sidebar.selectbox("Catalogue", names, key=CHOICE_KEY, on_change=_remember_choice, help=_choices_help(names))
    name = st.session_state["catalogue"]
    if len(names) > 1 and st.query_params.get("catalogue") != name:
        st.query_params["catalogue"] = name  # the address bar names the catalogue: a link shares it
    return name, choices[name]


def _remember_choice() -> None:
    """Keep the sidebar choice across pages (a widget's own state is per page)."""
    st.session_state["catalogue"] = st.session_state[CHOICE_KEY]


def _choices_help(names: list[str]) -> str:
    """One line per catalogue."""
    other = "an index built with scripts/build_catalog.py"
    return "\n".join(f"- **{name}**: {DEMO_CATALOGS.get(name, other)}" for name in names)


def service_or_stop() -> engine.Lookalike:
    """The chosen catalogue's engine; otherwise the page explains (or shows the build's progress) and stops.

    Whatever goes wrong, a shopper sees a short message, never a traceback; the details go to the server's log.
    """
    name, index_dir = chosen_catalog()
    try:
        version = current_version(index_dir).name
        service = get_service(str(index_dir), os.environ.get("LOOKALIKE_WEIGHTS"), version)
        if service.index.manifest.get("pending_images"):  # a first build published what it has so far
            _resume_growing(name, index_dir)
            _growing(str(index_dir))
        return service
    except engine.IndexNotFoundError as err:
        if _buildable(name, index_dir):
            build_progress(name, index_dir)
        else:
            st.title("No catalogue index yet")
            st.warning("The app needs a catalogue index to search in. Build one, then reload this page.")
            if writes_allowed():  # the operator's own deployment: say where it looked
                st.code(str(err), language="text")
    except Exception as err:  # noqa: BLE001 - a mismatch, an untrusted or damaged checkpoint, anything else
        LOG.error("Cannot open the catalogue index %s", index_dir, exc_info=err)
        _unavailable(index_dir, err)
    st.stop()


def _unavailable(index_dir: Path, err: Exception) -> None:
    """A short message: what to do in a curator's deployment, only "not available" in a public shop."""
    if not writes_allowed() or not isinstance(err, engine.IndexMismatchError):
        st.title("This catalogue is not available right now")
        st.info("Please try again later." + ("" if not writes_allowed() else " The server's log says why."))
        return
    st.title("The index does not match the detector")
    st.error(markdown_text(err))
    st.code(f"python scripts/build_catalog.py --demo --out {index_dir}", language="bash")


def _buildable(name: str, index_dir: Path) -> bool:
    """A demo catalogue whose data is here and whose index is the app's own folder for it (never in a shop)."""
    data_here = (demo_catalog_dir(name) / "products.csv").is_file()
    return writes_allowed() and name in DEMO_CATALOGS and index_dir.name == name and data_here


def build_progress(name: str, index_dir: Path) -> None:
    """Start the catalogue's build if nothing is building it, and show its progress until the index is ready."""
    if not writes_allowed():
        raise PermissionError("A shop never builds a catalogue at a visitor's request.")  # _buildable says no first
    st.title(f"Preparing the {name} catalogue")
    st.caption(f"{DEMO_CATALOGS[name]}. This happens once; searching starts with the first few hundred photos.")
    status = background.status(index_dir)
    if status.state == background.FAILED:
        st.error("Building the catalogue stopped. What it said:")
        st.code(status.message, language="text")
        if not st.button("Try again", key="build-retry"):
            return
    if status.state != background.RUNNING:
        background.start(index_dir, ["--demo", name], owner=os.getpid())  # stops when this server stops
    _live_progress(str(index_dir))


@st.fragment(run_every=POLL_SECONDS)
def _live_progress(index_dir: str) -> None:
    """Redrawn every few seconds; reruns the whole page once the index is live."""
    status = background.status(index_dir)
    if (Path(index_dir) / "CURRENT").is_file():  # live: the build may go on adding gallery views
        st.rerun(scope="app")
    if status.state in (background.FAILED, background.STOPPED):
        st.rerun(scope="app")  # the page shows the failure and a retry button, or starts a stopped build again
    st.progress(status.fraction, text=_progress_text(status))


def _resume_growing(name: str, index_dir: Path) -> None:
    """A first build stopped with its server goes on from the photos it had indexed; one that failed says so."""
    if not _buildable(name, index_dir):
        return
    status = background.status(index_dir)
    if status.state == background.STOPPED:  # not NONE: a build run by hand records no progress and may be running
        background.start(index_dir, ["--demo", name], owner=os.getpid())  # one builder: start() holds a lock
    elif status.state == background.FAILED:
        st.warning("Adding the rest of this catalogue stopped with an error; what is searchable stays searchable.")
        st.code(status.message, language="text")
        if st.button("Try again", key="grow-retry"):
            background.start(index_dir, ["--demo", name], owner=os.getpid())


@st.fragment(run_every=POLL_SECONDS)
def _growing(index_dir: str) -> None:
    """How much of a catalogue that is still being built is searchable now (redrawn as new versions go live)."""
    try:
        manifest = load_manifest(index_dir)
    except (engine.IndexNotFoundError, OSError, ValueError):
        return
    st.info(growing_text(manifest.get("n_images", 0), manifest.get("pending_images", 0)))


def growing_text(searchable: int, pending: int) -> str:
    """'1,024 of 2,292 catalogue photos are searchable so far; …', or that all are once none is pending."""
    if not pending:
        return f"All {searchable:,} catalogue photos are searchable now; your next search uses them all."
    return (
        f"{searchable:,} of {searchable + pending:,} catalogue photos are searchable so far; the rest are being "
        "added, and each search uses all that are ready."
    )


def _progress_text(status: background.BuildStatus) -> str:
    """'Embedding product photos: 412 of 2,292 (6.1 per second, about 5 min left)'."""
    if not status.total:
        return "Starting the build: loading the detector and reading the product table…"
    text = f"Embedding product photos: {status.done:,} of {status.total:,}"
    left = status.seconds_left
    if left is not None:
        text += f" ({status.images_per_second:.1f} per second, about {max(1, round(left / 60))} min left)"
    return text + ("" if status.done < status.total else " — writing the index…")
