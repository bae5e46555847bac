"""The peers on tabledag's work, each run in a venv of its own (noxfile.py `bench_peer-*`).

Each module generates its project (dbt, SQLMesh) or flow (pydiverse-pipedag) into a temporary
directory, runs the 200-model chain fresh, with nothing changed and after one change, and the
frame load, and measures the raw ceiling of the same work in the same process; it imports
nothing of tabledag, so it runs beside any peer's pins.
"""
