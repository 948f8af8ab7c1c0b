"""Stack parameters, the conditions derived from them and the lookup tables
that stand in for arithmetic, which CloudFormation templates cannot do."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import And, Condition, Equals, Not, Or, Parameter, Ref, Template

# Fargate stops a container with SIGKILL after StopTimeout, whose maximum is
# 120 s. The relay needs its drain budget plus time to commit offsets and
# leave the consumer group, so StopTimeout = drain budget + 10 s.
STOP_TIMEOUT_MARGIN_S = 10
MAX_STOP_TIMEOUT_S = 120
DRAIN_BUDGET_CHOICES_S = tuple(range(5, MAX_STOP_TIMEOUT_S - STOP_TIMEOUT_MARGIN_S + 1, 5))

# CloudWatch Logs accepts only these retention periods, in days.
LOG_RETENTION_CHOICES_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)

BROKER_INSTANCE_TYPES = (
    "kafka.t3.small",
    "kafka.m5.large",
    "kafka.m5.xlarge",
    "kafka.m7g.large",
    "kafka.m7g.xlarge",
    "kafka.m7g.2xlarge",
)

# Fargate's valid CPU units and, per CPU size, memory sizes in MiB. A pair
# outside this table fails at deploy time with a message from ECS.
TASK_CPU_CHOICES = ("256", "512", "1024", "2048", "4096")
TASK_MEMORY_CHOICES_MIB = ("512", "1024", "2048", "3072", "4096", "8192", "16384")

# Producer schedules by minutes between runs: the EventBridge expression
# (singular "minute" for 1) and the period the producer uses to pick the
# replay window.
PRODUCER_SCHEDULES = {
    str(minutes): {
        "Expression": f"rate({minutes} minute{'s' if minutes > 1 else ''})",
        "Seconds": str(minutes * 60),
    }
    for minutes in (1, 2, 5, 10, 15, 30, 60)
}

# Names of the conditions, shared by the modules that attach them.
THREE_AZS = "ThreeAvailabilityZones"
NAT_PER_AZ = "NatGatewayPerAvailabilityZone"
NAT_IN_THIRD_AZ = "NatGatewayInThirdAvailabilityZone"
VPC_ENDPOINTS = "CreateVpcEndpoints"
USE_SCRAM = "UseScramForRelay"
APPSYNC_IAM = "RelayPublishesWithIam"
APPSYNC_API_KEY = "RelayPublishesWithApiKey"
RELAY_READS_SECRETS = "RelayReadsSecrets"
HAS_IMAGE = "HasRelayImageTag"
PROMETHEUS = "EnablePrometheusMetrics"
PROMETHEUS_AND_IMAGE = "RunPrometheusCollector"
BASTION = "CreateBastion"
BASTION_AND_SCRAM = "CreateBastionWithScram"
ARM64 = "UseArm64"


@dataclass(frozen=True)
class StackParameters:
    availability_zone_count: Parameter
    vpc_cidr: Parameter
    single_nat_gateway: Parameter
    enable_vpc_endpoints: Parameter
    log_retention_days: Parameter
    kafka_version: Parameter
    broker_instance_type: Parameter
    broker_nodes_per_az: Parameter
    broker_volume_size_gib: Parameter
    broker_monitoring_level: Parameter
    kafka_auth: Parameter
    tick_topic_name: Parameter
    tick_topic_partitions: Parameter
    dead_letter_topic_name: Parameter
    dead_letter_topic_partitions: Parameter
    consumer_group_id: Parameter
    relay_appsync_auth: Parameter
    api_key_validity_days: Parameter
    api_key_renewal_token: Parameter
    image_tag: Parameter
    cpu_architecture: Parameter
    task_cpu: Parameter
    task_memory_mib: Parameter
    drain_budget_seconds: Parameter
    min_task_count: Parameter
    max_task_count: Parameter
    target_lag_per_task: Parameter
    enable_prometheus_metrics: Parameter
    collector_image: Parameter
    producer_code_s3_bucket: Parameter
    producer_code_s3_key: Parameter
    producer_schedule_minutes: Parameter
    producer_max_records: Parameter
    enable_bastion: Parameter
    bastion_instance_type: Parameter
    bastion_ami_id: Parameter


def _boolean(title: str, default: str, description: str) -> Parameter:
    return Parameter(
        title, Type="String", Default=default, AllowedValues=["true", "false"],
        Description=description,
    )


def add_parameters(template: Template) -> StackParameters:
    """Add every parameter, grouped for the console, and return them."""
    p = StackParameters(
        availability_zone_count=Parameter(
            "AvailabilityZoneCount", Type="String", Default="3", AllowedValues=["2", "3"],
            Description="Availability Zones to spread subnets and brokers over.",
        ),
        vpc_cidr=Parameter(
            "VpcCidr", Type="String", Default="10.0.0.0/16",
            AllowedPattern=r"^(\d{1,3}\.){3}\d{1,3}/(1[6-7])$",
            Description="IPv4 range of the VPC, /16 or /17: it is cut into six /20 subnets.",
        ),
        single_nat_gateway=_boolean(
            "SingleNatGateway", "false",
            "true: one NAT gateway for all private subnets (cheaper, not zone-redundant).",
        ),
        enable_vpc_endpoints=_boolean(
            "EnableVpcEndpoints", "false",
            "true: VPC endpoints for ECR, S3, CloudWatch Logs, Secrets Manager and STS, "
            "so that image pulls and API calls bypass the NAT gateways.",
        ),
        log_retention_days=Parameter(
            "LogRetentionDays", Type="Number", Default=30,
            AllowedValues=list(LOG_RETENTION_CHOICES_DAYS),
            Description="Retention of every log group of the stack, in days.",
        ),
        kafka_version=Parameter(
            "KafkaVersion", Type="String", Default="3.9.x.kraft",
            AllowedValues=["3.9.x.kraft", "3.9.x"],
            Description="MSK Kafka version: 3.9.x.kraft runs KRaft controllers, "
            "3.9.x runs ZooKeeper. The mode cannot change after creation.",
        ),
        broker_instance_type=Parameter(
            "BrokerInstanceType", Type="String", Default="kafka.m7g.large",
            AllowedValues=list(BROKER_INSTANCE_TYPES),
            Description="MSK broker instance type.",
        ),
        broker_nodes_per_az=Parameter(
            "BrokerNodesPerAvailabilityZone", Type="String", Default="1",
            AllowedValues=["1", "2", "3"],
            Description="Brokers in each Availability Zone.",
        ),
        broker_volume_size_gib=Parameter(
            "BrokerVolumeSizeGiB", Type="Number", Default=100, MinValue=1, MaxValue=16384,
            Description="EBS storage per broker, in GiB.",
        ),
        broker_monitoring_level=Parameter(
            "BrokerMonitoringLevel", Type="String", Default="DEFAULT",
            AllowedValues=["DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION"],
            Description="MSK enhanced monitoring level. DEFAULT already emits SumOffsetLag "
            "per consumer group and topic, which drives the relay's auto scaling.",
        ),
        kafka_auth=Parameter(
            "KafkaAuth", Type="String", Default="iam", AllowedValues=["iam", "scram"],
            Description="How the relay authenticates to MSK. scram also enables SASL/SCRAM "
            "on the cluster and creates its secret. IAM stays on for the producer and bastion.",
        ),
        tick_topic_name=Parameter(
            "TickTopicName", Type="String", Default="ticks",
            AllowedPattern=r"^[a-zA-Z0-9._-]{1,249}$",
            Description="Kafka topic the producer writes and the relay reads.",
        ),
        tick_topic_partitions=Parameter(
            "TickTopicPartitions", Type="Number", Default=6, MinValue=1, MaxValue=1000,
            Description="Partitions of the tick topic, which is also the useful maximum of relay tasks.",
        ),
        dead_letter_topic_name=Parameter(
            "DeadLetterTopicName", Type="String", Default="ticks.dlq",
            AllowedPattern=r"^[a-zA-Z0-9._-]{1,249}$",
            Description="Kafka topic that receives records the relay cannot publish.",
        ),
        dead_letter_topic_partitions=Parameter(
            "DeadLetterTopicPartitions", Type="Number", Default=3, MinValue=1, MaxValue=1000,
            Description="Partitions of the dead-letter topic.",
        ),
        consumer_group_id=Parameter(
            "ConsumerGroupId", Type="String", Default="kafka-appsync-relay",
            AllowedPattern=r"^[a-zA-Z0-9._-]{1,255}$",
            Description="Kafka consumer group of the relay. ASCII without colons, because "
            "MSK emits no lag metrics for other names.",
        ),
        relay_appsync_auth=Parameter(
            "RelayAppSyncAuth", Type="String", Default="iam", AllowedValues=["iam", "api_key"],
            Description="How the relay signs publish mutations: iam (task role) or api_key "
            "(read from the stack's API key secret).",
        ),
        api_key_validity_days=Parameter(
            "ApiKeyValidityDays", Type="Number", Default=364, MinValue=2, MaxValue=364,
            Description="Days the AppSync API key stays valid, counted from the deploy that "
            "created or renewed it. AppSync accepts 1 to 365 days and rounds down to the hour.",
        ),
        api_key_renewal_token=Parameter(
            "ApiKeyRenewalToken", Type="String", Default="initial",
            Description="Change this value (for example to today's date) to renew the API "
            "key's expiry on the next deploy.",
        ),
        image_tag=Parameter(
            "ImageTag", Type="String", Default="",
            AllowedPattern=r"^[a-zA-Z0-9._-]{0,128}$",
            Description="Tag of the relay image in the stack's ECR repository. Leave empty "
            "on the first deploy: the task definition and service follow once an image is pushed.",
        ),
        cpu_architecture=Parameter(
            "CpuArchitecture", Type="String", Default="x86_64", AllowedValues=["x86_64", "arm64"],
            Description="CPU architecture of the relay image and of the producer Lambda package.",
        ),
        task_cpu=Parameter(
            "TaskCpu", Type="String", Default="512", AllowedValues=list(TASK_CPU_CHOICES),
            Description="Fargate task CPU units (1024 = 1 vCPU).",
        ),
        task_memory_mib=Parameter(
            "TaskMemoryMiB", Type="String", Default="1024",
            AllowedValues=list(TASK_MEMORY_CHOICES_MIB),
            Description="Fargate task memory in MiB, valid for the chosen TaskCpu.",
        ),
        drain_budget_seconds=Parameter(
            "DrainBudgetSeconds", Type="Number", Default=20,
            AllowedValues=list(DRAIN_BUDGET_CHOICES_S),
            Description="Seconds the relay may spend draining in-flight records on SIGTERM. "
            "The container's StopTimeout is this plus 10 s.",
        ),
        min_task_count=Parameter(
            "MinTaskCount", Type="Number", Default=1, MinValue=1, MaxValue=100,
            Description="Minimum number of relay tasks.",
        ),
        max_task_count=Parameter(
            "MaxTaskCount", Type="Number", Default=6, MinValue=1, MaxValue=100,
            Description="Maximum number of relay tasks. Tasks beyond the tick topic's "
            "partition count sit idle.",
        ),
        target_lag_per_task=Parameter(
            "TargetLagPerTask", Type="Number", Default=1000, MinValue=1,
            Description="Consumer lag per relay task, in records, that auto scaling holds.",
        ),
        enable_prometheus_metrics=_boolean(
            "EnablePrometheusMetrics", "true",
            "true: an Amazon Managed Service for Prometheus workspace and an ADOT collector "
            "sidecar that remote-writes the relay's /metrics to it.",
        ),
        collector_image=Parameter(
            "CollectorImage", Type="String",
            Default="public.ecr.aws/aws-observability/aws-otel-collector:v0.45.0",
            Description="Image of the ADOT collector sidecar.",
        ),
        producer_code_s3_bucket=Parameter(
            "ProducerCodeS3Bucket", Type="String", MinLength=3,
            Description="S3 bucket that holds build/lambda/producer.zip.",
        ),
        producer_code_s3_key=Parameter(
            "ProducerCodeS3Key", Type="String", MinLength=1,
            Description="S3 key of the producer Lambda package. Use a new key per upload "
            "so that CloudFormation updates the function.",
        ),
        producer_schedule_minutes=Parameter(
            "ProducerScheduleMinutes", Type="String", Default="1",
            AllowedValues=list(PRODUCER_SCHEDULES),
            Description="Minutes between producer runs. The default schedule is rate(1 minute).",
        ),
        producer_max_records=Parameter(
            "ProducerMaxRecords", Type="Number", Default=60, MinValue=1, MaxValue=500,
            Description="Ticks the producer writes per run. At the producer's default 10 "
            "records/s, 500 records take 50 s of the function's 55 s timeout.",
        ),
        enable_bastion=_boolean(
            "EnableBastion", "true",
            "true: an SSM-managed EC2 instance for port forwarding to the brokers.",
        ),
        bastion_instance_type=Parameter(
            "BastionInstanceType", Type="String", Default="t3.micro",
            AllowedValues=["t3.micro", "t3.small", "t3.medium"],
            Description="Instance type of the bastion (x86_64, matching BastionAmiId).",
        ),
        bastion_ami_id=Parameter(
            "BastionAmiId", Type="AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            Default="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
            Description="SSM parameter with the bastion's AMI. The default follows the "
            "latest Amazon Linux 2023 release.",
        ),
    )
    for parameter in vars(p).values():
        template.add_parameter(parameter)
    template.set_metadata({"AWS::CloudFormation::Interface": _parameter_groups(p)})
    return p


def _parameter_groups(p: StackParameters) -> dict:
    groups = {
        "Network": [
            p.availability_zone_count, p.vpc_cidr, p.single_nat_gateway, p.enable_vpc_endpoints,
        ],
        "Kafka (MSK)": [
            p.kafka_version, p.broker_instance_type, p.broker_nodes_per_az,
            p.broker_volume_size_gib, p.broker_monitoring_level, p.kafka_auth,
            p.tick_topic_name, p.tick_topic_partitions, p.dead_letter_topic_name,
            p.dead_letter_topic_partitions, p.consumer_group_id,
        ],
        "AppSync": [p.relay_appsync_auth, p.api_key_validity_days, p.api_key_renewal_token],
        "Relay service (ECS Fargate)": [
            p.image_tag, p.cpu_architecture, p.task_cpu, p.task_memory_mib,
            p.drain_budget_seconds, p.min_task_count, p.max_task_count, p.target_lag_per_task,
        ],
        "Metrics and logs": [p.enable_prometheus_metrics, p.collector_image, p.log_retention_days],
        "Producer Lambda": [
            p.producer_code_s3_bucket, p.producer_code_s3_key, p.producer_schedule_minutes,
            p.producer_max_records,
        ],
        "Bastion": [p.enable_bastion, p.bastion_instance_type, p.bastion_ami_id],
    }
    return {
        "ParameterGroups": [
            {"Label": {"default": label}, "Parameters": [param.title for param in params]}
            for label, params in groups.items()
        ]
    }


def add_conditions(template: Template, p: StackParameters) -> None:
    conditions = {
        THREE_AZS: Equals(Ref(p.availability_zone_count), "3"),
        NAT_PER_AZ: Equals(Ref(p.single_nat_gateway), "false"),
        NAT_IN_THIRD_AZ: And(Condition(NAT_PER_AZ), Condition(THREE_AZS)),
        VPC_ENDPOINTS: Equals(Ref(p.enable_vpc_endpoints), "true"),
        USE_SCRAM: Equals(Ref(p.kafka_auth), "scram"),
        APPSYNC_IAM: Equals(Ref(p.relay_appsync_auth), "iam"),
        APPSYNC_API_KEY: Equals(Ref(p.relay_appsync_auth), "api_key"),
        RELAY_READS_SECRETS: Or(Condition(USE_SCRAM), Condition(APPSYNC_API_KEY)),
        HAS_IMAGE: Not(Equals(Ref(p.image_tag), "")),
        PROMETHEUS: Equals(Ref(p.enable_prometheus_metrics), "true"),
        PROMETHEUS_AND_IMAGE: And(Condition(PROMETHEUS), Condition(HAS_IMAGE)),
        BASTION: Equals(Ref(p.enable_bastion), "true"),
        BASTION_AND_SCRAM: And(Condition(BASTION), Condition(USE_SCRAM)),
        ARM64: Equals(Ref(p.cpu_architecture), "arm64"),
    }
    for name, condition in conditions.items():
        template.add_condition(name, condition)


# Mapping names. The keys that FindInMap looks up are parameter values.
STOP_TIMEOUT_MAP = "StopTimeoutByDrainBudget"
BROKER_COUNT_MAP = "BrokerNodeCount"
REPLICATION_FACTOR_MAP = "TopicReplicationFactor"
PRODUCER_SCHEDULE_MAP = "ProducerSchedule"


def stop_timeout_s(drain_budget_s: int) -> int:
    return min(drain_budget_s + STOP_TIMEOUT_MARGIN_S, MAX_STOP_TIMEOUT_S)


def add_mappings(template: Template) -> None:
    template.add_mapping(PRODUCER_SCHEDULE_MAP, PRODUCER_SCHEDULES)
    template.add_mapping(
        STOP_TIMEOUT_MAP,
        {str(budget): {"Seconds": str(stop_timeout_s(budget))} for budget in DRAIN_BUDGET_CHOICES_S},
    )
    # One broker per zone and node: MSK requires a broker count that is a
    # multiple of the number of client subnets.
    template.add_mapping(
        BROKER_COUNT_MAP,
        {f"{zones}": {f"{per_zone}": str(zones * per_zone) for per_zone in (1, 2, 3)} for zones in (2, 3)},
    )
    # Three replicas where there are three brokers, two on a two-broker cluster.
    template.add_mapping(
        REPLICATION_FACTOR_MAP,
        {
            f"{zones}": {f"{per_zone}": str(min(3, zones * per_zone)) for per_zone in (1, 2, 3)}
            for zones in (2, 3)
        },
    )
