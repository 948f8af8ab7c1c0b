"""The provisioned MSK cluster, its optional SCRAM secret and its topics.

Topics are AWS::MSK::Topic resources, which call MSK's topic API. The original
sample created them from a bastion's user data through ZooKeeper.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    FindInMap,
    GetAtt,
    If,
    Ref,
    Select,
    Split,
    Sub,
    Template,
    msk,
    secretsmanager,
)

from .logs import add_log_group
from .network import Network
from .parameters import (
    BROKER_COUNT_MAP,
    REPLICATION_FACTOR_MAP,
    USE_SCRAM,
    StackParameters,
)
from .security import SecurityGroups


@dataclass(frozen=True)
class Kafka:
    cluster: msk.Cluster
    cluster_name: Sub
    tick_topic: msk.Topic
    dead_letter_topic: msk.Topic
    scram_secret: secretsmanager.Secret


def kafka_resource_arn(cluster: msk.Cluster, resource_type: str, name) -> Sub:
    """Return the ARN of a topic or group of the cluster, as kafka-cluster IAM actions expect.

    A cluster ARN is arn:PARTITION:kafka:REGION:ACCOUNT:cluster/NAME/UUID, and
    its topics and groups are arn:...:RESOURCE_TYPE/NAME/UUID/RESOURCE_NAME.
    """
    parts = Split("/", Ref(cluster))
    return Sub(
        "arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:"
        + resource_type
        + "/${ClusterName}/${ClusterUuid}/${ResourceName}",
        ClusterName=Select(1, parts),
        ClusterUuid=Select(2, parts),
        ResourceName=name,
    )


def add_kafka(
    template: Template, p: StackParameters, network: Network, groups: SecurityGroups, key
) -> Kafka:
    key_arn = GetAtt(key, "Arn")
    broker_logs = add_log_group(template, "BrokerLogGroup", key_arn, p)
    # NOTE: CloudFormation stack names may be up to 128 characters, but MSK
    # cluster names only 64, so a stack name over 58 characters fails here.
    cluster_name = Sub("${AWS::StackName}-relay")
    cluster = template.add_resource(
        msk.Cluster(
            "KafkaCluster",
            ClusterName=cluster_name,
            KafkaVersion=Ref(p.kafka_version),
            NumberOfBrokerNodes=FindInMap(
                BROKER_COUNT_MAP, Ref(p.availability_zone_count), Ref(p.broker_nodes_per_az)
            ),
            BrokerNodeGroupInfo=msk.BrokerNodeGroupInfo(
                InstanceType=Ref(p.broker_instance_type),
                ClientSubnets=network.private_subnet_ids,
                SecurityGroups=[Ref(groups.brokers)],
                StorageInfo=msk.StorageInfo(
                    EBSStorageInfo=msk.EBSStorageInfo(VolumeSize=Ref(p.broker_volume_size_gib))
                ),
                ConnectivityInfo=msk.ConnectivityInfo(
                    PublicAccess=msk.PublicAccess(Type="DISABLED")
                ),
            ),
            ClientAuthentication=msk.ClientAuthentication(
                Sasl=msk.Sasl(
                    Iam=msk.Iam(Enabled=True),
                    Scram=msk.Scram(Enabled=If(USE_SCRAM, True, False)),
                ),
                Unauthenticated=msk.Unauthenticated(Enabled=False),
            ),
            EncryptionInfo=msk.EncryptionInfo(
                EncryptionAtRest=msk.EncryptionAtRest(DataVolumeKMSKeyId=key_arn),
                EncryptionInTransit=msk.EncryptionInTransit(ClientBroker="TLS", InCluster=True),
            ),
            # SumOffsetLag and MaxOffsetLag, with the dimensions Cluster Name,
            # Consumer Group and Topic, are DEFAULT-level metrics. Auto scaling
            # therefore works at every level, and higher levels add detail.
            EnhancedMonitoring=Ref(p.broker_monitoring_level),
            LoggingInfo=msk.LoggingInfo(
                BrokerLogs=msk.BrokerLogs(
                    CloudWatchLogs=msk.CloudWatchLogs(Enabled=True, LogGroup=Ref(broker_logs))
                )
            ),
        )
    )

    # MSK accepts SCRAM secrets only when their names start with AmazonMSK_
    # and a customer-managed key encrypts them.
    scram_secret = secretsmanager.Secret(
        "ScramSecret",
        Condition=USE_SCRAM,
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        Name=Sub("AmazonMSK_${AWS::StackName}-relay"),
        Description="SASL/SCRAM credentials of the relay for the MSK cluster",
        KmsKeyId=key_arn,
        GenerateSecretString=secretsmanager.GenerateSecretString(
            SecretStringTemplate='{"username": "relay"}',
            GenerateStringKey="password",
            PasswordLength=32,
            ExcludePunctuation=True,
        ),
    )
    template.add_resource(scram_secret)
    template.add_resource(
        msk.BatchScramSecret(
            "ScramSecretAssociation",
            Condition=USE_SCRAM,
            ClusterArn=Ref(cluster),
            SecretArnList=[Ref(scram_secret)],
        )
    )

    replication_factor = FindInMap(
        REPLICATION_FACTOR_MAP, Ref(p.availability_zone_count), Ref(p.broker_nodes_per_az)
    )
    tick_topic = template.add_resource(
        msk.Topic(
            "TickTopic",
            ClusterArn=Ref(cluster),
            TopicName=Ref(p.tick_topic_name),
            PartitionCount=Ref(p.tick_topic_partitions),
            ReplicationFactor=replication_factor,
        )
    )
    dead_letter_topic = template.add_resource(
        msk.Topic(
            "DeadLetterTopic",
            ClusterArn=Ref(cluster),
            TopicName=Ref(p.dead_letter_topic_name),
            PartitionCount=Ref(p.dead_letter_topic_partitions),
            ReplicationFactor=replication_factor,
        )
    )
    return Kafka(
        cluster=cluster,
        cluster_name=cluster_name,
        tick_topic=tick_topic,
        dead_letter_topic=dead_letter_topic,
        scram_secret=scram_secret,
    )
