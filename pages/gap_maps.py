"""Gap maps."""

from hubdash import ui

ui.page_header("Gap maps", "Which outcomes and ages have support at each target level, and where are the gaps?")
ui.coming_next("The Gap maps page")
