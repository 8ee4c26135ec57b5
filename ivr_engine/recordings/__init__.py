"""Recorded caller-agent conversations: their rows, who may hear them, and the retention sweep."""
