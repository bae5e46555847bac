"""Drawing flows and runs: `graph` (the flow as SVG, drawn in pure Python: no graphviz, no
network) and `report` (one run as a self-contained HTML page)."""
