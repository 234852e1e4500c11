"""Lookalike: visual shopping search. Run with `streamlit run app.py` (see README)."""

from pathlib import Path

import streamlit as st

ICON = Path(__file__).parent / "assets" / "favicon.png"  # a local file: a :material: icon is fetched from the web
st.set_page_config(page_title="Lookalike", page_icon=str(ICON), layout="wide")
with st.spinner("Starting Lookalike: loading the detector… (the first visit after a restart takes a few seconds)"):
    from pages.navigation import app_navigation  # imports torch and the detector code: seconds on a cold server

app_navigation().run()
