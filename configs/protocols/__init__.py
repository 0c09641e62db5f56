"""Session protocols shipped with bassd (bassd session list)."""
