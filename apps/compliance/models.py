"""Models of the Compliance and oversight capability."""
