"""signer."""
