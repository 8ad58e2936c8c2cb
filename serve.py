"""Serve the app on every core: `python serve.py [--host H] [--port P] [--processes N] [--threads T]`.

One waitress process holds the GIL, so it uses one core at most. This
supervisor binds one listening socket per worker on the same port
(SO_REUSEPORT: the kernel spreads new connections over them) before any
worker starts, forks N waitress workers, restarts a worker that dies on the
socket it had (connections wait in that socket's queue meanwhile), and stops
them all on SIGTERM or SIGINT. `make run` stays the single-process path;
docs/deploy.md and docs/performance.md say why each setting is what it is.
"""
import argparse
import ctypes
import os
import resource
import signal
import socket
import sys
import time
import traceback

# Per worker process. connection_limit: waitress's default (100) is below the
# 300 and 1,000 clients a busy site sees; backlog: the kernel queue in front.
CONNECTION_LIMIT = 2000
BACKLOG = 2048
DEFAULT_THREADS = 6  # the best of those measured (docs/performance.md)
STOP_GRACE_SECONDS = 10  # waitress lets running requests finish for 5 s
RESTART_PAUSE_SECONDS = 1
EXIT_STARTUP_FAILED = 3  # a worker that cannot even build the app: restarting won't help
PR_SET_PDEATHSIG = 1


def log(message):
    """One line on standard error, where the app's own log goes too."""
    print(f"serve.py[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def parse_args(argv=None):
    """The command line, with defaults from WEB_PROCESSES / WEB_THREADS."""
    parser = argparse.ArgumentParser(description="Serve the app with N waitress processes on one port.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--processes", type=int,
                        default=int(os.environ.get("WEB_PROCESSES") or cores()),
                        help="worker processes (default: WEB_PROCESSES, else the cores)")
    parser.add_argument("--threads", type=int,
                        default=int(os.environ.get("WEB_THREADS") or DEFAULT_THREADS),
                        help=f"waitress threads per worker (default: WEB_THREADS, else {DEFAULT_THREADS})")
    options = parser.parse_args(argv)
    if options.processes < 1 or options.threads < 1:
        parser.error("--processes and --threads must be at least 1")
    return options


def worker_environment(options):
    """Settings every worker reads at import, unless the environment sets them.

    One Argon2id hash per core across the whole machine, and one database
    connection per waitress thread.
    """
    os.environ.setdefault("HASH_CONCURRENCY", str(max(1, cores() // options.processes)))
    os.environ.setdefault("DB_POOL_SIZE", str(options.threads))


def check_configuration():
    """Refuse to start with settings the app would refuse (e.g. production secrets).

    Checked in a short-lived child: the supervisor itself never imports the
    app or its libraries, so it stays a few MB beside the workers.
    """
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            from config import config_for

            config_for().load()
        except RuntimeError as error:
            log(f"refusing to start: {error}")
            status = 1
        os._exit(status)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        sys.exit(1)


def raise_open_files_limit():
    """Every connection is a file descriptor: allow as many as the hard limit lets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def listening_sockets(host, port, count):
    """`count` sockets listening on one port with SO_REUSEPORT (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        port = sock.getsockname()[1]
        sockets.append(sock)
    return sockets


def worker_main(sock, threads, parent):
    """A worker's whole life, as its exit status (it never returns into the supervisor)."""
    try:
        die_with_parent(parent)
        serve_worker(sock, threads)
    except SystemExit:
        pass  # stopped (stop_on_signal) before waitress was serving
    except BaseException:  # noqa: BLE001 - said, then the supervisor starts another
        traceback.print_exc()
        return 1
    return 0


def serve_worker(sock, threads):
    """Build the app, then serve `sock` until SIGTERM or SIGINT."""
    try:
        from wsgi import app
    except Exception as error:  # noqa: BLE001 - any import failure is fatal, and said once
        log(f"worker cannot start: {type(error).__name__}: {error}")
        os._exit(EXIT_STARTUP_FAILED)

    import logging

    from waitress import create_server

    # waitress warns "Task queue depth is N" for every request that waits for
    # a thread: thousands of lines a second under load, all of them expected.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logging.basicConfig()  # as waitress.serve() does: its own messages reach stderr
    server = create_server(
        app,
        sockets=[sock],
        threads=threads,
        connection_limit=CONNECTION_LIMIT,
        backlog=BACKLOG,
        asyncore_use_poll=True,  # select() cannot watch descriptors past 1,024
        # Forwarded headers reach the app, which trusts them only as far as
        # TRUSTED_PROXY_COUNT says (see docs/deploy.md).
        clear_untrusted_proxy_headers=False,
    )
    server.print_listen("Serving on http://{}:{}")
    server.run()  # until SIGTERM or SIGINT; running requests finish (waitress)


def die_with_parent(parent):
    """Ask Linux to stop this worker if the supervisor dies without stopping it.

    Orphans would keep serving the port beside a restarted supervisor's workers.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: systemd's control group still stops every worker
    if os.getppid() != parent:  # it died before the request took effect
        raise SystemExit(0)


def stop_on_signal(signum, frame):
    """In a worker: leave waitress's loop; it lets running requests finish."""
    raise SystemExit(0)


class Supervisor:
    """Keeps one worker alive per listening socket until told to stop."""

    def __init__(self, sockets, threads):
        self.sockets = sockets
        self.threads = threads
        self.workers = {}  # pid -> socket
        self.stopping = False

    def spawn(self, sock):
        """Fork one worker on `sock`; signals stay blocked until each side is ready for them."""
        handled = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, handled)
        pid = os.fork()
        if pid == 0:
            for signum in handled:
                signal.signal(signum, stop_on_signal)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, handled)
            for other in self.sockets:
                if other is not sock:
                    other.close()
            os._exit(worker_main(sock, self.threads, parent=os.getppid()))
        self.workers[pid] = sock
        signal.pthread_sigmask(signal.SIG_UNBLOCK, handled)

    def stop(self, signum=None, frame=None):
        """Ask every worker to finish; kill those still running after the grace period."""
        self.stopping = True
        self.signal_workers(signal.SIGTERM)
        signal.signal(signal.SIGALRM, lambda *_: self.signal_workers(signal.SIGKILL))
        signal.alarm(STOP_GRACE_SECONDS)

    def signal_workers(self, signum):
        """Send `signum` to every live worker."""
        for pid in list(self.workers):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def run(self):
        """Start the workers and look after them; the exit status of the whole server."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for sock in self.sockets:
            self.spawn(sock)
        status = 0
        while self.workers:
            pid, wait_status = os.wait()
            sock = self.workers.pop(pid, None)
            if sock is None or self.stopping:
                continue
            if os.waitstatus_to_exitcode(wait_status) == EXIT_STARTUP_FAILED:
                status = 1
                self.stop()
                continue
            log(f"worker {pid} ended ({describe(wait_status)}); starting another")
            time.sleep(RESTART_PAUSE_SECONDS)
            if not self.stopping:
                self.spawn(sock)
        signal.alarm(0)
        return status


def describe(wait_status):
    """How a worker ended, in words."""
    code = os.waitstatus_to_exitcode(wait_status)
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


def main(argv=None):
    """Check the settings, bind the port, serve until stopped."""
    options = parse_args(argv)
    check_configuration()
    worker_environment(options)
    raise_open_files_limit()
    sockets = listening_sockets(options.host, options.port, options.processes)
    host, port = sockets[0].getsockname()[:2]
    log(f"serving on http://{host}:{port} with {options.processes} processes "
        f"x {options.threads} threads, {os.environ['HASH_CONCURRENCY']} Argon2id hash(es) "
        f"at a time and {os.environ['DB_POOL_SIZE']} database connections each")
    return Supervisor(sockets, options.threads).run()


if __name__ == "__main__":
    sys.exit(main())
