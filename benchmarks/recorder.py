"""Recorder load benchmark: a tcp-listen connection on loopback under a steady stream, with the Miner running.

Runs standalone on a throwaway data dir with its own SQLite database (CALLTALLY_* settings of the
environment are ignored, so it never touches real data), removed at the end unless --keep:

    .venv/bin/python benchmarks/recorder.py [--seconds 60] [--rate 2000]
    .venv/bin/python benchmarks/recorder.py --rate max --records 1000000     # a burst

A second process streams Asterisk CSV records at --rate records/s for --seconds to the Recorder
(`calltally recorder`), or with ``--rate max`` a burst of --records as fast as the connection
takes them; `calltally miner` runs alongside. Prints the achieved send rate, records sent vs
spooled (loss and duplicates must be zero), the send-to-call latency (time from the send of a
sampled record — a few hundred — until its call exists in the database) at p50, p99 and max, and
the Miner's throughput: records per second from the first send to the last sampled call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = "BENCH"
SAMPLES = 300


def record(i: int) -> bytes:
    number = f"003906{i:08d}"
    return (f'"","1001","{number}","from-internal","""Anna Rossi"" <1001>","PJSIP/1001-00000001",'
            f'"PJSIP/carrier-00000002","Dial","PJSIP/{number}@carrier,300,Tt","2026-03-02 09:00:00",'
            f'"2026-03-02 09:00:07","2026-03-02 09:02:07",127,120,"ANSWERED","DOCUMENTATION",'
            f'"1772438400.{i}",""').encode()


def sender(port: int, rate: int, total: int, out: str) -> None:
    """The PBX: streams ``total`` records at ``rate`` records/s in 10 ms ticks (0: as fast as the
    connection takes them); writes what it sent and when."""
    step = max(1, total // SAMPLES)
    samples = {}
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    start = time.monotonic()
    sent = 0
    tick = 0.01
    while sent < total:
        if not rate:  # a burst: 10,000 records a write, no pause
            due = min(total, sent + 10_000)
            chunk = b"".join(record(i) + b"\r\n" for i in range(sent, due))
            now = time.time()
            samples.update((i, now) for i in range(sent, due) if i % step == 0)
            sock.sendall(chunk)
            sent = due
            continue
        due = min(total, int((time.monotonic() - start + tick) * rate))
        if due > sent:
            chunk = b"".join(record(i) + b"\r\n" for i in range(sent, due))
            now = time.time()
            for i in range(sent, due):
                if i % step == 0:
                    samples[i] = now
            sock.sendall(chunk)
            sent = due
        time.sleep(tick)
    elapsed = time.monotonic() - start
    sock.close()
    Path(out).write_text(json.dumps({"sent": sent, "elapsed": elapsed, "samples": samples}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", default="2000", help="records per second (default 2000), or max: a burst")
    parser.add_argument("--records", type=int, default=1_000_000, help="with --rate max: how many (default 1000000)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument("--send", nargs=4, metavar=("PORT", "RATE", "SECONDS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        sender(int(args.send[0]), int(args.send[1]), int(args.send[2]), args.send[3])
        return
    burst = args.rate == "max"
    rate = 0 if burst else int(args.rate)
    total = args.records if burst else int(rate * args.seconds)

    data_dir = Path(tempfile.mkdtemp(prefix="calltally-bench-recorder-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLTALLY_")}
    env["CALLTALLY_DATA_DIR"] = str(data_dir)
    env["CALLTALLY_LOG_LEVEL"] = "WARNING"
    env["CALLTALLY_MINER_IDLE"] = "1"
    os.environ.update(env)
    for key in [k for k in os.environ if k.startswith("CALLTALLY_") and k not in env]:
        del os.environ[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "calltally.settings")
    sys.path.insert(0, str(ROOT))
    cli = [sys.executable, "-m", "calltally.cli"]

    def run(*argv: str) -> None:
        subprocess.run([*cli, *argv], env=env, check=True, capture_output=True, cwd=ROOT)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run("site", "add", SITE, "--name", "Bench", "--driver", "asterisk_csv", "--country", "IT",
        "--internal-digits", "4", "--access-code", "0", "--auto-acquire")
    run("connection", "add", "--site", SITE, "--kind", "tcp-listen", "--option", f"port={port}")

    import django

    django.setup()
    from calltally.calls.models import Call
    from calltally.spool.storage import Spool

    log = open(data_dir / "services.log", "wb")  # noqa: SIM115 - closed at the end
    services = [subprocess.Popen([*cli, name], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
                for name in ("recorder", "miner")]
    processes = list(services)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the recorder did not start listening") from None
                time.sleep(0.1)
        out = data_dir / "sent.json"
        if burst:
            print(f"streaming {total} records as fast as possible to 127.0.0.1:{port} …", flush=True)
        else:
            print(f"streaming {rate} records/s for {args.seconds:g}s to 127.0.0.1:{port} …", flush=True)
        feeder = subprocess.Popen([sys.executable, __file__, "--send", str(port), str(rate), str(total), str(out)],
                                  cwd=ROOT)
        processes.append(feeder)
        step = max(1, total // SAMPLES)
        numbers = {f"003906{i:08d}": i for i in range(0, total, step)}
        seen: dict[int, float] = {}
        limit = time.monotonic() + (total / 2000 if burst else args.seconds) + 600
        while time.monotonic() < limit:
            pending = [n for n, i in numbers.items() if i not in seen]
            if not pending:
                break
            moment = time.time()
            for number in Call.objects.filter(dialled_number__in=pending).values_list("dialled_number", flat=True):
                seen[numbers[number]] = moment
            if feeder.poll() is not None and feeder.returncode != 0:
                raise SystemExit("the sender failed")
            time.sleep(0.02)
        feeder.wait(timeout=600)
        report = json.loads(out.read_text())
        sent, elapsed = report["sent"], report["elapsed"]
        samples = {int(k): v for k, v in report["samples"].items()}
        spool = Spool(data_dir / "spool")
        wait_until = time.monotonic() + 30
        while True:
            raws = [r.raw for day in spool.days(SITE) for r in spool.iter_day(SITE, day)]
            if len(raws) >= sent or time.monotonic() > wait_until:
                break
            time.sleep(0.2)
        expected = {record(i) for i in range(sent)}
        unique = set(raws)
        latencies = sorted(seen[i] - samples[i] for i in samples if i in seen)
        calls = Call.objects.count()
        print(f"sent      {sent} records in {elapsed:.1f}s = {sent / elapsed:.0f} records/s")
        print(f"spooled   {len(raws)} records; missing {len(expected - unique)}; "
              f"duplicates {len(raws) - len(unique)}; unexpected {len(unique - expected)}")
        print(f"mined     {calls} calls")
        if latencies:
            def at(share: float) -> float:
                return latencies[min(len(latencies) - 1, int(len(latencies) * share))] * 1000

            print(f"latency   send → call in the database, {len(latencies)} samples: "
                  f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {at(0.99):.0f} ms, "
                  f"max {latencies[-1] * 1000:.0f} ms; {len(samples) - len(latencies)} samples never seen")
            first_sent, last_seen = min(samples.values()), max(seen.values())
            print(f"throughput {sent} records from the first send to the last sampled call in "
                  f"{last_seen - first_sent:.1f}s = {sent / (last_seen - first_sent):.0f} records/s")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if args.keep:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
