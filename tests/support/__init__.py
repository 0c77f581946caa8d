"""Real-protocol test infrastructure: IRC servers, a human IRC client, a fake Bot API."""
