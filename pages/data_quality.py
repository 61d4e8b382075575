"""Data quality."""

from hubdash import ui

ui.page_header("Data quality", "How complete, representative and clear is the survey? Who should we chase?")
ui.coming_next("The Data quality page")
