"""The speed and scale benchmark behind `python -m hubdash bench` (a script, not a test)."""
