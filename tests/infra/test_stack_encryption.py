"""Encryption at rest and in transit in the built template."""

from __future__ import annotations

KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}


def _cluster(of_type) -> dict:
    (cluster,) = of_type("AWS::MSK::Cluster").values()
    return cluster["Properties"]


def test_kms_key_rotation(resources):
    assert resources["StackKey"]["Properties"]["EnableKeyRotation"] is True


def test_kms_key_policy_admits_logs_service(resources):
    statements = resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    principals = [s["Principal"] for s in statements]
    assert {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}} in principals


def test_kms_key_policy_limits_logs_to_account(resources):
    statements = resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s["Sid"] == "AllowCloudWatchLogsOfThisAccount"]
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition == {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}


def test_msk_storage_uses_stack_key(of_type):
    assert _cluster(of_type)["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"] == KEY_ARN


def test_msk_client_traffic_tls(of_type):
    assert _cluster(of_type)["EncryptionInfo"]["EncryptionInTransit"]["ClientBroker"] == "TLS"


def test_msk_broker_traffic_encrypted(of_type):
    assert _cluster(of_type)["EncryptionInfo"]["EncryptionInTransit"]["InCluster"] is True


def test_msk_rejects_unauthenticated(of_type):
    assert _cluster(of_type)["ClientAuthentication"]["Unauthenticated"]["Enabled"] is False


def test_msk_iam_auth_enabled(of_type):
    assert _cluster(of_type)["ClientAuthentication"]["Sasl"]["Iam"]["Enabled"] is True


def test_msk_scram_follows_parameter(of_type):
    scram = _cluster(of_type)["ClientAuthentication"]["Sasl"]["Scram"]["Enabled"]
    assert scram == {"Fn::If": ["UseScramForRelay", True, False]}


def test_log_groups_use_stack_key(of_type):
    groups = of_type("AWS::Logs::LogGroup")
    unencrypted = [name for name, group in groups.items() if group["Properties"].get("KmsKeyId") != KEY_ARN]
    assert unencrypted == []


def test_log_groups_have_retention(of_type):
    groups = of_type("AWS::Logs::LogGroup")
    unbounded = [name for name, group in groups.items()
                 if group["Properties"].get("RetentionInDays") != {"Ref": "LogRetentionDays"}]
    assert unbounded == []


def test_log_group_count(of_type):
    # VPC flow logs, brokers, custom resource, AppSync, relay, collector, producer.
    assert len(of_type("AWS::Logs::LogGroup")) == 7


def test_secrets_use_stack_key(of_type):
    secrets = of_type("AWS::SecretsManager::Secret")
    unencrypted = [name for name, secret in secrets.items() if secret["Properties"].get("KmsKeyId") != KEY_ARN]
    assert unencrypted == []


def test_ecr_uses_stack_key(resources):
    encryption = resources["RelayRepository"]["Properties"]["EncryptionConfiguration"]
    assert encryption == {"EncryptionType": "KMS", "KmsKey": KEY_ARN}


def test_ecr_scans_on_push(resources):
    assert resources["RelayRepository"]["Properties"]["ImageScanningConfiguration"]["ScanOnPush"] is True


def test_ecr_tags_immutable(resources):
    assert resources["RelayRepository"]["Properties"]["ImageTagMutability"] == "IMMUTABLE"


def test_bastion_volume_encrypted(resources):
    (mapping,) = resources["Bastion"]["Properties"]["BlockDeviceMappings"]
    assert mapping["Ebs"]["Encrypted"] is True


def test_bastion_volume_uses_stack_key(resources):
    (mapping,) = resources["Bastion"]["Properties"]["BlockDeviceMappings"]
    assert mapping["Ebs"]["KmsKeyId"] == KEY_ARN


def test_producer_environment_uses_stack_key(resources):
    assert resources["ProducerFunction"]["Properties"]["KmsKeyArn"] == KEY_ARN
