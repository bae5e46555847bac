"""The `tabledag` command."""
