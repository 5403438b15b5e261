"""Localities: Vietnam's administrative places as a free hierarchy with merge successors."""
