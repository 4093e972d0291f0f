"""``calltally web``: serve the web interface with waitress."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from calltally.services.heartbeat import Heartbeat

log = logging.getLogger("calltally.web")


class _Stop(SystemExit):
    """Raised by the signal handler; waitress's run loop shuts down on SystemExit."""


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Command(BaseCommand):
    help = "Run the web interface (waitress) until SIGTERM or Ctrl-C."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1", metavar="HOST",
                            help="Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
        parser.add_argument("--port", type=int, default=8000, metavar="N", help="TCP port (default 8000).")
        parser.add_argument("--threads", type=int, default=8, metavar="N",
                            help="Worker threads serving requests (default 8).")

    def handle(self, *args, bind: str, port: int, threads: int, **options):
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port} is not a TCP port; use 1 to 65535.")
        if threads < 1:
            raise CommandError(f"--threads {threads} must be at least 1.")

        self.collect_static()
        server = self.make_server(bind, port, threads)

        stop_event = threading.Event()
        heartbeat = Heartbeat("web")
        previous = {}

        def on_signal(signum, frame):
            # Leaves waitress's loop (it catches SystemExit and stops its workers).
            if not stop_event.is_set():
                stop_event.set()
                raise _Stop(0)

        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
        try:
            heartbeat.start()
            heartbeat.run_in_thread(stop_event)
            self.stdout.write(f"CallTally web listening on http://{_url_host(bind)}:{port}/")
            self.stdout.flush()
            server.run()
        except _Stop:
            pass  # a signal outside waitress's loop (during start-up)
        finally:
            stop_event.set()
            try:
                server.close()
            except Exception as exc:  # already closed by waitress; nothing left to do
                log.debug("closing the web server: %s", exc)
            server.task_dispatcher.shutdown(timeout=5)
            try:
                heartbeat.stop()
            except Exception as exc:  # the database may be gone; the heartbeat goes stale instead
                log.warning("web: could not record the stop: %s", exc)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write("CallTally web stopped.")

    def collect_static(self) -> None:
        try:
            call_command("collectstatic", interactive=False, verbosity=0)
        except Exception as exc:
            # WHITENOISE_USE_FINDERS serves the files from the apps anyway.
            self.stderr.write(f"calltally web: collectstatic failed ({exc}); "
                              "serving static files from the apps instead.")

    def make_server(self, bind: str, port: int, threads: int):
        from waitress import create_server

        from calltally.wsgi import application

        try:
            return create_server(application, host=bind, port=port, threads=threads, ident="CallTally")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CommandError(
                f"cannot listen on {_url_host(bind)}:{port}: {reason}. "
                "Is another server already using that port? Choose another with --port."
            ) from None
        except ValueError as exc:
            raise CommandError(f"cannot listen on {bind}:{port}: {exc}") from None
