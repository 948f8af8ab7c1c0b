"""Application Auto Scaling of the relay's task count on consumer lag."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template
from troposphere import applicationautoscaling as aas

from .ecs import RelayService
from .msk import Kafka
from .parameters import HAS_IMAGE, StackParameters

SCALE_OUT_COOLDOWN_S = 60
# Scaling in rebalances the consumer group, so it waits longer than scaling out.
SCALE_IN_COOLDOWN_S = 300


def _metric(query_id: str, namespace: str, name: str, stat: str, dimensions: dict) -> aas.TargetTrackingMetricDataQuery:
    return aas.TargetTrackingMetricDataQuery(
        Id=query_id,
        ReturnData=False,
        MetricStat=aas.TargetTrackingMetricStat(
            Stat=stat,
            Metric=aas.TargetTrackingMetric(
                Namespace=namespace,
                MetricName=name,
                Dimensions=[aas.TargetTrackingMetricDimension(Name=k, Value=v) for k, v in dimensions.items()],
            ),
        ),
    )


def add_lag_scaling(template: Template, p: StackParameters, relay: RelayService, kafka: Kafka) -> None:
    """Scale tasks so that the tick topic's lag per running task stays near TargetLagPerTask.

    MSK publishes SumOffsetLag (records behind, summed over the topic's
    partitions) per consumer group and topic at the DEFAULT monitoring level.
    Target tracking needs a metric that falls as tasks are added, so the
    policy divides the lag by Container Insights' RunningTaskCount.
    """
    target = template.add_resource(
        aas.ScalableTarget(
            "RelayScalableTarget",
            Condition=HAS_IMAGE,
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Sub(
                "service/${ClusterName}/${ServiceName}",
                ClusterName=Ref(relay.cluster),
                ServiceName=GetAtt(relay.service, "Name"),
            ),
            MinCapacity=Ref(p.min_task_count),
            MaxCapacity=Ref(p.max_task_count),
        )
    )
    lag = _metric(
        "lag", "AWS/Kafka", "SumOffsetLag", "Maximum",
        {
            "Cluster Name": kafka.cluster_name,
            "Consumer Group": Ref(p.consumer_group_id),
            "Topic": Ref(p.tick_topic_name),
        },
    )
    tasks = _metric(
        "tasks", "ECS/ContainerInsights", "RunningTaskCount", "Average",
        {"ClusterName": Ref(relay.cluster), "ServiceName": GetAtt(relay.service, "Name")},
    )
    template.add_resource(
        aas.ScalingPolicy(
            "RelayLagScalingPolicy",
            Condition=HAS_IMAGE,
            PolicyName=Sub("${AWS::StackName}-relay-lag"),
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                TargetValue=Ref(p.target_lag_per_task),
                ScaleOutCooldown=SCALE_OUT_COOLDOWN_S,
                ScaleInCooldown=SCALE_IN_COOLDOWN_S,
                CustomizedMetricSpecification=aas.CustomizedMetricSpecification(
                    Metrics=[
                        lag,
                        tasks,
                        aas.TargetTrackingMetricDataQuery(
                            Id="lag_per_task",
                            Label="SumOffsetLag per running relay task",
                            Expression="lag / tasks",
                            ReturnData=True,
                        ),
                    ]
                ),
            ),
        )
    )
