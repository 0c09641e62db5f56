"""bassd: a real-time adaptive music engine."""

__version__ = "0.1.0"
