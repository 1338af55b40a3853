"""Integration partners: immigration, police and destination-country systems (contract §5)."""
