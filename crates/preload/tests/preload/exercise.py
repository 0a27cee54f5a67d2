"""Allocation-heavy workload for `cargo xtask preload-check`: dicts, strings, lists,
sets and threads (creating and destroying threads, passing objects between them).
Its output is deterministic so a run under LD_PRELOAD=liballocmux_slab.so can be
compared line by line with a plain run."""

import hashlib
import queue
import threading


def dict_work(n):
    d = {}
    for i in range(n):
        d["key-%d" % i] = [i, str(i) * (i % 7), {"nested": i % 13}]
    for i in range(0, n, 3):
        del d["key-%d" % i]
    total = sum(v[0] for v in d.values())
    return len(d), total


def string_work(n):
    parts = []
    for i in range(n):
        s = ("abc%dxyz" % i) * (1 + i % 50)
        parts.append(s.upper().replace("XYZ", "-")[: 1 + i % 300])
    joined = "|".join(parts)
    words = joined.split("|")
    return len(joined), len(set(words)), hashlib.sha256(joined.encode()).hexdigest()[:16]


def producer_consumer(rounds, items):
    results = []
    for r in range(rounds):
        q = queue.Queue(maxsize=64)
        out = []

        def produce(seed):
            for i in range(items):
                q.put(bytes([(seed + i) % 256]) * (1 + (i * 37) % 4000))
            q.put(None)

        def consume():
            done = 0
            acc = 0
            while done < 4:
                b = q.get()
                if b is None:
                    done += 1
                else:
                    acc += len(b) + b[0]
            out.append(acc)

        threads = [threading.Thread(target=produce, args=(r * 4 + k,)) for k in range(4)]
        c = threading.Thread(target=consume)
        for t in threads:
            t.start()
        c.start()
        for t in threads:
            t.join()
        c.join()
        results.append(out[0])
    return sum(results)


def worker_dicts(k, out, lock):
    local = {}
    for i in range(20000):
        local[(k, i)] = "v" * (i % 40)
        if i % 5 == 0:
            local.pop((k, i // 2), None)
    with lock:
        out[k] = (len(local), sum(len(v) for v in local.values()))


def main():
    print("dicts", dict_work(200000))
    print("strings", string_work(50000))
    print("queues", producer_consumer(10, 2000))
    out = {}
    lock = threading.Lock()
    for rnd in range(5):
        ts = [threading.Thread(target=worker_dicts, args=(rnd * 8 + k, out, lock)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    print("thread dicts", sorted(out.items())[:3], sum(v[1] for v in out.values()))
    big = [bytearray(i * 1000) for i in range(300)]
    print("big", sum(len(b) for b in big))


main()
