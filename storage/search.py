"""The queries behind /whois: member ids by name, and by interest with the best match first.

Interest ranking for a prefix P (what /whois shows): members listing P itself first, then
those with more tags starting with P, then the matching tag placed earlier in the member's
own list, then the lower member id. A popular tag has ~30k holders at 100k members, so
nothing here groups or sorts all holders: counts come from tag_counts, members matching P
more than once from interests.shared (migration 0003), the rest off interests_tag in rank
order with LIMIT. RosterStore turns the ids into Members.

Two audiences, two sets of queries: ROSTER (/whois, every member) and DIRECTORY (the web
directory, listed members only, and not stale (storage.freshness): each of its queries states
the listed condition itself).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import aiosqlite

from storage.tags import fold, prefix_successor

MAX_TAG_WALKS = 100
"""Beyond this many tags under one prefix, one sort of the range beats a walk per tag."""


@dataclass(frozen=True, slots=True)
class Queries:
    """The SQL of the searches for one audience: ROSTER (every member, /whois) or DIRECTORY
    (listed members only, the web directory). Each query is written out whole for each
    audience, so the directory's filter is in the text one reads, never added on the way."""

    name_exact: str
    name_prefix: str
    name_substring: str
    tag_counts: str
    rank_repeaters: str
    """Members with two or more tags under the prefix, ranked, and how many there are: a
    member with n of them has n - 1 rows whose shared prefix (with their next tag) starts
    with it."""
    repeaters: str
    """The same members, as the WITH clause of the walks below, which leave them out."""
    walk_tag: str
    """Members with one matching tag, best first, straight off interests_tag: one SELECT per
    tag ({i} numbers its placeholder), joined with UNION ALL after repeaters."""
    sort_range: str
    """The same with very many tags under the prefix: one sort of the whole range."""


ROSTER = Queries(
    name_exact=(
        "SELECT DISTINCT member_id FROM identities WHERE name_fold = ? OR handle_fold = ? LIMIT ?"
    ),
    name_prefix=(
        "SELECT DISTINCT member_id FROM identities "
        "WHERE (name_fold >= ? AND name_fold < ?) OR (handle_fold >= ? AND handle_fold < ?) "
        "LIMIT ?"
    ),
    name_substring=(
        "SELECT DISTINCT member_id FROM identities "
        "WHERE instr(name_fold, ?) > 0 OR instr(handle_fold, ?) > 0 LIMIT ?"
    ),
    tag_counts="SELECT tag, members FROM tag_counts WHERE tag >= ? AND tag < ?",
    rank_repeaters=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after) "
        "SELECT member_id, MAX(tag = :prefix) AS exact, COUNT(*) AS n, MIN(position) AS pos, "
        "(SELECT COUNT(*) FROM repeaters) FROM interests "
        "WHERE member_id IN repeaters AND tag >= :prefix AND tag < :after "
        "GROUP BY member_id ORDER BY exact DESC, n DESC, pos, member_id LIMIT :limit"
    ),
    repeaters=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after) "
    ),
    walk_tag=(
        "SELECT * FROM (SELECT member_id, tag, position FROM interests "
        "WHERE tag = :t{i} AND member_id NOT IN repeaters "
        "ORDER BY position, member_id LIMIT :limit)"
    ),
    sort_range=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after) "
        "SELECT member_id, tag, position FROM interests "
        "WHERE tag >= :prefix AND tag < :after AND member_id NOT IN repeaters "
        "ORDER BY tag = :prefix DESC, position, member_id LIMIT :limit"
    ),
)

# The same ranking over listed members: every query states that the row's member said
# /listed yes and confirmed their profile in time (EXISTS ... m.listed = 1 AND m.stale = 0,
# see storage.freshness: a primary key lookup per candidate row, so the walks still stop at
# LIMIT), but tag_counts, which reads listed_tag_counts (kept for listed
# members only by the triggers of migration 0009). tests/test_directory_listed_only.py checks.
DIRECTORY = Queries(
    name_exact=(
        "SELECT DISTINCT member_id FROM identities "
        "WHERE EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
        "AND (name_fold = ? OR handle_fold = ?) LIMIT ?"
    ),
    name_prefix=(
        "SELECT DISTINCT member_id FROM identities "
        "WHERE EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
        "AND ((name_fold >= ? AND name_fold < ?) OR (handle_fold >= ? AND handle_fold < ?)) "
        "LIMIT ?"
    ),
    name_substring=(
        "SELECT DISTINCT member_id FROM identities "
        "WHERE EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
        "AND (instr(name_fold, ?) > 0 OR instr(handle_fold, ?) > 0) LIMIT ?"
    ),
    tag_counts="SELECT tag, members FROM listed_tag_counts WHERE tag >= ? AND tag < ?",
    rank_repeaters=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after "
        "AND EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0)) "
        "SELECT member_id, MAX(tag = :prefix) AS exact, COUNT(*) AS n, MIN(position) AS pos, "
        "(SELECT COUNT(*) FROM repeaters) FROM interests "
        "WHERE member_id IN repeaters AND tag >= :prefix AND tag < :after "
        "GROUP BY member_id ORDER BY exact DESC, n DESC, pos, member_id LIMIT :limit"
    ),
    repeaters=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after "
        "AND EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0)) "
    ),
    walk_tag=(
        "SELECT * FROM (SELECT member_id, tag, position FROM interests "
        "WHERE tag = :t{i} AND member_id NOT IN repeaters "
        "AND EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
        "ORDER BY position, member_id LIMIT :limit)"
    ),
    sort_range=(
        "WITH repeaters AS MATERIALIZED (SELECT member_id FROM interests "
        "WHERE shared >= :prefix AND shared < :after "
        "AND EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0)) "
        "SELECT member_id, tag, position FROM interests "
        "WHERE tag >= :prefix AND tag < :after AND member_id NOT IN repeaters "
        "AND EXISTS (SELECT 1 FROM members m "
        "WHERE m.id = member_id AND m.listed = 1 AND m.stale = 0) "
        "ORDER BY tag = :prefix DESC, position, member_id LIMIT :limit"
    ),
)


async def rank_names(
    conn: aiosqlite.Connection,
    query: str,
    limit: int,
    *,
    exact_only: bool,
    queries: Queries = ROSTER,
) -> list[tuple[int, int]]:
    """(member id, rank) best first: rank 0 exact name or handle, 1 prefix, 2 substring;
    among the members queries covers (DIRECTORY: the listed ones)."""
    q = fold(query).lstrip("@")
    if not q:
        return []
    ranked: dict[int, int] = {}
    after = prefix_successor(q)
    searches = (
        (queries.name_exact, (q, q, limit)),
        (queries.name_prefix, (q, after, q, after, limit)),
        (queries.name_substring, (q, q, limit)),
    )
    for rank, (sql, params) in enumerate(searches[:1] if exact_only else searches):
        if len(ranked) >= limit:
            break
        for row in await conn.execute_fetchall(sql, params):
            ranked.setdefault(int(row[0]), rank)
    ids = sorted(ranked, key=lambda i: (ranked[i], i))[:limit]
    return [(i, ranked[i]) for i in ids]


async def rank_interest(
    conn: aiosqlite.Connection, prefix: str, limit: int, *, queries: Queries = ROSTER
) -> tuple[int, list[tuple[int, bool]]]:
    """How many members list prefix or a tag starting with it, and the best limit of them
    as (member id, lists prefix itself); among the members queries covers."""
    after = prefix_successor(prefix)
    rows = await conn.execute_fetchall(queries.tag_counts, (prefix, after))
    counts = {str(r[0]): int(r[1]) for r in rows}
    if not counts:
        return 0, []
    params: dict[str, object] = {"prefix": prefix, "after": after, "limit": limit}
    repeaters = list(await conn.execute_fetchall(queries.rank_repeaters, params))
    extra_rows = int(repeaters[0][4]) if repeaters else 0
    candidates = [(-int(r[1]), -int(r[2]), int(r[3]), int(r[0])) for r in repeaters]
    # Holders of prefix itself rank first, so with enough of them no other tag can place.
    walk = [prefix] if counts.get(prefix, 0) >= limit else sorted(counts)
    if len(walk) > MAX_TAG_WALKS:
        sql = queries.sort_range
    else:  # only placeholders are added: tags stay bound parameters
        walks = " UNION ALL ".join(queries.walk_tag.format(i=i) for i in range(len(walk)))
        sql = queries.repeaters + walks
        params.update({f"t{i}": tag for i, tag in enumerate(walk)})
    for r in await conn.execute_fetchall(sql, params):
        candidates.append((-int(r[1] == prefix), -1, int(r[2]), int(r[0])))
    best = sorted(candidates)[:limit]
    return sum(counts.values()) - extra_rows, [(c[3], c[0] == -1) for c in best]


async def suggest_tags(conn: aiosqlite.Connection, query: str, limit: int) -> list[str]:
    """Closest existing tags (difflib) among tags sharing the first letter and popular ones."""
    q = fold(query)
    if not q:
        return []
    first = await conn.execute_fetchall(
        "SELECT tag FROM tag_counts WHERE tag >= ? AND tag < ? LIMIT 1000",
        (q[0], prefix_successor(q[0])),
    )
    popular = await conn.execute_fetchall(
        "SELECT tag FROM tag_counts ORDER BY members DESC, tag LIMIT 300"
    )
    candidates = {str(r[0]) for r in [*first, *popular]}
    candidates.discard(q)
    return difflib.get_close_matches(q, sorted(candidates), n=limit, cutoff=0.5)
