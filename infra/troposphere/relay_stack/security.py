"""The stack's customer-managed KMS key and the security groups between the
relay service, the producer Lambda, the bastion and the brokers."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Sub, Tags, Template, ec2, kms

from .parameters import BASTION, BASTION_AND_SCRAM, USE_SCRAM, VPC_ENDPOINTS

# MSK client ports over TLS: 9098 for SASL/IAM, 9096 for SASL/SCRAM.
IAM_AUTH_PORT = 9098
SCRAM_AUTH_PORT = 9096
HTTPS_PORT = 443


def add_kms_key(template: Template) -> kms.Key:
    """Add the key that encrypts MSK storage, secrets, log groups, ECR images and EBS."""
    key = template.add_resource(
        kms.Key(
            "StackKey",
            # Deleting the stack schedules the key's deletion after the
            # pending window, by when the stack's logs and secrets are gone.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Description=Sub("kafka-appsync-relay ${AWS::StackName}: MSK, secrets, logs, ECR"),
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        # Delegates use of the key to IAM policies of this account,
                        # which is how the task role, Lambda roles and MSK get access.
                        "Sid": "AllowAccountIamPolicies",
                        "Effect": "Allow",
                        "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        # CloudWatch Logs calls KMS as its service principal, not
                        # through IAM, so the key policy must name it.
                        "Sid": "AllowCloudWatchLogsOfThisAccount",
                        "Effect": "Allow",
                        "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
                        "Action": [
                            "kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                            "kms:GenerateDataKey*", "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": Sub(
                                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
                                )
                            }
                        },
                    },
                ],
            },
        )
    )
    template.add_resource(
        kms.Alias(
            "StackKeyAlias",
            AliasName=Sub("alias/${AWS::StackName}-relay"),
            TargetKeyId=Ref(key),
        )
    )
    return key


@dataclass(frozen=True)
class SecurityGroups:
    brokers: ec2.SecurityGroup
    relay: ec2.SecurityGroup
    producer: ec2.SecurityGroup
    bastion: ec2.SecurityGroup
    endpoints: ec2.SecurityGroup


def _client_group(title: str, description: str, vpc: ec2.VPC, condition: str | None = None) -> ec2.SecurityGroup:
    # Declaring egress inline removes the default allow-all rule. HTTPS reaches
    # AWS APIs (AppSync, STS, Secrets Manager, ECR, logs) through NAT or endpoints.
    group = ec2.SecurityGroup(
        title,
        GroupDescription=description,
        VpcId=Ref(vpc),
        SecurityGroupEgress=[
            ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=HTTPS_PORT, ToPort=HTTPS_PORT, CidrIp="0.0.0.0/0",
                Description="HTTPS to AWS APIs",
            )
        ],
        Tags=Tags(Name=Sub(f"${{AWS::StackName}}-{title}")),
    )
    if condition:
        group.Condition = condition
    return group


def add_security_groups(template: Template, vpc: ec2.VPC) -> SecurityGroups:
    brokers = template.add_resource(
        ec2.SecurityGroup(
            "BrokerSecurityGroup",
            GroupDescription="MSK brokers: Kafka over TLS from the relay, producer and bastion only",
            VpcId=Ref(vpc),
            # Brokers open no connections to clients, so this rule only replaces
            # the default allow-all egress with one that matches nothing.
            SecurityGroupEgress=[
                ec2.SecurityGroupRule(
                    IpProtocol="-1", CidrIp="127.0.0.1/32", Description="No egress"
                )
            ],
            Tags=Tags(Name=Sub("${AWS::StackName}-BrokerSecurityGroup")),
        )
    )
    groups = SecurityGroups(
        brokers=brokers,
        relay=template.add_resource(
            _client_group("RelaySecurityGroup", "Relay service tasks: no ingress", vpc)
        ),
        producer=template.add_resource(
            _client_group("ProducerSecurityGroup", "Producer Lambda: no ingress", vpc)
        ),
        bastion=template.add_resource(
            _client_group("BastionSecurityGroup", "SSM bastion: no ingress, no SSH", vpc, BASTION)
        ),
        endpoints=template.add_resource(
            ec2.SecurityGroup(
                "EndpointSecurityGroup",
                Condition=VPC_ENDPOINTS,
                GroupDescription="Interface VPC endpoints: HTTPS from inside the VPC",
                VpcId=Ref(vpc),
                SecurityGroupIngress=[
                    ec2.SecurityGroupRule(
                        IpProtocol="tcp", FromPort=HTTPS_PORT, ToPort=HTTPS_PORT,
                        CidrIp=GetAtt(vpc, "CidrBlock"), Description="HTTPS from the VPC",
                    )
                ],
                SecurityGroupEgress=[
                    ec2.SecurityGroupRule(
                        IpProtocol="-1", CidrIp="127.0.0.1/32", Description="No egress"
                    )
                ],
            )
        ),
    )
    _open_broker_port(template, groups, groups.relay, IAM_AUTH_PORT, "Relay", None)
    _open_broker_port(template, groups, groups.relay, SCRAM_AUTH_PORT, "Relay", USE_SCRAM)
    _open_broker_port(template, groups, groups.producer, IAM_AUTH_PORT, "Producer", None)
    _open_broker_port(template, groups, groups.bastion, IAM_AUTH_PORT, "Bastion", BASTION)
    _open_broker_port(template, groups, groups.bastion, SCRAM_AUTH_PORT, "Bastion", BASTION_AND_SCRAM)
    return groups


def _open_broker_port(
    template: Template,
    groups: SecurityGroups,
    client: ec2.SecurityGroup,
    port: int,
    client_name: str,
    condition: str | None,
) -> None:
    """Allow one client group to reach the brokers on one port, in both groups."""
    mechanism = "IAM" if port == IAM_AUTH_PORT else "SCRAM"
    ingress = ec2.SecurityGroupIngress(
        f"BrokerIngress{client_name}{mechanism}",
        GroupId=Ref(groups.brokers),
        IpProtocol="tcp",
        FromPort=port,
        ToPort=port,
        SourceSecurityGroupId=Ref(client),
        Description=f"Kafka SASL/{mechanism} over TLS from the {client_name.lower()}",
    )
    egress = ec2.SecurityGroupEgress(
        f"{client_name}EgressBrokers{mechanism}",
        GroupId=Ref(client),
        IpProtocol="tcp",
        FromPort=port,
        ToPort=port,
        DestinationSecurityGroupId=Ref(groups.brokers),
        Description=f"Kafka SASL/{mechanism} over TLS to the brokers",
    )
    for rule in (ingress, egress):
        if condition:
            rule.Condition = condition
        template.add_resource(rule)
