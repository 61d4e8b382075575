"""Survey ingestion."""

from hubdash import ui

ui.page_header("Survey ingestion", "Load your providers' survey returns, check them, and undo any import.")
ui.coming_next("The Survey ingestion page")
