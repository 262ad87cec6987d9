"""pmkit: a local-first dashboard for product KPIs and roadmap health."""

__version__ = "0.1.0"
