"""policywatch nlp."""
