"""Table stores: where task outputs live."""
