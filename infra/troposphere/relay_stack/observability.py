"""Metrics in AWS: an Amazon Managed Service for Prometheus workspace and the
ADOT collector sidecar that scrapes the relay's /metrics and remote-writes them."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, aps, ecs, logs

from . import iam as policies
from .parameters import PROMETHEUS, StackParameters

COLLECTOR_CONTAINER_NAME = "adot-collector"
RELAY_OPS_PORT = 8080
SCRAPE_INTERVAL = "15s"

# The collector reads its whole configuration from AOT_CONFIG_CONTENT. Sub
# fills in the region and the workspace, and the text has no other ${...}.
# The remote-write URL is built from the workspace ID in AMP's documented
# form, so it does not depend on how the PrometheusEndpoint attribute ends.
COLLECTOR_CONFIG = f"""\
extensions:
  sigv4auth:
    region: ${{AWS::Region}}
    service: aps
receivers:
  prometheus:
    config:
      global:
        scrape_interval: {SCRAPE_INTERVAL}
      scrape_configs:
        - job_name: kafka-appsync-relay
          metrics_path: /metrics
          static_configs:
            - targets: ["127.0.0.1:{RELAY_OPS_PORT}"]
processors:
  batch: {{}}
exporters:
  prometheusremotewrite:
    endpoint: https://aps-workspaces.${{AWS::Region}}.${{AWS::URLSuffix}}/workspaces/${{WorkspaceId}}/api/v1/remote_write
    auth:
      authenticator: sigv4auth
    resource_to_telemetry_conversion:
      enabled: true
service:
  extensions: [sigv4auth]
  pipelines:
    metrics:
      receivers: [prometheus]
      processors: [batch]
      exporters: [prometheusremotewrite]
"""


def add_prometheus_workspace(template: Template) -> aps.Workspace:
    return template.add_resource(
        aps.Workspace(
            "PrometheusWorkspace",
            Condition=PROMETHEUS,
            Alias=Sub("${AWS::StackName}-relay"),
        )
    )


def remote_write_statement(workspace: aps.Workspace) -> dict:
    return policies.statement(["aps:RemoteWrite"], [GetAtt(workspace, "Arn")], Sid="RemoteWriteMetrics")


def collector_container(
    p: StackParameters, workspace: aps.Workspace, log_group: logs.LogGroup, relay_container_name: str
) -> ecs.ContainerDefinition:
    """Return the collector sidecar. It is not essential, so a collector crash does not stop the task."""
    return ecs.ContainerDefinition(
        Name=COLLECTOR_CONTAINER_NAME,
        Image=Ref(p.collector_image),
        Essential=False,
        ReadonlyRootFilesystem=True,
        Environment=[
            ecs.Environment(
                Name="AOT_CONFIG_CONTENT",
                Value=Sub(COLLECTOR_CONFIG, WorkspaceId=GetAtt(workspace, "WorkspaceId")),
            )
        ],
        DependsOn=[ecs.ContainerDependency(ContainerName=relay_container_name, Condition="START")],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(log_group),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": "collector",
            },
        ),
    )
