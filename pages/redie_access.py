"""REDIE access."""

from hubdash import ui

ui.page_header("REDIE access", "Which families does the offer reach, and who does it leave out?")
ui.coming_next("The REDIE access page")
