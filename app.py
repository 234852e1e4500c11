"""Lookalike: visual shopping search. Run with `streamlit run app.py` (see README)."""

from pages.shared import app_navigation

app_navigation().run()
