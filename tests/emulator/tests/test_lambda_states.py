"""Lambda function states: Pending after create and publish, InProgress
after an update; what AWS refuses meanwhile, with its exact code and text."""

import pytest
from botocore.exceptions import ClientError

from conftest import active, distribution_config, wait_until, zip_bytes

BUSY = "The operation cannot be performed at this time. An update is in progress for resource: "


def make(aws, name):
    lam, iam = aws("lambda"), aws("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="nodejs22.x", Handler="index.handler", Role=role,
                        Code={"ZipFile": zip_bytes()}, MemorySize=128, Timeout=5)
    return lam


def conflict(call):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response
    assert err["Error"]["Code"] == "ResourceConflictException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    return err["Error"]["Message"]


def test_a_new_function_is_pending_and_refuses_updates_and_publishing(control, aws):
    control.config(delays={"lambda_create": 2000})  # 4 s at the test scale
    lam = make(aws, "st-new")
    c = lam.get_function_configuration(FunctionName="st-new")
    assert c["State"] == "Pending"
    message = conflict(lambda: lam.publish_version(FunctionName="st-new"))
    assert message == BUSY + c["FunctionArn"]
    conflict(lambda: lam.update_function_configuration(FunctionName="st-new", Description="x"))
    conflict(lambda: lam.update_function_code(FunctionName="st-new", ZipFile=zip_bytes("// 2")))
    control.config(delays={"lambda_create": 5})
    active(lam, "st-new")
    assert lam.publish_version(FunctionName="st-new")["Version"] == "1"


def test_an_update_is_in_progress_until_it_is_not(control, aws):
    lam = make(aws, "st-upd")
    active(lam, "st-upd")
    control.config(delays={"lambda_update": 2000})
    lam.update_function_code(FunctionName="st-upd", ZipFile=zip_bytes("// 2"))
    c = lam.get_function_configuration(FunctionName="st-upd")
    assert c["State"] == "Active" and c["LastUpdateStatus"] == "InProgress"
    conflict(lambda: lam.update_function_configuration(FunctionName="st-upd", Description="x"))
    conflict(lambda: lam.publish_version(FunctionName="st-upd"))
    control.config(delays={"lambda_update": 3})
    active(lam, "st-upd")
    lam.update_function_configuration(FunctionName="st-upd", Description="x")


def test_cloudfront_refuses_a_pending_version(control, aws):
    lam = make(aws, "st-cf")
    active(lam, "st-cf")
    control.config(delays={"lambda_publish": 2000})
    arn = lam.publish_version(FunctionName="st-cf")["FunctionArn"]
    assert lam.get_function_configuration(FunctionName=arn)["State"] == "Pending"
    cf = aws("cloudfront")
    with pytest.raises(ClientError) as e:
        cf.create_distribution(DistributionConfig=distribution_config("st-cf", lambda_arn=arn))
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidLambdaFunctionAssociation"
    assert err["Message"] == (
        f"The function must be in an Active state. The current state for function {arn} is Pending"
    )
    control.config(delays={"lambda_publish": 3})
    wait_until(lambda: lam.get_function_configuration(FunctionName=arn)["State"] == "Active", what="Active")
    cf.create_distribution(DistributionConfig=distribution_config("st-cf", lambda_arn=arn))
