"""bench/cpu.py: the speed suite's CPU per request, split between the web
server's processes, PostgreSQL's and the load generator."""

import subprocess
import sys

from bench import cpu

# 0.3 s of CPU, then a line on stdout, then (for the first test) rest.
SPIN = (
    "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    "print('spun', flush=True)\ntime.sleep(30)"
)


def test_the_work_of_the_servers_session_is_counted_as_the_servers():
    server = subprocess.Popen([sys.executable, "-c", SPIN], start_new_session=True, stdout=subprocess.PIPE)
    try:
        before = cpu.usage(server.pid)
        assert server.stdout.readline() == b"spun\n"
        after = cpu.usage(server.pid)
    finally:
        server.kill()
        server.wait()
    cost = cpu.per_request(before, after, requests=100)
    assert cost is not None
    assert 0.15 / 100 * 1000 < cost.server < 0.6 / 100 * 1000  # ms per request
    assert cpu.per_request(before, after, requests=0) is None


def test_an_ended_child_is_the_clients_work_and_an_ended_server_process_is_not_negative():
    spin_and_end = SPIN.replace("time.sleep(30)", "")
    busy = subprocess.Popen(
        [sys.executable, "-c", spin_and_end], start_new_session=True, stdout=subprocess.DEVNULL
    )
    before = cpu.usage(busy.pid)  # counted as a server process now
    busy.wait()
    after = cpu.usage(busy.pid)
    cost = cpu.per_request(before, after, requests=1)
    assert cost is not None
    assert cost.server == 0  # gone by the second reading: not counted, not negative
    assert cost.client >= 150  # the ended child's 0.3 s, waited for (ms per request)


def test_the_description_names_each_share():
    cost = cpu.Cost(server=1.234, database=0.456, client=0.02)
    assert cost.describe("PostgreSQL") == "CPU per request: server 1.23 ms, PostgreSQL 0.46 ms, wrk 0.02 ms"
    assert cost.describe(None) == "CPU per request: server 1.23 ms, wrk 0.02 ms"
