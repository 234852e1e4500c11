"""Lookalike: visual shopping search. Run with `streamlit run app.py` (see README)."""

import streamlit as st

st.set_page_config(page_title="Lookalike", page_icon="🛋️", layout="wide")

pages = [
    st.Page("pages/shop.py", title="Shop the look", icon=":material/search:", url_path="shop", default=True),
    st.Page("pages/catalogue.py", title="Catalogue", icon=":material/grid_view:", url_path="catalogue"),
]
st.navigation(pages).run()
