"""The administrators' part of review: `administration` (the use cases: the overview,
sites' review times for materials, outcome exports), `overview` (the daily tallies'
facts and what they add up to, pure), `tallies` (those counters in the database, and the
per-site counts by status), `exports` (outcomes as XLSX / CSV rows and files)."""
