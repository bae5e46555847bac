"""Bulk-load and bulk-read fast paths: each module moves Arrow data through one mechanism."""
