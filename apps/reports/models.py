"""Models of the Performance reporting capability."""
