"""The bastion: an SSM-managed instance in a private subnet, used for port
forwarding to the brokers and for Kafka CLI work. It has no SSH ingress, no
key pair and no public IP."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Tags, Template, ec2, iam

from . import iam as policies
from .msk import Kafka, kafka_resource_arn
from .network import Network
from .parameters import BASTION, StackParameters
from .security import SecurityGroups

ROOT_VOLUME_GIB = 8
# Consumer groups the bastion may join, for example with kafka-console-consumer.
BASTION_GROUP_PREFIX = "bastion-"


def bastion_statements(kafka: Kafka) -> list:
    """Return read and describe permissions on this cluster's topics and groups."""
    cluster = kafka.cluster
    return [
        policies.statement(["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"], [Ref(cluster)]),
        policies.statement(
            [
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:DescribeTopicDynamicConfiguration",
                "kafka-cluster:ReadData",
            ],
            [kafka_resource_arn(cluster, "topic", "*")],
        ),
        policies.statement(["kafka-cluster:DescribeGroup"], [kafka_resource_arn(cluster, "group", "*")]),
        policies.statement(
            ["kafka-cluster:AlterGroup"], [kafka_resource_arn(cluster, "group", f"{BASTION_GROUP_PREFIX}*")]
        ),
    ]


def add_bastion(
    template: Template, p: StackParameters, network: Network, groups: SecurityGroups, kafka: Kafka, key
) -> ec2.Instance:
    role = template.add_resource(
        iam.Role(
            "BastionRole",
            Condition=BASTION,
            AssumeRolePolicyDocument=policies.assume_role_policy("ec2.amazonaws.com"),
            ManagedPolicyArns=[Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")],
            Policies=[
                iam.Policy(
                    PolicyName="read-kafka",
                    PolicyDocument=policies.policy_document(*bastion_statements(kafka)),
                )
            ],
        )
    )
    profile = template.add_resource(
        iam.InstanceProfile("BastionInstanceProfile", Condition=BASTION, Roles=[Ref(role)])
    )
    return template.add_resource(
        ec2.Instance(
            "Bastion",
            Condition=BASTION,
            ImageId=Ref(p.bastion_ami_id),
            InstanceType=Ref(p.bastion_instance_type),
            IamInstanceProfile=Ref(profile),
            SubnetId=Ref(network.first_private_subnet),
            SecurityGroupIds=[Ref(groups.bastion)],
            EbsOptimized=True,
            Monitoring=True,
            MetadataOptions=ec2.MetadataOptions(HttpTokens="required", HttpEndpoint="enabled"),
            BlockDeviceMappings=[
                ec2.BlockDeviceMapping(
                    DeviceName="/dev/xvda",
                    Ebs=ec2.EbsBlockDevice(
                        VolumeSize=ROOT_VOLUME_GIB,
                        VolumeType="gp3",
                        Encrypted=True,
                        KmsKeyId=GetAtt(key, "Arn"),
                        DeleteOnTermination=True,
                    ),
                )
            ],
            Tags=Tags(Name=Sub("${AWS::StackName}-bastion")),
        )
    )
