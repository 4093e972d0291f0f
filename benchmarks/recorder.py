"""Recorder load benchmark: a tcp-listen connection on loopback under a steady stream, with the Miner running.

Runs standalone on a throwaway data dir with its own SQLite database (CALLTALLY_* settings of the
environment are ignored, so it never touches real data), removed at the end unless --keep:

    .venv/bin/python benchmarks/recorder.py [--seconds 60] [--rate 2000]

A second process streams Asterisk CSV records at --rate records/s for --seconds to the Recorder
(`calltally recorder`); `calltally miner` runs alongside. Prints the achieved send rate, records
sent vs spooled (loss and duplicates must be zero) and the spool-to-call latency: time from the
send of a sampled record (a few hundred) until its call exists in the database.
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


def sender(port: int, rate: int, seconds: float, out: str) -> None:
    """The PBX: streams `rate` records/s in 10 ms ticks; writes what it sent and when."""
    total = int(rate * seconds)
    step = max(1, total // SAMPLES)
    samples = {}
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    start = time.monotonic()
    sent = 0
    tick = 0.01
    while sent < total:
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
    parser.add_argument("--rate", type=int, default=2000, help="records per second (default 2000)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument("--send", nargs=4, metavar=("PORT", "RATE", "SECONDS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        sender(int(args.send[0]), int(args.send[1]), float(args.send[2]), args.send[3])
        return

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
        print(f"streaming {args.rate} records/s for {args.seconds:g}s to 127.0.0.1:{port} …", flush=True)
        feeder = subprocess.Popen([sys.executable, __file__, "--send", str(port), str(args.rate),
                                   str(args.seconds), str(out)], cwd=ROOT)
        processes.append(feeder)
        step = max(1, int(args.rate * args.seconds) // SAMPLES)
        numbers = {f"003906{i:08d}": i for i in range(0, int(args.rate * args.seconds), step)}
        seen: dict[int, float] = {}
        limit = time.monotonic() + args.seconds + 120
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
        feeder.wait(timeout=args.seconds + 60)
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
            print(f"latency   send → call in the database, {len(latencies)} samples: "
                  f"median {statistics.median(latencies) * 1000:.0f} ms, "
                  f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms, "
                  f"max {latencies[-1] * 1000:.0f} ms; {len(samples) - len(latencies)} samples never seen")
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
