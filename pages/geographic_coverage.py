"""Geographic coverage."""

from hubdash import ui

ui.page_header("Geographic coverage", "Where is support delivered, against where families need it?")
ui.coming_next("The Geographic coverage page")
