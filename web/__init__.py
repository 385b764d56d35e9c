"""policywatch's read-only web pages (``policywatch serve``): search, organisations,
stories, themes, what changed and crawl status, over the DuckDB store."""
