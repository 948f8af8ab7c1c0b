"""Assemble the relay stack's template from its parts."""

from __future__ import annotations

from troposphere import Template

from .appsync import add_graphql_api
from .appsync_sources import AppSyncSources
from .autoscaling import add_lag_scaling
from .bastion import add_bastion
from .custom_resources import add_api_key_expiry, add_bootstrap_brokers, add_custom_resource_function
from .ecs import add_relay_service
from .msk import add_kafka
from .network import add_network, add_vpc_endpoints
from .observability import add_prometheus_workspace
from .outputs import add_outputs
from .parameters import add_conditions, add_mappings, add_parameters
from .producer_lambda import add_producer
from .security import add_kms_key, add_security_groups

DESCRIPTION = (
    "kafka-appsync-relay: MSK (Kafka) ticks relayed by an ECS Fargate service to "
    "AppSync publish mutations, with a scheduled producer Lambda and an SSM bastion."
)


def build_template(sources: AppSyncSources) -> Template:
    template = Template(Description=DESCRIPTION)
    params = add_parameters(template)
    add_conditions(template, params)
    add_mappings(template)

    key = add_kms_key(template)
    network = add_network(template, params, key)
    groups = add_security_groups(template, network.vpc)
    add_vpc_endpoints(template, network, groups.endpoints)

    custom = add_custom_resource_function(template, key, params)
    kafka = add_kafka(template, params, network, groups, key)
    brokers = add_bootstrap_brokers(template, custom, kafka.cluster)
    expiry = add_api_key_expiry(template, custom, params)
    graphql = add_graphql_api(template, params, sources, key, expiry)

    workspace = add_prometheus_workspace(template)
    relay = add_relay_service(template, params, network, groups, kafka, graphql, brokers, key, workspace)
    add_lag_scaling(template, params, relay, kafka)
    add_producer(template, params, network, groups, kafka, brokers, key)
    bastion = add_bastion(template, params, network, groups, kafka, key)

    add_outputs(template, graphql, kafka, brokers, relay, workspace, bastion)
    return template
