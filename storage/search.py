"""The queries behind /whois: member ids by name, and by interest with the best match first.

Interest ranking for a prefix P (what /whois shows): members listing P itself first, then
those with more tags starting with P, then the matching tag placed earlier in the member's
own list, then the lower member id. A popular tag has ~30k holders at 100k members, so
nothing here groups or sorts all holders: counts come from tag_counts, members matching P
more than once from interests.shared (migration 0003), the rest off interests_tag in rank
order with LIMIT. RosterStore turns the ids into Members.
"""

from __future__ import annotations

import difflib

import aiosqlite

from storage.tags import fold, prefix_successor

MAX_TAG_WALKS = 100
"""Beyond this many tags under one prefix, one sort of the range beats a walk per tag."""

_NAME_EXACT = (
    "SELECT DISTINCT member_id FROM identities WHERE name_fold = ? OR handle_fold = ? LIMIT ?"
)
_NAME_PREFIX = (
    "SELECT DISTINCT member_id FROM identities WHERE (name_fold >= ? AND name_fold < ?) "
    "OR (handle_fold >= ? AND handle_fold < ?) LIMIT ?"
)
_NAME_SUBSTRING = (
    "SELECT DISTINCT member_id FROM identities "
    "WHERE instr(name_fold, ?) > 0 OR instr(handle_fold, ?) > 0 LIMIT ?"
)
_TAG_COUNTS = "SELECT tag, members FROM tag_counts WHERE tag >= ? AND tag < ?"
# listed_only (the web directory): the same ranking over members who said /listed yes, with
# counts from listed_tag_counts (migration 0009); a PK lookup per candidate row, so the
# walks still stop at LIMIT.
_LISTED = "EXISTS (SELECT 1 FROM members m WHERE m.id = member_id AND m.listed = 1)"
_LISTED_TAG_COUNTS = "SELECT tag, members FROM listed_tag_counts WHERE tag >= ? AND tag < ?"
# Members with two or more tags under the prefix: a member with n of them has n - 1 rows
# whose shared prefix (with their next tag) starts with it.
_REPEATERS = (
    "WITH repeaters AS MATERIALIZED "
    "(SELECT member_id FROM interests WHERE shared >= :prefix AND shared < :after) "
)
_RANK_REPEATERS = (
    "WITH repeaters AS MATERIALIZED "
    "(SELECT member_id FROM interests WHERE shared >= :prefix AND shared < :after) "
    "SELECT member_id, MAX(tag = :prefix) AS exact, COUNT(*) AS n, MIN(position) AS pos, "
    "(SELECT COUNT(*) FROM repeaters) FROM interests "
    "WHERE member_id IN repeaters AND tag >= :prefix AND tag < :after "
    "GROUP BY member_id ORDER BY exact DESC, n DESC, pos, member_id LIMIT :limit"
)
# Members with one matching tag, best first: per tag straight off interests_tag, or, with
# very many tags under the prefix, one sort of the whole range.
_WALK_TAG = (
    "SELECT * FROM (SELECT member_id, tag, position FROM interests "
    "WHERE tag = :t{i} AND member_id NOT IN repeaters ORDER BY position, member_id LIMIT :limit)"
)
_SORT_RANGE = (
    "WITH repeaters AS MATERIALIZED "
    "(SELECT member_id FROM interests WHERE shared >= :prefix AND shared < :after) "
    "SELECT member_id, tag, position FROM interests WHERE tag >= :prefix AND tag < :after "
    "AND member_id NOT IN repeaters ORDER BY tag = :prefix DESC, position, member_id LIMIT :limit"
)


def _listed(sql: str, listed_only: bool) -> str:
    """sql restricted to listed members when asked: every name search ends "WHERE <filter>
    LIMIT ?", every interest walk filters its repeaters and its rows."""
    if not listed_only:
        return sql
    head, _, tail = sql.partition(" WHERE ")
    if tail.endswith(" LIMIT ?"):  # a name search
        return f"{head} WHERE {_LISTED} AND ({tail.removesuffix(' LIMIT ?')}) LIMIT ?"
    for part in ("WHERE shared >= :prefix AND shared < :after", "AND member_id NOT IN repeaters"):
        sql = sql.replace(part, f"{part} AND {_LISTED}")
    return sql


async def rank_names(
    conn: aiosqlite.Connection,
    query: str,
    limit: int,
    *,
    exact_only: bool,
    listed_only: bool = False,
) -> list[tuple[int, int]]:
    """(member id, rank) best first: rank 0 exact name or handle, 1 prefix, 2 substring."""
    q = fold(query).lstrip("@")
    if not q:
        return []
    ranked: dict[int, int] = {}
    after = prefix_successor(q)
    searches = (
        (_NAME_EXACT, (q, q, limit)),
        (_NAME_PREFIX, (q, after, q, after, limit)),
        (_NAME_SUBSTRING, (q, q, limit)),
    )
    for rank, (sql, params) in enumerate(searches[:1] if exact_only else searches):
        if len(ranked) >= limit:
            break
        for row in await conn.execute_fetchall(_listed(sql, listed_only), params):
            ranked.setdefault(int(row[0]), rank)
    ids = sorted(ranked, key=lambda i: (ranked[i], i))[:limit]
    return [(i, ranked[i]) for i in ids]


async def rank_interest(
    conn: aiosqlite.Connection, prefix: str, limit: int, *, listed_only: bool = False
) -> tuple[int, list[tuple[int, bool]]]:
    """How many members list prefix or a tag starting with it, and the best limit of them
    as (member id, lists prefix itself); listed_only: of the members who said /listed yes."""
    after = prefix_successor(prefix)
    count_sql = _LISTED_TAG_COUNTS if listed_only else _TAG_COUNTS
    counts = {str(r[0]): int(r[1]) for r in await conn.execute_fetchall(count_sql, (prefix, after))}
    if not counts:
        return 0, []
    params: dict[str, object] = {"prefix": prefix, "after": after, "limit": limit}
    repeaters = list(await conn.execute_fetchall(_listed(_RANK_REPEATERS, listed_only), params))
    extra_rows = int(repeaters[0][4]) if repeaters else 0
    candidates = [(-int(r[1]), -int(r[2]), int(r[3]), int(r[0])) for r in repeaters]
    # Holders of prefix itself rank first, so with enough of them no other tag can place.
    walk = [prefix] if counts.get(prefix, 0) >= limit else sorted(counts)
    if len(walk) > MAX_TAG_WALKS:
        sql = _SORT_RANGE
    else:  # only placeholders are added: tags stay bound parameters
        sql = _REPEATERS + " UNION ALL ".join(_WALK_TAG.format(i=i) for i in range(len(walk)))
        params.update({f"t{i}": tag for i, tag in enumerate(walk)})
    for r in await conn.execute_fetchall(_listed(sql, listed_only), params):
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
