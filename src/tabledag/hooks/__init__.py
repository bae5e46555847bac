"""Table hooks: one module per kind of table object, each converting to and from the store."""
