"""Privacy layer: masking, pseudonymous ids, consent, sealed release, DP, provenance."""
