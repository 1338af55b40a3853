"""Send outbound SMS through a backend chosen by configuration."""
