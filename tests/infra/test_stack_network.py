"""Public IPs, subnets, security groups and endpoints in the built template."""

from __future__ import annotations

CLIENT_GROUPS = ("RelaySecurityGroup", "ProducerSecurityGroup", "BastionSecurityGroup")
PRIVATE_SUBNETS = ("PrivateSubnet1", "PrivateSubnet2", "PrivateSubnet3")


def test_service_assigns_no_public_ip(resources):
    network = resources["RelayService"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"


def test_service_runs_in_private_subnets(resources):
    subnets = resources["RelayService"]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    assert subnets["Fn::If"][1] == [{"Ref": name} for name in PRIVATE_SUBNETS]


def test_no_subnet_maps_public_ips(of_type):
    mapping = [name for name, subnet in of_type("AWS::EC2::Subnet").items()
               if subnet["Properties"].get("MapPublicIpOnLaunch") is not False]
    assert mapping == []


def test_public_subnets_hold_only_nat(of_type):
    users = {gateway["Properties"]["SubnetId"]["Ref"] for gateway in of_type("AWS::EC2::NatGateway").values()}
    assert users == {"PublicSubnet1", "PublicSubnet2", "PublicSubnet3"}


def test_private_routes_use_nat(of_type):
    routes = {name: r["Properties"] for name, r in of_type("AWS::EC2::Route").items() if name.startswith("Private")}
    without_nat = [name for name, route in routes.items() if "NatGatewayId" not in route]
    assert without_nat == []


def test_brokers_in_private_subnets(of_type):
    (cluster,) = of_type("AWS::MSK::Cluster").values()
    subnets = cluster["Properties"]["BrokerNodeGroupInfo"]["ClientSubnets"]
    assert subnets["Fn::If"][1] == [{"Ref": name} for name in PRIVATE_SUBNETS]


def test_brokers_not_public(of_type):
    (cluster,) = of_type("AWS::MSK::Cluster").values()
    access = cluster["Properties"]["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"]
    assert access == "DISABLED"


def test_lambda_in_private_subnets(resources):
    subnets = resources["ProducerFunction"]["Properties"]["VpcConfig"]["SubnetIds"]
    assert subnets["Fn::If"][1] == [{"Ref": name} for name in PRIVATE_SUBNETS]


def test_bastion_in_private_subnet(resources):
    assert resources["Bastion"]["Properties"]["SubnetId"] == {"Ref": "PrivateSubnet1"}


def test_bastion_has_no_public_interface(resources):
    assert "NetworkInterfaces" not in resources["Bastion"]["Properties"]


def test_bastion_has_no_key_pair(resources):
    assert "KeyName" not in resources["Bastion"]["Properties"]


def test_bastion_requires_imdsv2(resources):
    assert resources["Bastion"]["Properties"]["MetadataOptions"]["HttpTokens"] == "required"


def test_bastion_managed_by_ssm(resources):
    managed = resources["BastionRole"]["Properties"]["ManagedPolicyArns"]
    assert managed == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}]


def test_client_groups_have_no_inline_ingress(resources):
    with_ingress = [name for name in CLIENT_GROUPS if "SecurityGroupIngress" in resources[name]["Properties"]]
    assert with_ingress == []


def test_client_groups_receive_no_ingress_rules(of_type):
    targets = {rule["Properties"]["GroupId"]["Ref"] for rule in of_type("AWS::EC2::SecurityGroupIngress").values()}
    assert targets == {"BrokerSecurityGroup"}


def test_broker_ingress_ports(of_type):
    ports = {(rule["Properties"]["FromPort"], rule["Properties"]["ToPort"])
             for rule in of_type("AWS::EC2::SecurityGroupIngress").values()}
    assert ports == {(9098, 9098), (9096, 9096)}


def test_broker_ingress_from_groups_only(of_type):
    sources = {rule["Properties"]["SourceSecurityGroupId"]["Ref"]
               for rule in of_type("AWS::EC2::SecurityGroupIngress").values()}
    assert sources == set(CLIENT_GROUPS)


def test_scram_port_only_with_scram(of_type):
    scram_rules = [rule for rule in of_type("AWS::EC2::SecurityGroupIngress").values()
                   if rule["Properties"]["FromPort"] == 9096]
    assert {rule["Condition"] for rule in scram_rules} == {"UseScramForRelay", "CreateBastionWithScram"}


def test_client_egress_https_only_besides_kafka(resources):
    for name in CLIENT_GROUPS:
        (rule,) = resources[name]["Properties"]["SecurityGroupEgress"]
        assert (rule["FromPort"], rule["ToPort"]) == (443, 443), name


def test_vpc_flow_log(of_type):
    (flow_log,) = of_type("AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_endpoints_are_optional(of_type):
    conditions = {endpoint.get("Condition") for endpoint in of_type("AWS::EC2::VPCEndpoint").values()}
    assert conditions == {"CreateVpcEndpoints"}


def test_endpoint_services(of_type):
    services = {endpoint["Properties"]["ServiceName"]["Fn::Sub"].rsplit("}.", 1)[1]
                for endpoint in of_type("AWS::EC2::VPCEndpoint").values()}
    assert services == {"s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts"}
