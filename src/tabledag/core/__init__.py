"""Declaring and running flows. Knows the store contract, never a dialect or a frame library."""
