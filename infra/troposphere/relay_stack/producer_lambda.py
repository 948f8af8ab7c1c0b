"""The producer Lambda: replays ticks into the tick topic on an EventBridge schedule."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import FindInMap, GetAtt, Ref, Sub, Template, awslambda, events, iam

from . import iam as policies
from .compliance import skip_checkov
from .custom_resources import RUNTIME, MskBootstrapBrokers
from .logs import add_log_group, log_streams_arn
from .msk import Kafka, kafka_resource_arn
from .network import Network
from .parameters import PRODUCER_SCHEDULE_MAP, StackParameters
from .security import SecurityGroups

HANDLER = "producer.lambda_handler.handler"
TIMEOUT_S = 55
MEMORY_MIB = 256

# Lambda creates and deletes the function's network interfaces with these
# actions. The Lambda developer guide says DescribeNetworkInterfaces works
# only on Resource "*", and AWSLambdaVPCAccessExecutionRole grants them all on "*".
UNSCOPED_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class Producer:
    function: awslambda.Function
    role: iam.Role


def producer_statements(p: StackParameters, kafka: Kafka, log_group, key) -> list:
    cluster = kafka.cluster
    return [
        policies.statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"], [log_streams_arn(log_group)], Sid="WriteLogs"
        ),
        policies.statement(list(UNSCOPED_VPC_ACTIONS), ["*"], Sid="ManageVpcNetworkInterfaces"),
        # WriteDataIdempotently lets the producer enable idempotence.
        policies.statement(
            ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"], [Ref(cluster)], Sid="ConnectToCluster"
        ),
        policies.statement(
            ["kafka-cluster:WriteData", "kafka-cluster:DescribeTopic"],
            [kafka_resource_arn(cluster, "topic", Ref(p.tick_topic_name))],
            Sid="WriteTickTopic",
        ),
        # Lambda decrypts the environment variables with the stack key as this role.
        policies.statement(["kms:Decrypt"], [GetAtt(key, "Arn")], Sid="DecryptEnvironment"),
    ]


def add_producer(
    template: Template,
    p: StackParameters,
    network: Network,
    groups: SecurityGroups,
    kafka: Kafka,
    brokers: MskBootstrapBrokers,
    key,
) -> Producer:
    log_group = add_log_group(template, "ProducerLogGroup", GetAtt(key, "Arn"), p)
    role = skip_checkov(
        iam.Role(
            "ProducerRole",
            AssumeRolePolicyDocument=policies.assume_role_policy(
                "lambda.amazonaws.com", StringEquals={"aws:SourceAccount": Ref("AWS::AccountId")}
            ),
            Policies=[
                iam.Policy(
                    PolicyName="produce-ticks",
                    PolicyDocument=policies.policy_document(*producer_statements(p, kafka, log_group, key)),
                )
            ],
        ),
        ("CKV_AWS_111", "Only the VPC network-interface actions Lambda needs (UNSCOPED_VPC_ACTIONS) "
         "use Resource *, as AWS documents them. Every Kafka and log action names its resource."),
    )
    template.add_resource(role)
    function = awslambda.Function(
        "ProducerFunction",
        Description=Sub("Replays ticks into the ${Topic} topic", Topic=Ref(p.tick_topic_name)),
        Runtime=RUNTIME,
        Handler=HANDLER,
        # The parameter's values are Lambda's architecture names.
        Architectures=[Ref(p.cpu_architecture)],
        Code=awslambda.Code(S3Bucket=Ref(p.producer_code_s3_bucket), S3Key=Ref(p.producer_code_s3_key)),
        Role=GetAtt(role, "Arn"),
        Timeout=TIMEOUT_S,
        MemorySize=MEMORY_MIB,
        # One run at a time, so that a slow run and the next schedule do not
        # write the same replay window twice or interleave their records.
        ReservedConcurrentExecutions=1,
        KmsKeyArn=GetAtt(key, "Arn"),
        VpcConfig=awslambda.VPCConfig(
            SubnetIds=network.private_subnet_ids, SecurityGroupIds=[Ref(groups.producer)]
        ),
        LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(log_group)),
        Environment=awslambda.Environment(
            Variables={
                "KAFKA_BOOTSTRAP_SERVERS": GetAtt(brokers, "SaslIam"),
                "KAFKA_AUTH": "iam",
                "PRODUCER_TOPIC": Ref(p.tick_topic_name),
                "PRODUCER_SOURCE": "replay",
                "PRODUCER_MAX_RECORDS": Ref(p.producer_max_records),
                # The producer picks each run's replay window from the schedule period.
                "PRODUCER_SCHEDULE_S": FindInMap(PRODUCER_SCHEDULE_MAP, Ref(p.producer_schedule_minutes), "Seconds"),
            }
        ),
        # The topic must exist before the first scheduled run.
        DependsOn=[kafka.tick_topic],
    )
    skip_checkov(
        function,
        ("CKV_AWS_116", "Scheduled replay: the next run a minute later supersedes a failed one, "
         "so a dead-letter queue would hold nothing worth redriving.")
    )
    template.add_resource(function)

    rule = template.add_resource(
        events.Rule(
            "ProducerScheduleRule",
            Description="Runs the tick producer",
            ScheduleExpression=FindInMap(PRODUCER_SCHEDULE_MAP, Ref(p.producer_schedule_minutes), "Expression"),
            State="ENABLED",
            Targets=[events.Target(Id="producer", Arn=GetAtt(function, "Arn"))],
        )
    )
    template.add_resource(
        awslambda.Permission(
            "ProducerSchedulePermission",
            Action="lambda:InvokeFunction",
            FunctionName=Ref(function),
            Principal="events.amazonaws.com",
            SourceArn=GetAtt(rule, "Arn"),
        )
    )
    return Producer(function=function, role=role)
