"""The floor: an empty Streamlit page, timed in the same run as the real pages."""

import streamlit as st

st.title("Empty page")
