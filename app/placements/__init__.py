"""Placements: a person's path from application to work abroad and back."""
