"""Credentials that cannot leak: the vault (envelope encryption), its master keys, the Temporal payload codec."""
