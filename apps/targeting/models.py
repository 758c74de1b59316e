"""Models of the Targeting workflow capability."""
