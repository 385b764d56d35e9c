"""Time every web page (``policywatch serve``) over a demo database with the test client.

Each page is requested ``--repeat`` times after one warm-up request; the median wall time
and the median CPU time of this process (which does all the work: the client, the app and
DuckDB run in it) are printed per page. The target is 200 ms per page on the demo database.

    python benchmarks/web_pages.py --db demo.duckdb [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from store import db as store_db  # noqa: E402
from web.app import create_app  # noqa: E402


def sample_urls(db_path: Path) -> list[str]:
    """One URL per page, using the organisation, story and theme with the most facts."""
    con = store_db.connect(db_path, read_only=True)
    try:
        org = con.execute(
            "SELECT o.name FROM ratings r JOIN organisations o USING (org_id) "
            "GROUP BY o.name ORDER BY count(*) DESC, o.name LIMIT 1").fetchone()[0]
        story, offset = con.execute(
            "SELECT story_id, min(start_offset) FROM amounts GROUP BY story_id "
            "ORDER BY count(*) DESC, story_id LIMIT 1").fetchone()
        theme = con.execute(
            "SELECT theme_id FROM theme_members GROUP BY theme_id "
            "ORDER BY count(*) DESC, theme_id LIMIT 1").fetchone()[0]
    finally:
        con.close()
    return [
        "/search", "/search?role=deficit&min=1m&sort=org", "/search?kind=ratings&org=" + quote(org),
        "/search?kind=orgs&type=provider", "/search?format=csv", f"/org/{quote(org)}",
        f"/story/{story}?at={offset}", "/themes", f"/theme/{theme}", "/changes", "/status",
        "/search?min=lots", "/org/No%20Such%20Trust",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    client = TestClient(create_app(args.db), raise_server_exceptions=False)
    print(f"{'page':55} {'status':>6} {'wall ms':>8} {'cpu ms':>7}")
    for url in sample_urls(args.db):
        status = client.get(url).status_code
        walls, cpus = [], []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(url)
            walls.append((time.perf_counter() - wall) * 1e3)
            cpus.append((time.process_time() - cpu) * 1e3)
        print(f"{url[:55]:55} {status:>6} {statistics.median(walls):8.1f} "
              f"{statistics.median(cpus):7.1f}")


if __name__ == "__main__":
    main()
