"""Client round trips and typed errors against the real daemon."""

import uuid

from support import Daemon, DaemonTestCase, task_of

from flowline import Client, ConnectionLost, InvalidParams, RPCError, Unauthorized, UnknownWorkflow, connect


def doc(wid=None, queue="nobody", **extra):
    d = {"name": "rt", "input": {"day": "2026-11-22"},
         "tasks": [{"id": "a", "handler": "h", "queue": queue}, {"id": "b", "handler": "h", "deps": ["a"],
                                                                   "queue": queue}]}
    if wid:
        d["id"] = wid
    d.update(extra)
    return d


class ClientRoundTrips(DaemonTestCase):
    def test_hello_answers_server_facts(self):
        with connect(self.daemon.address, name="hello-test") as c:
            self.assertEqual(c.server["server"], "flowline")
            self.assertEqual(c.server["protocol"], 1)

    def test_submit_is_idempotent_by_id_and_get_has_every_field(self):
        wid = "rt-" + uuid.uuid4().hex[:8]
        first = self.client.submit(doc(wid))
        self.assertEqual(first, {"workflow_id": wid, "created": True})
        again = self.client.submit(doc(wid))
        self.assertEqual(again, {"workflow_id": wid, "created": False})
        record = self.client.get(wid)
        for field in ("workflow_id", "name", "state", "input", "result", "error", "reverted", "created_at",
                      "finished_at", "tasks"):
            self.assertIn(field, record)
        self.assertEqual(record["state"], "running")
        self.assertEqual(record["input"], {"day": "2026-11-22"})
        self.assertEqual([t["id"] for t in record["tasks"]], ["a", "b"])
        self.assertEqual(task_of(record, "a")["state"], "ready")
        self.assertEqual(task_of(record, "b")["state"], "blocked")
        self.assertEqual(task_of(record, "b")["deps"], ["a"])

    def test_generated_ids_are_unique(self):
        a = self.client.submit(doc())["workflow_id"]
        b = self.client.submit(doc())["workflow_id"]
        self.assertNotEqual(a, b)

    def test_wait_with_timeout_returns_the_record_as_it_stands(self):
        wid = self.client.submit(doc())["workflow_id"]
        record = self.client.wait(wid, timeout_s=0.2)
        self.assertEqual(record["state"], "running")

    def test_list_newest_first_with_cursor(self):
        name = "list-" + uuid.uuid4().hex[:6]
        ids = [self.client.submit(doc(name=name))["workflow_id"] for _ in range(3)]
        page = self.client.list(name=name, limit=2)
        self.assertEqual([w["workflow_id"] for w in page["workflows"]], ids[::-1][:2])
        self.assertIsNotNone(page["next"])
        rest = self.client.list(name=name, limit=2, after=page["next"])
        self.assertEqual([w["workflow_id"] for w in rest["workflows"]], ids[:1])
        self.assertEqual([w["workflow_id"] for w in self.client.list_all(name=name)], ids[::-1])
        running = self.client.list(state="running", name=name)
        self.assertEqual(len(running["workflows"]), 3)

    def test_cancel_and_history(self):
        wid = self.client.submit(doc())["workflow_id"]
        record = self.client.cancel(wid, reason="test")
        self.assertEqual(record["state"], "cancelled")
        self.assertEqual({t["state"] for t in record["tasks"]}, {"cancelled"})
        again = self.client.cancel(wid)
        self.assertEqual(again["state"], "cancelled")
        events = self.client.history(wid)
        self.assertGreaterEqual(len(events), 2)
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))
        for e in events:
            self.assertIn("type", e)
            self.assertIn("time", e)

    def test_workers_and_stats(self):
        self.assertIsInstance(self.client.workers(), list)
        stats = self.client.stats()
        for key in ("workflows", "tasks", "journal", "uptime_s"):
            self.assertIn(key, stats)

    def test_client_reconnects_after_its_connection_drops(self):
        c = Client(self.daemon.address, timeout=5)
        try:
            c.stats()
            c._conn.close()  # as if the network dropped it
            self.assertIn("workflows", c.stats())
        finally:
            c.close()


class Addresses(DaemonTestCase):
    """SPEC §7: host names and bracketed IPv6 wherever an address is taken."""

    def test_a_host_name_is_resolved(self):
        with Client("localhost:{}".format(self.daemon.port), timeout=5) as c:
            self.assertIn("workflows", c.stats())

    def test_a_bracketed_ipv6_daemon_is_reached(self):
        daemon = Daemon(host="[::1]").start()
        try:
            self.assertEqual(daemon.address, "[::1]:{}".format(daemon.port))
            with Client(daemon.address, timeout=5) as c:
                wid = c.submit(doc())["workflow_id"]
                self.assertEqual(c.get(wid)["state"], "running")
        finally:
            daemon.cleanup()


class TypedErrors(DaemonTestCase):
    def test_unknown_workflow_is_32002(self):
        for call in (lambda: self.client.get("no-such"), lambda: self.client.history("no-such"),
                     lambda: self.client.wait("no-such", timeout_s=1), lambda: self.client.cancel("no-such")):
            with self.assertRaises(UnknownWorkflow) as caught:
                call()
            self.assertEqual(caught.exception.code, -32002)
            self.assertTrue(caught.exception.message)

    def test_bad_document_is_32602_with_data_path(self):
        cases = [
            ({"name": "x", "tasks": [{"id": "a", "handler": "h"}, {"id": "b", "handler": "h", "deps": ["zz"]}]},
             "tasks[1].deps[0]"),
            ({"name": "x", "tasks": [{"id": "a", "handler": "h"}, {"id": "a", "handler": "h"}]}, "tasks[1].id"),
            ({"name": "x", "tasks": [{"id": "a", "handler": 3}]}, "tasks[0].handler"),
        ]
        for document, path in cases:
            with self.assertRaises(InvalidParams) as caught:
                self.client.submit(document)
            e = caught.exception
            self.assertEqual(e.code, -32602)
            self.assertIsInstance(e.data, dict)
            self.assertEqual(e.path, path, e)
            self.assertEqual(e.data["path"], path)
            self.assertIsInstance(e, RPCError)

    def test_connection_refused_is_connection_lost(self):
        from support import free_port
        with self.assertRaises(ConnectionLost):
            connect("127.0.0.1:{}".format(free_port()))


class Tokens(DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(token="s3cret").start()
        cls.client = Client(cls.daemon.address, token="s3cret", timeout=10)

    def test_right_token_works_wrong_token_is_32001(self):
        self.assertIn("workflows", self.client.stats())
        with self.assertRaises(Unauthorized) as caught:
            connect(self.daemon.address, token="wrong")
        self.assertEqual(caught.exception.code, -32001)
        with self.assertRaises(Unauthorized):
            Client(self.daemon.address).stats()
