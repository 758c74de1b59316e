"""Models of the Frontline examination capability."""
