"""A single-node KRaft Kafka broker, resolved from Maven Central and run on the JDK."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import uuid
from devstack import toolchain
from devstack.config import DEVSTACK_DIR, HOST, StackConfig
from devstack.processes import StackError, port_is_open, running_pid, start_detached, stop_process, wait_until

POM = DEVSTACK_DIR / "kafka" / "pom.xml"
START_TIMEOUT_S = 90.0


class KafkaBroker:
    def __init__(self, config: StackConfig):
        self.config = config
        self.home = config.state_dir / "kafka"
        self.libs_dir = self.home / "libs"
        self.data_dir = self.home / "data"
        self.properties_file = self.home / "server.properties"
        self.log_file = self.home / "broker.log"
        self.pid_file = self.home / "broker.pid"

    def resolve(self) -> None:
        """Copy the broker's jars into the state directory, once per pom.xml content."""
        stamp = self.libs_dir / ".pom-sha256"
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        toolchain.require("java", min_major=17)
        mvn = toolchain.require("mvn")
        self.libs_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
             f"-DoutputDirectory={self.libs_dir}", "-DincludeScope=runtime"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"Maven could not resolve the Kafka broker from {POM}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        stamp.write_text(digest)

    def write_properties(self) -> None:
        port, controller_port = self.config.kafka_port, self.config.kafka_controller_port
        self.properties_file.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{HOST}:{controller_port}",
                    f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
                    f"advertised.listeners=PLAINTEXT://{HOST}:{port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data_dir}",
                    # Topics are created explicitly, as on MSK.
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    # A single local broker has no other members to wait for when a group forms.
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=24",
                    "",
                ]
            )
        )

    def format_storage(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = self._cluster_id()
        result = subprocess.run(
            self._java() + ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.properties_file)],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage in {self.data_dir} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def _cluster_id(self) -> str:
        # The storage tool wants a base64url-encoded 16-byte id, as random-uuid prints.
        return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    def _java(self) -> list[str]:
        java = toolchain.require("java", min_major=17)
        return [java, "-Xms128m", "-Xmx768m", "-cp", f"{self.libs_dir}/*"]

    def start(self) -> bool:
        """Start the broker unless it runs already. Return True when this call started it."""
        if running_pid(self.pid_file) is not None and port_is_open(HOST, self.config.kafka_port):
            return False
        if port_is_open(HOST, self.config.kafka_port):
            raise StackError(
                f"port {self.config.kafka_port} on {HOST} is in use by another process; "
                "stop it or set DEVSTACK_KAFKA_PORT to a free port"
            )
        self.resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        self.write_properties()
        self.format_storage()
        pid = start_detached(
            self._java() + ["kafka.Kafka", str(self.properties_file)],
            log_file=self.log_file, pid_file=self.pid_file, cwd=self.home,
        )
        try:
            wait_until(self._is_ready, START_TIMEOUT_S, "the Kafka broker", self.log_file, pid)
        except StackError:
            stop_process(self.pid_file)  # leave no half-started broker holding the ports
            raise
        return True

    def _is_ready(self) -> bool:
        if not port_is_open(HOST, self.config.kafka_port):
            return False
        # The whole log: with thousands of partitions the broker writes
        # megabytes after this line within seconds.
        return "Kafka Server started" in self.log_file.read_text(errors="replace")

    def stop(self) -> bool:
        return stop_process(self.pid_file, timeout_s=30.0)

    def is_running(self) -> bool:
        return running_pid(self.pid_file) is not None
