"""Running policywatch past one machine: a shared crawl frontier in Redis (scrapy-redis),
processing on a Ray cluster, and a store path that many workers can write through at once.

Everything here is switched on by one setting (``scale.settings``); without it policywatch runs
as a single process pair on one DuckDB file, exactly as before.
"""
