"""Models of the Risk engine capability."""
