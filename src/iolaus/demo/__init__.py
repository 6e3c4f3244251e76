"""Synthetic data: DiscordChatExporter files written the way the real exporter writes them, so
that demos, tests and benchmarks all go through the real importer."""
