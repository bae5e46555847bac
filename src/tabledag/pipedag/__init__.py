"""pipedag's spellings, accepted beside tabledag's own (the migration rule in the README).

These are thin adapters over tabledag's API, documented as such; tabledag's own names stay
the recommended ones. `tabledag.<Name>` reaches them through the package's lazy exports.
"""
