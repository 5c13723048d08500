"""A public log of --leaves (10,000,000) leaves, fast, in a database kept for measuring proofs on it
(--database, bench_log10m): the leaves and the stored nodes computed here with the log's own hashing
(publiclog.merkle) and written with COPY, a checkpoint signed by the log's own service. Made-up
retirement ids (the foreign key skipped by the benchmark's superuser, as bench/publiclog.py does);
entries as bench/publiclog.py makes them. Then measure the proofs on it:

    .venv/bin/python bench/publiclog_fill.py [--leaves 10000000] [--database bench_log10m]
    .venv/bin/python bench/publiclog.py --database bench_log10m --requests 400

The same tree as the log's appends would build (LogNode at the levels NODE_STRIDE names); verify_log
over 10,000,000 leaves takes minutes, so it is not run here (--verify runs it)."""

import argparse
import datetime
import hashlib
import os
import time

from common import setup_django

CHUNK_LEVEL = 20  # leaves are hashed and written 2**20 at a time: every stored subtree below level 20 inside one
MADE_UP = 10**12  # retirement ids no retirement has


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--database", default="bench_log10m")
    parser.add_argument("--verify", action="store_true", help="run verify_log over the result (slow)")
    options = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    setup_django(options.database, fresh=True, exact=True)

    from django.core.management import call_command
    from django.db import connection, transaction

    from publiclog.merkle import leaf_hash, node_hash
    from publiclog.models import NODE_STRIDE, LogLeaf, LogNode
    from publiclog.services import checkpoint_sign

    now = datetime.datetime.now(datetime.UTC)
    carried: list[bytes] = []  # the hashes of the complete subtrees of level CHUNK_LEVEL, for the levels above
    nodes_written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # the made-up retirements' foreign key
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        for first in range(0, options.leaves, 1 << CHUNK_LEVEL):
            count = min(1 << CHUNK_LEVEL, options.leaves - first)
            entries = [hashlib.sha256(index.to_bytes(8, "big")).digest() for index in range(first, first + count)]
            level_hashes = [leaf_hash(entry) for entry in entries]
            with raw.copy(f"COPY {LogLeaf._meta.db_table} (index, retirement_id, entry, hash, appended_at) "
                          "FROM STDIN") as copy:
                for offset, (entry, hashed) in enumerate(zip(entries, level_hashes, strict=True)):
                    copy.write_row((first + offset, MADE_UP + first + offset, entry, hashed, now))
            nodes = []
            for level in range(1, CHUNK_LEVEL + 1):
                level_hashes = [node_hash(level_hashes[i], level_hashes[i + 1])
                                for i in range(0, len(level_hashes) - 1, 2)]
                if level % NODE_STRIDE == 0:
                    offset = first >> level
                    nodes += [(level, offset + i, hashed) for i, hashed in enumerate(level_hashes)]
            carried += level_hashes  # a partial last chunk leaves none
            nodes_written += _nodes_copy(raw, LogNode._meta.db_table, nodes)
            print(f"{first + count:,} leaves, {time.perf_counter() - started:.0f} s", flush=True)
        nodes, level = [], CHUNK_LEVEL
        while len(carried) > 1:
            carried = [node_hash(carried[i], carried[i + 1]) for i in range(0, len(carried) - 1, 2)]
            level += 1
            if level % NODE_STRIDE == 0:
                nodes += [(level, i, hashed) for i, hashed in enumerate(carried)]
        nodes_written += _nodes_copy(raw, LogNode._meta.db_table, nodes)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {LogLeaf._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {LogNode._meta.db_table}")
    filled = time.perf_counter() - started
    checkpoint = checkpoint_sign()
    print(f"{options.database}: {options.leaves:,} leaves and {nodes_written:,} stored nodes in {filled:.0f} s "
          f"({options.leaves / filled:,.0f} leaves a second; this process's CPU {time.process_time() - cpu:.0f} s); "
          f"checkpoint of {checkpoint.size:,} leaves signed")
    if options.verify:
        call_command("verify_log")
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


def _nodes_copy(raw, table: str, nodes: list[tuple[int, int, bytes]]) -> int:
    with raw.copy(f"COPY {table} (level, index, hash) FROM STDIN") as copy:
        for row in nodes:
            copy.write_row(row)
    return len(nodes)


if __name__ == "__main__":
    main()
