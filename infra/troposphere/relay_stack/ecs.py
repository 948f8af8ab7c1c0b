"""The relay service on ECS Fargate: ECR repository, cluster, roles, task
definition and service."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    FindInMap,
    GetAtt,
    If,
    NoValue,
    Ref,
    Sub,
    Template,
    ecr,
    ecs,
    iam,
)

from . import iam as policies
from .appsync import GraphQL, publish_field_arn
from .custom_resources import MskBootstrapBrokers
from .logs import add_log_group, log_streams_arn
from .msk import Kafka, kafka_resource_arn
from .network import Network
from .observability import RELAY_OPS_PORT, collector_container, remote_write_statement
from .parameters import (
    APPSYNC_API_KEY,
    APPSYNC_IAM,
    ARM64,
    HAS_IMAGE,
    PROMETHEUS,
    PROMETHEUS_AND_IMAGE,
    RELAY_READS_SECRETS,
    STOP_TIMEOUT_MAP,
    USE_SCRAM,
    StackParameters,
)
from .security import SecurityGroups

RELAY_CONTAINER_NAME = "relay"
KEPT_IMAGES = 20

# The image ships Python but not curl, and urlopen raises (exit status 1) on
# any HTTP error status or connection failure.
HEALTH_CHECK_COMMAND = (
    "python -c \"import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{RELAY_OPS_PORT}/healthz', timeout=3)\""
)

# ecr:GetAuthorizationToken has no resource type in IAM, so it cannot be
# limited to one repository.
UNSCOPED_EXECUTION_ACTIONS = ("ecr:GetAuthorizationToken",)


@dataclass(frozen=True)
class RelayService:
    repository: ecr.Repository
    cluster: ecs.Cluster
    service: ecs.Service
    task_role: iam.Role


def _add_repository(template: Template, key) -> ecr.Repository:
    lifecycle = (
        '{"rules": [{"rulePriority": 1, "description": "Keep the newest images", '
        '"selection": {"tagStatus": "any", "countType": "imageCountMoreThan", '
        f'"countNumber": {KEPT_IMAGES}}}, "action": {{"type": "expire"}}}}]}}'
    )
    return template.add_resource(
        ecr.Repository(
            "RelayRepository",
            ImageTagMutability="IMMUTABLE",
            ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=True),
            EncryptionConfiguration=ecr.EncryptionConfiguration(
                EncryptionType="KMS", KmsKey=GetAtt(key, "Arn")
            ),
            LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=lifecycle),
            # Images are rebuilt from the repository's Dockerfile, so deleting
            # the stack may delete them too.
            EmptyOnDelete=True,
        )
    )


def relay_task_statements(p: StackParameters, kafka: Kafka, graphql: GraphQL, key, workspace) -> list:
    """Return the task role's statements, each of which names the resources it applies to."""
    cluster = kafka.cluster
    return [
        # WriteDataIdempotently lets the dead-letter producer use idempotence.
        # Without it, InitProducerId fails with a cluster authorization error.
        policies.statement(
            ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"],
            [Ref(cluster)],
            Sid="ConnectToCluster",
        ),
        policies.statement(
            ["kafka-cluster:ReadData", "kafka-cluster:DescribeTopic"],
            [kafka_resource_arn(cluster, "topic", Ref(p.tick_topic_name))],
            Sid="ReadTickTopic",
        ),
        policies.statement(
            ["kafka-cluster:WriteData", "kafka-cluster:DescribeTopic"],
            [kafka_resource_arn(cluster, "topic", Ref(p.dead_letter_topic_name))],
            Sid="WriteDeadLetterTopic",
        ),
        policies.statement(
            ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
            [kafka_resource_arn(cluster, "group", Ref(p.consumer_group_id))],
            Sid="JoinConsumerGroup",
        ),
        If(
            APPSYNC_IAM,
            policies.statement(["appsync:GraphQL"], [publish_field_arn(graphql.api)], Sid="PublishMutation"),
            NoValue,
        ),
        If(
            APPSYNC_API_KEY,
            policies.statement(
                ["secretsmanager:GetSecretValue"], [Ref(graphql.api_key_secret)], Sid="ReadApiKeySecret"
            ),
            NoValue,
        ),
        If(
            USE_SCRAM,
            policies.statement(
                ["secretsmanager:GetSecretValue"], [Ref(kafka.scram_secret)], Sid="ReadScramSecret"
            ),
            NoValue,
        ),
        If(
            RELAY_READS_SECRETS,
            policies.statement(
                ["kms:Decrypt"],
                [GetAtt(key, "Arn")],
                Sid="DecryptSecrets",
                Condition={"StringEquals": {"kms:ViaService": Sub("secretsmanager.${AWS::Region}.amazonaws.com")}},
            ),
            NoValue,
        ),
        If(PROMETHEUS, remote_write_statement(workspace), NoValue),
    ]


def _relay_environment(p: StackParameters, kafka: Kafka, graphql: GraphQL, brokers: MskBootstrapBrokers) -> list:
    def env(name, value):
        return ecs.Environment(Name=name, Value=value)

    return [
        env("KAFKA_BOOTSTRAP_SERVERS", If(USE_SCRAM, GetAtt(brokers, "SaslScram"), GetAtt(brokers, "SaslIam"))),
        env("KAFKA_AUTH", Ref(p.kafka_auth)),
        If(USE_SCRAM, env("KAFKA_SCRAM_SECRET_ARN", Ref(kafka.scram_secret)), NoValue),
        env("AWS_REGION", Ref("AWS::Region")),
        env("RELAY_TOPICS", Ref(p.tick_topic_name)),
        env("RELAY_GROUP_ID", Ref(p.consumer_group_id)),
        env("RELAY_DEAD_LETTER_TOPIC", Ref(p.dead_letter_topic_name)),
        env("RELAY_APPSYNC_URL", GetAtt(graphql.api, "GraphQLUrl")),
        env("RELAY_APPSYNC_AUTH", Ref(p.relay_appsync_auth)),
        If(APPSYNC_API_KEY, env("RELAY_APPSYNC_API_KEY_SECRET_ARN", Ref(graphql.api_key_secret)), NoValue),
        env("RELAY_DRAIN_BUDGET_S", Ref(p.drain_budget_seconds)),
        env("RELAY_OPS_PORT", str(RELAY_OPS_PORT)),
    ]


def add_relay_service(
    template: Template,
    p: StackParameters,
    network: Network,
    groups: SecurityGroups,
    kafka: Kafka,
    graphql: GraphQL,
    brokers: MskBootstrapBrokers,
    key,
    workspace,
) -> RelayService:
    repository = _add_repository(template, key)
    cluster = template.add_resource(
        ecs.Cluster(
            "RelayCluster",
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    relay_logs = add_log_group(template, "RelayLogGroup", GetAtt(key, "Arn"), p)
    collector_logs = add_log_group(
        template, "CollectorLogGroup", GetAtt(key, "Arn"), p, condition=PROMETHEUS
    )

    execution_role = template.add_resource(
        iam.Role(
            "RelayExecutionRole",
            AssumeRolePolicyDocument=policies.assume_role_policy("ecs-tasks.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="pull-image-write-logs",
                    PolicyDocument=policies.policy_document(
                        policies.statement(list(UNSCOPED_EXECUTION_ACTIONS), ["*"], Sid="EcrLogin"),
                        policies.statement(
                            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                            [GetAtt(repository, "Arn")],
                            Sid="PullRelayImage",
                        ),
                        policies.statement(
                            ["logs:CreateLogStream", "logs:PutLogEvents"],
                            [
                                log_streams_arn(relay_logs),
                                If(PROMETHEUS, log_streams_arn(collector_logs), NoValue),
                            ],
                            Sid="WriteContainerLogs",
                        ),
                    ),
                )
            ],
        )
    )
    task_role = template.add_resource(
        iam.Role(
            "RelayTaskRole",
            AssumeRolePolicyDocument=policies.assume_role_policy(
                "ecs-tasks.amazonaws.com",
                ArnLike={"aws:SourceArn": Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*")},
                StringEquals={"aws:SourceAccount": Ref("AWS::AccountId")},
            ),
            Policies=[
                iam.Policy(
                    PolicyName="relay",
                    PolicyDocument=policies.policy_document(
                        *relay_task_statements(p, kafka, graphql, key, workspace)
                    ),
                )
            ],
        )
    )

    relay = ecs.ContainerDefinition(
        Name=RELAY_CONTAINER_NAME,
        Image=Sub("${RepositoryUri}:${ImageTag}", RepositoryUri=GetAtt(repository, "RepositoryUri"),
                  ImageTag=Ref(p.image_tag)),
        Essential=True,
        ReadonlyRootFilesystem=True,
        MountPoints=[ecs.MountPoint(ContainerPath="/tmp", SourceVolume="tmp", ReadOnly=False)],
        Environment=_relay_environment(p, kafka, graphql, brokers),
        HealthCheck=ecs.HealthCheck(
            Command=["CMD-SHELL", HEALTH_CHECK_COMMAND],
            Interval=15,
            Timeout=5,
            Retries=3,
            StartPeriod=30,
        ),
        StopTimeout=FindInMap(STOP_TIMEOUT_MAP, Ref(p.drain_budget_seconds), "Seconds"),
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(relay_logs),
                "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": RELAY_CONTAINER_NAME,
                # A full log buffer drops lines instead of blocking the relay.
                "mode": "non-blocking",
                "max-buffer-size": "4m",
            },
        ),
    )
    task_definition = template.add_resource(
        ecs.TaskDefinition(
            "RelayTaskDefinition",
            Condition=HAS_IMAGE,
            Family=Sub("${AWS::StackName}-relay"),
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=Ref(p.task_cpu),
            Memory=Ref(p.task_memory_mib),
            RuntimePlatform=ecs.RuntimePlatform(
                OperatingSystemFamily="LINUX",
                CpuArchitecture=If(ARM64, "ARM64", "X86_64"),
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            Volumes=[ecs.Volume(Name="tmp")],
            ContainerDefinitions=[
                relay,
                If(
                    PROMETHEUS_AND_IMAGE,
                    collector_container(p, workspace, collector_logs, RELAY_CONTAINER_NAME),
                    NoValue,
                ),
            ],
        )
    )
    # DesiredCount is left out: auto scaling owns it, and a value here would
    # reset the running count on every stack update.
    service = template.add_resource(
        ecs.Service(
            "RelayService",
            Condition=HAS_IMAGE,
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=network.private_subnet_ids,
                    SecurityGroups=[Ref(groups.relay)],
                )
            ),
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
                MaximumPercent=200,
                MinimumHealthyPercent=100,
            ),
        )
    )
    return RelayService(repository=repository, cluster=cluster, service=service, task_role=task_role)
