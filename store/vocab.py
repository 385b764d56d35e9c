"""The closed vocabularies of stored facts: organisation types, amount roles, ratings.

The command line's choices and the web page's filters both come from here.
"""

from __future__ import annotations

ORG_TYPES = ["commissioner", "provider", "national_body", "government", "regulator", "media",
             "company", "other"]
ROLES = ["deficit", "surplus", "overspend", "underspend", "budget", "spending_limit",
         "control_total", "savings", "funding", "cost", "turnover", "income", "gap",
         "contract_value", "fine", "other"]
RATINGS = ["outstanding", "good", "requires improvement", "inadequate", "special measures",
           "out of special measures"]
