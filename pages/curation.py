"""Curation under a result grid: mark each match similar / not similar, and the session's chosen pair."""

from __future__ import annotations

import hashlib

import streamlit as st
from PIL import Image

import engine
from engine.curation import NOT_SIMILAR, SIMILAR, FeedbackStore, curator_tools_offered
from pages.curator import curator, sign_in_panel
from pages.shared import display_name, markdown_text

UNMARKED = "–"
LABELS = {UNMARKED: None, "similar": SIMILAR, "not similar": NOT_SIMILAR}
NO_CHOICE = "none"
COLUMNS = 5


@st.cache_resource(show_spinner=False)
def feedback_store(index_dir: str) -> FeedbackStore:
    """One store per index folder and process (SQLite file next to the index)."""
    return FeedbackStore(index_dir)


def curation_panel(service: engine.Lookalike, target: Image.Image, box, matches: list[engine.Match]) -> None:
    """A form of per-match verdicts and a chosen pair; saving writes them, with the query crop, to the store."""
    if not matches or not curator_tools_offered():
        return  # a public shop shows no curator tools
    if curator() is None:
        with st.expander("Curators: sign in to mark these matches"):
            sign_in_panel()
        return
    store = feedback_store(str(service.index_dir))
    token = hashlib.sha1(target.tobytes()).hexdigest()[:12]
    query_id = store.find_query(target)
    saved = {} if query_id is None else {mark.product_id: mark for mark in store.marks(query_id)}
    with st.expander("Curate these matches", expanded=bool(saved)), st.form(key=f"curate-{token}"):
        verdicts = _verdict_widgets(matches, saved, token)
        options = [NO_CHOICE] + [f"M{m.rank}" for m in matches]
        before = [f"M{m.rank}" for m in matches if m.product_id in saved and saved[m.product_id].chosen]
        chosen = st.selectbox(
            "Chosen pair: the match you would offer for the target",
            options,
            index=options.index(before[0]) if before else 0,
            key=f"chosen-{token}",
        )
        submitted = st.form_submit_button("Save marks", key=f"save-{token}")
    who = curator()
    if submitted and who is not None:
        pick = next((m.product_id for m in matches if f"M{m.rank}" == chosen), None)
        marks = [(m.product_id, LABELS[verdicts[m.product_id]], m.rank, m.score) for m in matches]
        store.save_marks(target, marks, pick, source="shop", box=box, embedding=_embedding_label(service), who=who)
        marked = sum(v != UNMARKED for v in verdicts.values())
        st.success(f"Saved {marked} mark{'s' * (marked != 1)}" + (f" and the chosen pair {chosen}." if pick else "."))


def _verdict_widgets(matches: list[engine.Match], saved: dict, token: str) -> dict[str, str]:
    """One radio per match, laid out like the grid; returns product_id -> label."""
    verdicts = {}
    columns = st.columns(COLUMNS)
    for i, m in enumerate(matches):
        before = saved.get(m.product_id)
        current = next((label for label, value in LABELS.items() if before and value == before.verdict), UNMARKED)
        verdicts[m.product_id] = columns[i % COLUMNS].radio(
            f"M{m.rank} · {markdown_text(display_name(m.name))}",
            list(LABELS),
            index=list(LABELS).index(current),
            key=f"mark-{token}-{m.product_id}",
        )
    return verdicts


def _embedding_label(service: engine.Lookalike) -> str:
    """The embedding the marks were made with, e.g. 'effnet-crop+head:1a2b3c4d5e6f'."""
    config = service.embedding
    return config.name + (f"+head:{config.head_sha256[:12]}" if config.head else "")
