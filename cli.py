"""policywatch command-line interface (placeholder while the spine is built)."""


def main() -> None:
    raise SystemExit("policywatch: not built yet")
