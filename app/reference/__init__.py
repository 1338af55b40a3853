"""Pure-Python reference data: counties, destination countries, missions and salary norms."""
