#!/usr/bin/env python3
"""Loads N synthetic store paths into a garretd metadata database.

Each path gets its own NAR of one chunk; all chunks sit in one pack. A
fraction of the objects were last accessed long ago (for the GC pass). The
cache must exist already (garretd creates "main" at start-up).

  scale_load.py sqlite PATH N CACHE_ID EXPIRED_FRACTION HASH_LIST_OUT
  scale_load.py postgres URL N CACHE_ID EXPIRED_FRACTION HASH_LIST_OUT

Writes the store path hashes of the loaded objects that are not meant to
expire to HASH_LIST_OUT (for the narinfo hit benchmark). PostgreSQL is loaded with psql's \\copy.
"""

import hashlib
import io
import random
import subprocess
import sys
import time

ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
NOW = int(time.time())
OLD = NOW - 400 * 86400


def store_hash(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(32))


def rows(n, cache_id, expired, rng):
    """Yields (nar, chunk, chunkref, object) rows; ids start at 1."""
    for i in range(1, n + 1):
        h = hashlib.sha256(b"scale %d" % i).hexdigest()
        f = hashlib.sha256(b"file %d" % i).hexdigest()
        size = 1000 + i % 50000
        path_hash = store_hash(rng)
        accessed = OLD if rng.random() < expired else NOW
        yield (
            (i, h, size, "zstd", f, size // 3, "valid", NOW),
            (i, h, size, "zstd", 1, (i - 1) * 400, 400, NOW, NOW),
            (i, 0, i),
            (cache_id, path_hash, "/nix/store/%s-pkg-%d" % (path_hash, i), i, "[]", "",
             "x86_64-linux", "", "[]", NOW, accessed, "scale", 0),
        )


def load_sqlite(path, n, cache_id, expired, rng, hashes):
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    db.execute("INSERT INTO pack (id, blob_key, size, state, created_at) "
               "VALUES (1, 'pack/scale/one.pack', ?, 'live', ?)", (n * 400, NOW))
    batch = [[], [], [], []]

    def flush():
        db.executemany("INSERT INTO nar (id, nar_hash, nar_size, compression, file_hash, "
                       "file_size, state, created_at) VALUES (?,?,?,?,?,?,?,?)", batch[0])
        db.executemany("INSERT INTO chunk (id, chunk_hash, size, compression, pack_id, "
                       "pack_offset, length, created_at, last_used_at) "
                       "VALUES (?,?,?,?,?,?,?,?,?)", batch[1])
        db.executemany("INSERT INTO chunkref (nar_id, seq, chunk_id) VALUES (?,?,?)", batch[2])
        db.executemany('INSERT INTO object (cache_id, store_path_hash, store_path, nar_id, '
                       '"references", deriver, system, ca, sigs, created_at, last_accessed_at, '
                       'created_by, pinned) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', batch[3])
        for b in batch:
            b.clear()

    for r in rows(n, cache_id, expired, rng):
        for b, row in zip(batch, r):
            b.append(row)
        if r[3][10] == NOW:  # hits must not refresh the paths meant to expire
            hashes.write(r[3][1] + "\n")
        if len(batch[0]) >= 50000:
            flush()
    flush()
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()


def load_postgres(url, n, cache_id, expired, rng, hashes):
    tables = [
        ("nar (id, nar_hash, nar_size, compression, file_hash, file_size, state, created_at)", []),
        ("chunk (id, chunk_hash, size, compression, pack_id, pack_offset, length, created_at, "
         "last_used_at)", []),
        ("chunkref (nar_id, seq, chunk_id)", []),
        ('object (cache_id, store_path_hash, store_path, nar_id, "references", deriver, system, '
         "ca, sigs, created_at, last_accessed_at, created_by, pinned)", []),
    ]
    buffers = [io.StringIO() for _ in tables]
    for r in rows(n, cache_id, expired, rng):
        for buf, row in zip(buffers, r):
            buf.write("\t".join(str(v) for v in row) + "\n")
        if r[3][10] == NOW:
            hashes.write(r[3][1] + "\n")
    script = ("BEGIN;\nINSERT INTO pack (id, blob_key, size, state, created_at) VALUES "
              "(1, 'pack/scale/one.pack', %d, 'live', %d);\n" % (n * 400, NOW))
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=script + "COMMIT;\n",
                   text=True, check=True)
    for (table, _), buf in zip(tables, buffers):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                        "\\copy %s FROM STDIN" % table], input=buf.getvalue(), text=True,
                       check=True)
    # Identity/serial sequences past the loaded ids, then fresh statistics.
    fix = ("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s));")
    script = "\n".join(fix % (t, t) for t in ("nar", "chunk", "pack", "object")) + "\nANALYZE;\n"
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=script, text=True,
                   check=True)


def main():
    kind, target, n, cache_id, expired, out = sys.argv[1:7]
    rng = random.Random(42)
    with open(out, "w") as hashes:
        if kind == "sqlite":
            load_sqlite(target, int(n), int(cache_id), float(expired), rng, hashes)
        else:
            load_postgres(target, int(n), int(cache_id), float(expired), rng, hashes)


if __name__ == "__main__":
    main()
