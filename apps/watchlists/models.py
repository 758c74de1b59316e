"""Models of the Watchlists and screening capability."""
