"""Alerts exchanged with partner administrations over STIX 2.1 and TAXII 2.1 (BRIEF capability 8)."""
