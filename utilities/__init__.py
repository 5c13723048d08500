"""Generic Django helpers that are not the registry's domain: safe CSV downloads, request logging,
the development mail backend, read-only admin pages."""
