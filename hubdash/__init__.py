"""hubdash: map the services available to families, find the gaps, show them to leaders."""

__version__ = "0.1.0"
