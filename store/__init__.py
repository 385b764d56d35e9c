"""policywatch store."""
