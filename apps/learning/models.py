"""Models of the Learning loop capability."""
