"""Integration partners: immigration, police and destination-country systems."""
