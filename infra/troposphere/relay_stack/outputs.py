"""Stack outputs: what a deployer needs to push images, run clients and subscribe."""

from __future__ import annotations

from troposphere import Export, GetAtt, Output, Ref, Sub, Template

from .appsync import GraphQL
from .custom_resources import MskBootstrapBrokers
from .ecs import RelayService
from .msk import Kafka
from .parameters import BASTION, HAS_IMAGE, PROMETHEUS, USE_SCRAM


def add_outputs(
    template: Template,
    graphql: GraphQL,
    kafka: Kafka,
    brokers: MskBootstrapBrokers,
    relay: RelayService,
    workspace,
    bastion,
) -> None:
    def output(title, description, value, condition=None, export=False):
        item = Output(title, Description=description, Value=value)
        if condition:
            item.Condition = condition
        if export:
            item.Export = Export(Sub(f"${{AWS::StackName}}-{title}"))
        template.add_output(item)

    output("GraphQLUrl", "AppSync GraphQL endpoint (HTTPS)", GetAtt(graphql.api, "GraphQLUrl"), export=True)
    output("RealtimeUrl", "AppSync real-time endpoint for WebSocket subscriptions",
           GetAtt(graphql.api, "RealtimeUrl"), export=True)
    output("GraphQLApiId", "AppSync API ID", GetAtt(graphql.api, "ApiId"), export=True)
    output("ApiKeySecretArn", "Secrets Manager secret holding the AppSync API key", Ref(graphql.api_key_secret))
    output("KafkaClusterArn", "MSK cluster ARN", Ref(kafka.cluster), export=True)
    output("BootstrapBrokersSaslIam", "Bootstrap brokers for SASL/IAM over TLS (port 9098)",
           GetAtt(brokers, "SaslIam"))
    output("BootstrapBrokersSaslScram", "Bootstrap brokers for SASL/SCRAM over TLS (port 9096)",
           GetAtt(brokers, "SaslScram"), condition=USE_SCRAM)
    output("ScramSecretArn", "Secret with the relay's SCRAM credentials", Ref(kafka.scram_secret),
           condition=USE_SCRAM)
    output("EcrRepositoryUri", "ECR repository for the relay image", GetAtt(relay.repository, "RepositoryUri"))
    output("EcsClusterName", "ECS cluster of the relay", Ref(relay.cluster))
    output("ServiceName", "ECS service of the relay", GetAtt(relay.service, "Name"), condition=HAS_IMAGE)
    output("PrometheusWorkspaceId", "Amazon Managed Service for Prometheus workspace",
           GetAtt(workspace, "WorkspaceId"), condition=PROMETHEUS)
    output("BastionInstanceId", "SSM-managed bastion for port forwarding", Ref(bastion), condition=BASTION)
