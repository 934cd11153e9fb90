"""Rendering: an executed notebook becomes Markdown text and figure bytes (nothing written)."""
