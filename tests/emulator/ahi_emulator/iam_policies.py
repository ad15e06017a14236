"""The AWS managed IAM policies the emulator knows: the ones ahi-edge's
stack attaches, taken from moto's own copy of AWS's definitions."""

import json

ATTACHED_BY_AHI_EDGE = [
    "AWSLambdaBasicExecutionRole",
    "AmazonECSTaskExecutionRolePolicy",
]


def keep_only(names):
    import moto.iam.models as iam_models

    every = json.loads(iam_models.aws_managed_policies_data)
    missing = [n for n in names if n not in every]
    if missing:
        raise RuntimeError(f"moto has no managed policy named {missing}")
    iam_models.aws_managed_policies_data = json.dumps({n: every[n] for n in names})
