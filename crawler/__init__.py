"""policywatch crawler."""
