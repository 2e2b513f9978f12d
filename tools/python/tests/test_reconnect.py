"""SPEC §8: a Client survives a daemon SIGKILL and restart: calls wait for the reconnect, and those whose
answer was lost are re-sent when that is safe."""

import threading
import time
import uuid

from support import Daemon, DaemonTestCase, task_of, wait_until

from flowline import Client, ConnectionLost, Flow, Future, Worker, task


class Reconnect(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        pass  # each test has a daemon of its own, to kill

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        super().setUp()
        self.daemon = Daemon().start()
        self.addCleanup(self.daemon.cleanup)

    def test_a_wait_across_a_daemon_sigkill_and_restart_completes(self):
        client = Client(self.daemon.address, timeout=5, reconnect_s=20)
        self.addCleanup(client.close)
        wid = client.submit({"name": "survives", "id": "survives-" + uuid.uuid4().hex[:8],
                             "tasks": [task("h", queue=self.queue)]})["workflow_id"]
        outcome = {}

        def wait():
            try:
                outcome["record"] = client.wait(wid, timeout_s=20)
            except BaseException as e:  # reported by the assertions below
                outcome["error"] = e

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        time.sleep(0.3)  # the wait is in flight
        self.daemon.kill()
        time.sleep(0.3)  # calls meanwhile find no daemon and back off
        self.assertTrue(waiter.is_alive(), outcome)
        self.daemon.start()

        worker = Worker(self.daemon.address, queues=[self.queue], name="after-restart")
        worker.register("h", lambda ctx: "done after restart")
        self.start_worker(worker)
        waiter.join(20)
        self.assertNotIn("error", outcome)
        record = outcome["record"]
        self.assertEqual(record["state"], "completed", record)
        self.assertEqual(task_of(record, "h")["result"], "done after restart")
        self.assertGreaterEqual(client.reconnects, 1)

    def test_calls_made_while_the_daemon_is_down_wait_for_it(self):
        client = Client(self.daemon.address, timeout=5, reconnect_s=20)
        self.addCleanup(client.close)
        self.assertIn("workflows", client.stats())
        self.daemon.kill()
        restarter = threading.Timer(0.5, self.daemon.start)
        restarter.start()
        self.addCleanup(restarter.join)
        # Nothing is sent while there is no connection, so even a submit without an id is safe to retry.
        wid = client.submit({"name": "later", "tasks": [task("h", queue=self.queue)]})["workflow_id"]
        self.assertEqual(client.get(wid)["state"], "running")
        self.assertEqual(client.resolve("key-" + uuid.uuid4().hex), 0)

    def test_only_what_is_safe_is_resent_when_its_answer_is_lost(self):
        import signal
        client = Client(self.daemon.address, timeout=10, reconnect_s=20)
        self.addCleanup(client.close)
        wid = client.submit({"name": "first", "tasks": [task("h", queue=self.queue)]})["workflow_id"]
        self.daemon.proc.send_signal(signal.SIGSTOP)  # requests are sent and never answered
        outcomes = {}

        def call(name, fn):
            try:
                outcomes[name] = fn()
            except BaseException as e:  # reported by the assertions below
                outcomes[name] = e

        calls = [
            threading.Thread(target=call, args=("get", lambda: client.get(wid)), daemon=True),
            threading.Thread(target=call, args=("submit", lambda: client.submit(
                {"name": "no-id", "tasks": [task("h", queue=self.queue)]})), daemon=True),
            threading.Thread(target=call, args=("submit-id", lambda: client.submit(
                {"name": "with-id", "id": "with-id", "tasks": [task("h", queue=self.queue)]})), daemon=True)]
        for t in calls:
            t.start()
        time.sleep(0.3)  # all three are on the wire
        self.daemon.kill()  # SIGKILL ends a stopped process too
        self.daemon.start()
        for t in calls:
            t.join(15)
        self.assertEqual(outcomes["get"]["workflow_id"], wid)
        self.assertIsInstance(outcomes["submit"], ConnectionLost)  # it may or may not have been taken
        self.assertEqual(outcomes["submit-id"]["workflow_id"], "with-id")
        self.assertEqual(client.get("with-id")["name"], "with-id")

    def test_a_resolve_whose_answer_was_lost_is_resent_and_applies_once(self):
        import signal
        client = Client(self.daemon.address, timeout=10, reconnect_s=20)
        self.addCleanup(client.close)
        client.stats()
        key = "lost-" + uuid.uuid4().hex
        self.daemon.proc.send_signal(signal.SIGSTOP)
        outcome = {}

        def resolve():
            try:
                outcome["matched"] = client.resolve(key, "once")
            except BaseException as e:  # reported by the assertions below
                outcome["matched"] = e

        resolver = threading.Thread(target=resolve, daemon=True)
        resolver.start()
        time.sleep(0.3)  # on the wire, unanswered
        self.daemon.kill()
        self.daemon.start()
        resolver.join(15)
        self.assertEqual(outcome["matched"], 0)  # re-sent, not ConnectionLost: kept for the first await
        self.assertGreaterEqual(client.reconnects, 1)

    def test_a_resolution_id_applies_once_across_a_restart(self):
        client = Client(self.daemon.address, timeout=10, reconnect_s=20)
        self.addCleanup(client.close)
        key = "once-" + uuid.uuid4().hex
        flow = Flow("twice", queue=self.queue)

        @flow.task()
        def first():
            return Future(key=key)

        @flow.task(deps=["first"])
        def second():
            return Future(key=key, timeout_s=30)

        worker = flow.worker(client)
        self.start_worker(worker)
        wid = flow.submit(client)
        wait_until(lambda: task_of(client.get(wid), "first")["state"] == "waiting", 10, message="the first await")
        self.assertEqual(client.resolve(key, "first", resolution_id="r-1"), 1)
        wait_until(lambda: task_of(client.get(wid), "second")["state"] == "waiting", 10, message="the second await")
        self.daemon.kill()
        self.daemon.start()
        # A re-send of r-1 (as after a lost answer) answers the first matched and changes nothing: without the
        # id it would settle the second await with "second".
        self.assertEqual(client.resolve(key, "second", resolution_id="r-1"), 1)
        wait_until(lambda: task_of(client.get(wid), "second")["state"] == "waiting", 10, message="the second await")
        self.assertEqual(task_of(client.get(wid), "second")["attempts"], 1)
        self.assertEqual(client.resolve(key, "third"), 1)
        self.assertEqual(client.wait(wid, timeout_s=10)["result"], {"second": "third"})

    def test_the_bound_reaches_the_caller(self):
        client = Client(self.daemon.address, timeout=5, reconnect_s=0.5)
        self.addCleanup(client.close)
        client.stats()
        self.daemon.kill()
        started = time.monotonic()
        with self.assertRaises(ConnectionLost):
            client.stats()
        self.assertLess(time.monotonic() - started, 3)
