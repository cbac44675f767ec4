"""teamform: declarative identity reconciliation for SaaS teams."""

__version__ = "0.1.0"
