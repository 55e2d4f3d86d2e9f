"""featurestore-spark's Python API (the package around it is assembled at merge)."""
