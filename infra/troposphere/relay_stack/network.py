"""The VPC: public subnets for NAT only, private subnets for brokers, tasks,
Lambda and bastion, flow logs, and optional VPC endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    AWSHelperFn,
    Cidr,
    GetAtt,
    GetAZs,
    If,
    Ref,
    Select,
    Sub,
    Tags,
    Template,
    ec2,
    iam,
)

from . import iam as policies
from .logs import add_log_group, log_streams_arn
from .parameters import NAT_IN_THIRD_AZ, NAT_PER_AZ, THREE_AZS, VPC_ENDPOINTS, StackParameters

MAX_ZONES = 3
# Six subnets (public and private in up to three zones), 12 host bits = /20 each.
SUBNET_COUNT = 2 * MAX_ZONES
SUBNET_HOST_BITS = "12"

# Interface endpoints that carry the relay's and Lambda's AWS traffic: image
# pulls (ECR API and registry), logs, secrets and STS for IAM credentials. ECR
# stores image layers in S3, so the S3 gateway endpoint serves layer downloads.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts")


@dataclass(frozen=True)
class Network:
    vpc: ec2.VPC
    private_subnet_ids: AWSHelperFn
    private_route_table_ids: AWSHelperFn
    first_private_subnet: ec2.Subnet


def _zone_condition(index: int) -> str | None:
    return THREE_AZS if index == MAX_ZONES - 1 else None


def _conditioned(resource, condition: str | None):
    if condition:
        resource.Condition = condition
    return resource


def _per_zone_ids(per_zone: list) -> If:
    """Return the IDs of per-zone resources, without the third zone's on a two-zone stack."""
    return If(THREE_AZS, [Ref(r) for r in per_zone], [Ref(r) for r in per_zone[: MAX_ZONES - 1]])


def add_network(template: Template, p: StackParameters, key) -> Network:
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref(p.vpc_cidr),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=Tags(Name=Sub("${AWS::StackName}-relay")),
        )
    )
    cidrs = Cidr(GetAtt(vpc, "CidrBlock"), str(SUBNET_COUNT), SUBNET_HOST_BITS)

    internet_gateway = template.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(internet_gateway)
        )
    )
    public_routes = template.add_resource(ec2.RouteTable("PublicRouteTable", VpcId=Ref(vpc)))
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment,
            RouteTableId=Ref(public_routes),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(internet_gateway),
        )
    )

    private_subnets: list[ec2.Subnet] = []
    private_route_tables: list[ec2.RouteTable] = []
    nat_gateways: list[ec2.NatGateway] = []
    for index in range(MAX_ZONES):
        public = _add_public_subnet(template, vpc, index, cidrs, public_routes)
        nat_gateways.append(_add_nat_gateway(template, index, public, attachment))
        subnet, route_table = _add_private_subnet(template, vpc, index, cidrs, nat_gateways)
        private_subnets.append(subnet)
        private_route_tables.append(route_table)

    _add_flow_logs(template, vpc, key, p)
    return Network(
        vpc=vpc,
        private_subnet_ids=_per_zone_ids(private_subnets),
        private_route_table_ids=_per_zone_ids(private_route_tables),
        first_private_subnet=private_subnets[0],
    )


def _add_public_subnet(template: Template, vpc: ec2.VPC, index: int, cidrs: Cidr, routes: ec2.RouteTable) -> ec2.Subnet:
    condition = _zone_condition(index)
    # NAT gateways hold Elastic IPs, so no subnet maps public IPs on launch.
    subnet = template.add_resource(_conditioned(ec2.Subnet(
        f"PublicSubnet{index + 1}",
        VpcId=Ref(vpc),
        AvailabilityZone=Select(index, GetAZs("")),
        CidrBlock=Select(index, cidrs),
        MapPublicIpOnLaunch=False,
        Tags=Tags(Name=Sub(f"${{AWS::StackName}}-public-{index + 1}")),
    ), condition))
    template.add_resource(_conditioned(ec2.SubnetRouteTableAssociation(
        f"PublicSubnet{index + 1}RouteTable",
        SubnetId=Ref(subnet),
        RouteTableId=Ref(routes),
    ), condition))
    return subnet


def _add_nat_gateway(template: Template, index: int, public: ec2.Subnet, attachment) -> ec2.NatGateway:
    # The first zone always has one, the others only with SingleNatGateway=false.
    condition = {0: None, 1: NAT_PER_AZ, 2: NAT_IN_THIRD_AZ}[index]
    address = template.add_resource(_conditioned(ec2.EIP(
        f"NatAddress{index + 1}", Domain="vpc", DependsOn=attachment
    ), condition))
    return template.add_resource(_conditioned(ec2.NatGateway(
        f"NatGateway{index + 1}",
        AllocationId=GetAtt(address, "AllocationId"),
        SubnetId=Ref(public),
        Tags=Tags(Name=Sub(f"${{AWS::StackName}}-nat-{index + 1}")),
    ), condition))


def _add_private_subnet(
    template: Template, vpc: ec2.VPC, index: int, cidrs: Cidr, nat_gateways: list[ec2.NatGateway]
) -> tuple[ec2.Subnet, ec2.RouteTable]:
    condition = _zone_condition(index)
    subnet = template.add_resource(_conditioned(ec2.Subnet(
        f"PrivateSubnet{index + 1}",
        VpcId=Ref(vpc),
        AvailabilityZone=Select(index, GetAZs("")),
        CidrBlock=Select(MAX_ZONES + index, cidrs),
        MapPublicIpOnLaunch=False,
        Tags=Tags(Name=Sub(f"${{AWS::StackName}}-private-{index + 1}")),
    ), condition))
    route_table = template.add_resource(_conditioned(
        ec2.RouteTable(f"PrivateRouteTable{index + 1}", VpcId=Ref(vpc)), condition
    ))
    # With a single NAT gateway every zone routes through the first one.
    first, own = Ref(nat_gateways[0]), Ref(nat_gateways[index])
    template.add_resource(_conditioned(ec2.Route(
        f"PrivateDefaultRoute{index + 1}",
        RouteTableId=Ref(route_table),
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=first if index == 0 else If(NAT_PER_AZ, own, first),
    ), condition))
    template.add_resource(_conditioned(ec2.SubnetRouteTableAssociation(
        f"PrivateSubnet{index + 1}RouteTable",
        SubnetId=Ref(subnet),
        RouteTableId=Ref(route_table),
    ), condition))
    return subnet, route_table


def _add_flow_logs(template: Template, vpc: ec2.VPC, key, p: StackParameters) -> None:
    group = add_log_group(template, "VpcFlowLogGroup", GetAtt(key, "Arn"), p)
    role = template.add_resource(
        iam.Role(
            "VpcFlowLogRole",
            AssumeRolePolicyDocument=policies.assume_role_policy(
                "vpc-flow-logs.amazonaws.com",
                StringEquals={"aws:SourceAccount": Ref("AWS::AccountId")},
            ),
            Policies=[
                iam.Policy(
                    PolicyName="write-flow-logs",
                    PolicyDocument=policies.policy_document(
                        policies.statement(
                            ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            [log_streams_arn(group)],
                        ),
                    ),
                )
            ],
        )
    )
    template.add_resource(
        ec2.FlowLog(
            "VpcFlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        )
    )


def add_vpc_endpoints(template: Template, network: Network, security_group: ec2.SecurityGroup) -> None:
    """Add the optional endpoints that keep image pulls and AWS API calls off NAT."""
    template.add_resource(
        ec2.VPCEndpoint(
            "S3GatewayEndpoint",
            Condition=VPC_ENDPOINTS,
            VpcId=Ref(network.vpc),
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
            VpcEndpointType="Gateway",
            RouteTableIds=network.private_route_table_ids,
        )
    )
    for service in INTERFACE_ENDPOINT_SERVICES:
        title = "".join(part.capitalize() for part in service.split(".")) + "Endpoint"
        template.add_resource(
            ec2.VPCEndpoint(
                title,
                Condition=VPC_ENDPOINTS,
                VpcId=Ref(network.vpc),
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                VpcEndpointType="Interface",
                PrivateDnsEnabled=True,
                SubnetIds=network.private_subnet_ids,
                SecurityGroupIds=[Ref(security_group)],
            )
        )
