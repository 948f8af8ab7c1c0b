"""The MSK cluster, its topics and the SCRAM option."""

from __future__ import annotations


def test_kafka_version_default(template):
    assert template["Parameters"]["KafkaVersion"]["Default"] == "3.9.x.kraft"


def test_kafka_version_choices(template):
    assert template["Parameters"]["KafkaVersion"]["AllowedValues"] == ["3.9.x.kraft", "3.9.x"]


def test_topics_are_native(of_type):
    assert set(of_type("AWS::MSK::Topic")) == {"TickTopic", "DeadLetterTopic"}


def test_tick_topic_name(resources):
    assert resources["TickTopic"]["Properties"]["TopicName"] == {"Ref": "TickTopicName"}


def test_tick_topic_default_name(template):
    assert template["Parameters"]["TickTopicName"]["Default"] == "ticks"


def test_tick_topic_partitions(resources):
    assert resources["TickTopic"]["Properties"]["PartitionCount"] == {"Ref": "TickTopicPartitions"}


def test_tick_topic_default_partitions(template):
    assert template["Parameters"]["TickTopicPartitions"]["Default"] == 6


def test_dead_letter_topic_partitions(resources):
    assert resources["DeadLetterTopic"]["Properties"]["PartitionCount"] == {"Ref": "DeadLetterTopicPartitions"}


def test_dead_letter_topic_default_partitions(template):
    assert template["Parameters"]["DeadLetterTopicPartitions"]["Default"] == 3


def test_dead_letter_topic_default_name(template):
    assert template["Parameters"]["DeadLetterTopicName"]["Default"] == "ticks.dlq"


def test_broker_count_multiple_of_zones(template):
    table = template["Mappings"]["BrokerNodeCount"]
    wrong = [(zones, per_zone) for zones, row in table.items() for per_zone, count in row.items()
             if int(count) % int(zones) != 0]
    assert wrong == []


def test_replication_factor_fits_brokers(template):
    brokers, factors = template["Mappings"]["BrokerNodeCount"], template["Mappings"]["TopicReplicationFactor"]
    too_high = [(zones, per_zone) for zones, row in factors.items() for per_zone, factor in row.items()
                if int(factor) > int(brokers[zones][per_zone])]
    assert too_high == []


def test_three_replicas_on_three_zones(template):
    assert template["Mappings"]["TopicReplicationFactor"]["3"]["1"] == "3"


def test_broker_logs_to_cloudwatch(of_type):
    (cluster,) = of_type("AWS::MSK::Cluster").values()
    logs = cluster["Properties"]["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]
    assert logs == {"Enabled": True, "LogGroup": {"Ref": "BrokerLogGroup"}}


def test_scram_secret_name_prefix(resources):
    assert resources["ScramSecret"]["Properties"]["Name"] == {"Fn::Sub": "AmazonMSK_${AWS::StackName}-relay"}


def test_scram_secret_is_conditional(resources):
    assert resources["ScramSecret"]["Condition"] == "UseScramForRelay"


def test_scram_secret_associated(resources):
    association = resources["ScramSecretAssociation"]
    assert (association["Type"], association["Properties"]["SecretArnList"]) == (
        "AWS::MSK::BatchScramSecret", [{"Ref": "ScramSecret"}]
    )


def test_bootstrap_brokers_from_custom_resource(resources):
    assert resources["BootstrapBrokers"]["Properties"]["ClusterArn"] == {"Ref": "KafkaCluster"}


def test_bootstrap_brokers_wait_for_permission(resources):
    assert resources["BootstrapBrokers"]["DependsOn"] == ["CustomResourceBrokerLookupPolicy"]
